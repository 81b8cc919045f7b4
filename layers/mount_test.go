package layers

import (
	"archive/tar"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/testenv"
)

// mountFuncs are the two ways Mount can mount an overlay; the overlay
// tests run with both.
var mountFuncs = []struct {
	name  string
	mount func(target string, lowers []string, upper, work string) error
}{
	{"new-api", mountOverlay},
	{"classic", mountOverlayClassic},
}

// mkdirs makes directories named by base and returns their paths.
func mkdirs(t testing.TB, base string, names ...string) []string {
	t.Helper()
	var paths []string
	for _, n := range names {
		p := filepath.Join(base, n)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// unmountOnCleanup makes sure target is unmounted before the test's
// temporary directories are removed, whatever happened.
func unmountOnCleanup(t testing.TB, target string) {
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestMount(t *testing.T) {
	testenv.RequireRoot(t)
	for _, mf := range mountFuncs {
		t.Run(mf.name, func(t *testing.T) {
			base := t.TempDir()
			d := mkdirs(t, base, "l1", "l2", "l3", "upper", "work", "merged")
			l1, l2, l3, upper, work, merged := d[0], d[1], d[2], d[3], d[4], d[5]
			makeTree(t, l1, []node{
				{path: "a", kind: 'f', mode: 0o644, data: "l1 a"},
				{path: "keep", kind: 'f', mode: 0o644, data: "keep"},
				{path: "dir", kind: 'd', mode: 0o755},
				{path: "dir/x", kind: 'f', mode: 0o644, data: "x"},
				{path: "dir/y", kind: 'f', mode: 0o644, data: "y"},
			})
			makeTree(t, l2, []node{
				{path: "a", kind: 'f', mode: 0o644, data: "l2 a"},
				{path: "b", kind: 'f', mode: 0o644, data: "l2 b"},
			})
			makeTree(t, l3, []node{
				{path: "c", kind: 'f', mode: 0o644, data: "l3 c"},
				{path: "gone", kind: 'f', mode: 0o644, data: "to delete"},
				{path: "gone2", kind: 'f', mode: 0o644, data: "to delete"},
			})

			unmountOnCleanup(t, merged)
			if err := mf.mount(merged, []string{l3, l2, l1}, upper, work); err != nil {
				t.Fatalf("Mount = %v", err)
			}

			// The merged view: the topmost layer wins.
			for name, want := range map[string]string{"a": "l2 a", "b": "l2 b", "c": "l3 c", "keep": "keep", "dir/x": "x"} {
				if got := readFile(t, filepath.Join(merged, name)); got != want {
					t.Errorf("merged %s = %q, want %q", name, got, want)
				}
			}

			// Write, replace and delete through the mount.
			if err := os.WriteFile(filepath.Join(merged, "new"), []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(merged, "b"), []byte("changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"gone", "gone2"} {
				if err := os.Remove(filepath.Join(merged, name)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.RemoveAll(filepath.Join(merged, "dir")); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(merged, "dir"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(merged, "dir", "z"), []byte("z"), 0o644); err != nil {
				t.Fatal(err)
			}

			if err := Unmount(merged); err != nil {
				t.Fatalf("Unmount = %v", err)
			}
			if _, err := os.Stat(filepath.Join(merged, "a")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Unmount, merged/a: %v, want not exist", err)
			}

			// The upper directory is the diff, in layer directory form.
			want := []string{
				"b 0644 =changed",
				"dir/ 0755 opaque",
				"dir/z 0644 =z",
				"gone whiteout",
				"gone2 whiteout",
				"new 0644 =new",
			}
			got := describe(t, upper)
			// overlayfs may link whiteouts to one inode; describe shows
			// that as nlink, which does not matter here.
			for i, line := range got {
				if before, _, ok := strings.Cut(line, " nlink="); ok {
					got[i] = before
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("upper after Unmount =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			hdrs, contents := readTar(t, writeTar(t, upper))
			var names []string
			for _, h := range hdrs {
				names = append(names, h.Name)
				if strings.Contains(h.Name, ".wh.") && h.Typeflag != tar.TypeReg {
					t.Errorf("tar entry %s has type %q, want a regular file", h.Name, h.Typeflag)
				}
			}
			wantNames := []string{"b", "dir/", "dir/.wh..wh..opq", "dir/z", ".wh.gone", ".wh.gone2", "new"}
			if !slices.Equal(names, wantNames) {
				t.Errorf("WriteTar(upper) names = %q, want %q", names, wantNames)
			}
			if contents["b"] != "changed" {
				t.Errorf("WriteTar(upper) b = %q, want %q", contents["b"], "changed")
			}
		})
	}
}

// TestMountRepeatedLower: a layer that is a lower twice (two steps made
// the same layer) mounts, and shows what the stack shows: here the top
// occurrence puts back what the layer between deleted.
func TestMountRepeatedLower(t *testing.T) {
	testenv.RequireRoot(t)
	base := t.TempDir()
	d := mkdirs(t, base, "same/a", "rm", "upper", "work", "merged")
	same, rm, upper, work, merged := filepath.Dir(d[0]), d[1], d[2], d[3], d[4]
	if err := os.WriteFile(filepath.Join(d[0], "f"), []byte("f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(rm, "a"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := Mount(merged, []string{same, rm, same}, upper, work); err != nil {
		t.Fatalf("Mount(same, rm, same) = %v", err)
	}
	unmountOnCleanup(t, merged)
	if got := readFile(t, filepath.Join(merged, "a", "f")); got != "f\n" {
		t.Errorf("a/f = %q, want the top layer's", got)
	}
	if err := Unmount(merged); err != nil {
		t.Fatal(err)
	}
	if err := Mount(merged, []string{rm, same, rm}, "", ""); err != nil {
		t.Fatalf("Mount(rm, same, rm) = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(merged, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a under the top whiteout: %v, want it gone", err)
	}
	if err := Unmount(merged); err != nil {
		t.Fatal(err)
	}
}

func TestMountReadOnly(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name   string
		layers int
	}{
		{"one lower is a bind mount", 1},
		{"two lowers", 2},
		{"three lowers", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			merged := mkdirs(t, base, "merged")[0]
			var lowers []string
			for i := range tt.layers {
				l := mkdirs(t, base, "l"+string(rune('0'+i)))[0]
				makeTree(t, l, []node{{path: "f" + string(rune('0'+i)), kind: 'f', mode: 0o644, data: "x"}})
				lowers = append(lowers, l)
			}
			unmountOnCleanup(t, merged)
			if err := Mount(merged, lowers, "", ""); err != nil {
				t.Fatalf("Mount(%d lowers, read-only) = %v", tt.layers, err)
			}
			for i := range tt.layers {
				if _, err := os.Stat(filepath.Join(merged, "f"+string(rune('0'+i)))); err != nil {
					t.Errorf("merged view misses a file of lower %d: %v", i, err)
				}
			}
			err := os.WriteFile(filepath.Join(merged, "new"), nil, 0o644)
			if !errors.Is(err, unix.EROFS) {
				t.Errorf("writing to the read-only mount = %v, want EROFS", err)
			}
			if err := Unmount(merged); err != nil {
				t.Fatalf("Unmount = %v", err)
			}
		})
	}
}

// TestMountManyLowers mounts more lowers than mount(2)'s one page of
// options can name, which only the new mount API can do.
func TestMountManyLowers(t *testing.T) {
	testenv.RequireRoot(t)
	if !lowerdirPlus() {
		t.Skip("kernel before 6.8 has no lowerdir+")
	}
	base := t.TempDir()
	merged := mkdirs(t, base, "merged")[0]
	var lowers []string
	for i := range 120 {
		name := filepath.Join("a-rather-long-directory-name-for-a-layer", strings.Repeat("x", 20)+string(rune('A'+i%26))+string(rune('a'+i/26)))
		l := mkdirs(t, base, name)[0]
		lowers = append(lowers, l)
	}
	if n := len(strings.Join(lowers, ":")); n < os.Getpagesize() {
		t.Fatalf("lowers take %d bytes, want more than a page", n)
	}
	makeTree(t, lowers[len(lowers)-1], []node{{path: "bottom", kind: 'f', mode: 0o644, data: "bottom"}})
	unmountOnCleanup(t, merged)
	if err := Mount(merged, lowers, "", ""); err != nil {
		t.Fatalf("Mount(%d lowers) = %v", len(lowers), err)
	}
	if got := readFile(t, filepath.Join(merged, "bottom")); got != "bottom" {
		t.Errorf("merged bottom = %q, want %q", got, "bottom")
	}
	if err := Unmount(merged); err != nil {
		t.Fatal(err)
	}
	if err := mountOverlayClassic(merged, lowers, "", ""); err == nil {
		unix.Unmount(merged, 0)
		t.Errorf("mount(2) with %d lowers = nil, want an error about the page limit", len(lowers))
	}
}

func TestMountErrors(t *testing.T) {
	testenv.RequireRoot(t)
	base := t.TempDir()
	d := mkdirs(t, base, "l1", "upper", "work", "merged")
	l1, upper, work, merged := d[0], d[1], d[2], d[3]
	tests := []struct {
		name              string
		lowers            []string
		upper, work       string
		wantErrMentioning string
	}{
		{"no lowers", nil, upper, work, "no lower"},
		{"upper without work", []string{l1}, upper, "", "upper and work"},
		{"missing lower", []string{l1, filepath.Join(base, "missing")}, upper, work, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unmountOnCleanup(t, merged)
			err := Mount(merged, tt.lowers, tt.upper, tt.work)
			if err == nil || !strings.Contains(err.Error(), tt.wantErrMentioning) {
				t.Errorf("Mount = %v, want an error mentioning %q", err, tt.wantErrMentioning)
			}
		})
	}
	if err := Unmount(merged); err == nil {
		t.Error("Unmount(not a mount point) = nil, want an error")
	}
}

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"6.8.0", true},
		{"6.18.44-fc-v1147", true},
		{"7.0", true},
		{"6.7.12-amd64", false},
		{"5.15.0", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := kernelAtLeast(tt.release, 6, 8); got != tt.want {
			t.Errorf("kernelAtLeast(%q, 6, 8) = %v, want %v", tt.release, got, tt.want)
		}
	}
}
