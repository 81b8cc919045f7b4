package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/testenv"
)

// resolvers are the two ways Unpack resolves names; every Unpack test runs
// with both.
var resolvers = []struct {
	name    string
	openat2 bool
}{
	{"openat2", true},
	{"securejoin", false},
}

// describe lists what a layer directory holds, one line a path, sorted:
// "dir/ 0755", "file 0644 =content", "link -> target", "name whiteout",
// "dev c 1/3 0666", "fifo p 0600", with " uid:gid" when not root,
// " opaque", " nlink=N" and " xattr=value" for user and trusted xattrs
// other than overlayfs's.
func describe(t testing.TB, dir string) []string {
	t.Helper()
	var lines []string
	var xr xattrReader
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		perm := st.Mode & 0o7777
		var line string
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			line = fmt.Sprintf("%s/ %#o", rel, perm)
		case unix.S_IFREG:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line = fmt.Sprintf("%s %#o =%s", rel, perm, data)
		case unix.S_IFLNK:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			line = fmt.Sprintf("%s -> %s", rel, target)
		case unix.S_IFCHR, unix.S_IFBLK:
			if isWhiteoutDevice(&st) {
				line = rel + " whiteout"
				break
			}
			kind := "c"
			if st.Mode&unix.S_IFMT == unix.S_IFBLK {
				kind = "b"
			}
			line = fmt.Sprintf("%s %s %d/%d %#o", rel, kind, unix.Major(st.Rdev), unix.Minor(st.Rdev), perm)
		case unix.S_IFIFO:
			line = fmt.Sprintf("%s p %#o", rel, perm)
		default:
			line = fmt.Sprintf("%s type %#o", rel, st.Mode&unix.S_IFMT)
		}
		if st.Uid != 0 || st.Gid != 0 {
			line += fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		if st.Nlink > 1 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			line += fmt.Sprintf(" nlink=%d", st.Nlink)
		}
		xattrs, err := xr.read(path)
		if err != nil {
			return err
		}
		slices.SortFunc(xattrs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		for _, kv := range xattrs {
			switch {
			case kv[0] == opaqueXattr && kv[1] == "y":
				line += " opaque"
			case isOverlayXattr(kv[0]):
				// overlayfs bookkeeping such as trusted.overlay.origin
			case strings.HasPrefix(kv[0], "user.") || strings.HasPrefix(kv[0], "trusted."):
				line += fmt.Sprintf(" %s=%s", kv[0], kv[1])
			}
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatalf("describing %s: %v", dir, err)
	}
	return lines
}

func dirEntry(name string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}}
}

func fileEntry(name, body string) entry {
	return entry{hdr: tar.Header{Name: name, Mode: 0o644}, body: body}
}

func symlinkEntry(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func linkEntry(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}}
}

func TestUnpack(t *testing.T) {
	testenv.RequireRoot(t)
	// Parent directories come out 0755 whatever the umask.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	tests := []struct {
		name    string
		entries []entry
		want    []string
	}{
		{
			name: "whiteouts and opaque directories",
			entries: []entry{
				dirEntry("a/"), fileEntry("a/.wh.b", ""),
				dirEntry("c/"), fileEntry("c/.wh..wh..opq", ""), fileEntry("c/d", "x"),
				fileEntry("e/.wh..wh..opq", ""),
			},
			want: []string{"a/ 0755", "a/b whiteout", "c/ 0755 opaque", "c/d 0644 =x", "e/ 0755 opaque"},
		},
		{
			name: "whiteout removes an earlier entry",
			entries: []entry{
				fileEntry("f", "gone"), fileEntry(".wh.f", ""),
				dirEntry("g/"), fileEntry("g/h", "gone"), fileEntry(".wh.g", ""),
			},
			want: []string{"f whiteout", "g whiteout"},
		},
		{
			name: "aufs metadata is skipped",
			entries: []entry{
				dirEntry(".wh..wh.plnk/"), fileEntry(".wh..wh.plnk/1.2", "x"), fileEntry(".wh..wh.aufs", ""),
			},
			want: nil,
		},
		{
			name: "later entry replaces earlier",
			entries: []entry{
				fileEntry("x", "one"), fileEntry("x", "two"),
				dirEntry("y/"), fileEntry("y/inner", "i"), fileEntry("y", "file"),
				symlinkEntry("z", "x"), fileEntry("z", "not through the link"),
				fileEntry("w", "file"), dirEntry("w/"),
			},
			want: []string{"w/ 0755", "x 0644 =two", "y 0644 =file", "z 0644 =not through the link"},
		},
		{
			name: "directory over directory merges",
			entries: []entry{
				{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o700}},
				fileEntry("d/a", "a"),
				{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o750, Uid: 7, Gid: 8}},
			},
			want: []string{"d/ 0750 7:8", "d/a 0644 =a"},
		},
		{
			name:    "missing parents are created 0755",
			entries: []entry{fileEntry("p/q/r", "deep"), fileEntry("p/.wh.s", "")},
			want:    []string{"p/ 0755", "p/q/ 0755", "p/q/r 0644 =deep", "p/s whiteout"},
		},
		{
			name:    "names are cleaned",
			entries: []entry{fileEntry("/abs/f", "1"), fileEntry("./dot/./g", "2"), fileEntry("a/../b", "3"), fileEntry("h//i", "4")},
			want:    []string{"abs/ 0755", "abs/f 0644 =1", "b 0644 =3", "dot/ 0755", "dot/g 0644 =2", "h/ 0755", "h/i 0644 =4"},
		},
		{
			name: "modes owners devices and xattrs",
			entries: []entry{
				{hdr: tar.Header{Name: "su", Mode: 0o4755, Uid: 0, Gid: 0}, body: "su"},
				{hdr: tar.Header{Name: "wall", Mode: 0o2755, Uid: 0, Gid: 5}, body: "wall"},
				{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "tmp", Mode: 0o1777}},
				{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
				{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "loop", Mode: 0o660, Devmajor: 7, Devminor: 1, Gid: 6}},
				{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo", Mode: 0o600, Uid: 1000, Gid: 1000}},
				{hdr: tar.Header{Name: "x", Mode: 0o640, Uid: 1, Gid: 2, PAXRecords: map[string]string{
					"SCHILY.xattr.user.ok":                  "1",
					"SCHILY.xattr.trusted.overlay.redirect": "/etc",
					"SCHILY.xattr.trusted.overlay.opaque":   "y",
					"SCHILY.xattr.user.overlay.opaque":      "y",
				}}, body: "x"},
				{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "od", Mode: 0o755, PAXRecords: map[string]string{
					"SCHILY.xattr.trusted.overlay.opaque": "y",
				}}},
			},
			want: []string{
				"fifo p 0600 1000:1000", "loop b 7/1 0660 0:6", "null c 1/3 0666", "od/ 0755",
				"su 04755 =su", "tmp/ 01777", "wall 02755 =wall 0:5", "x 0640 =x 1:2 user.ok=1",
			},
		},
		{
			name:    "hard links",
			entries: []entry{fileEntry("f", "data"), linkEntry("g", "f"), linkEntry("/h", "/f")},
			want:    []string{"f 0644 =data nlink=3", "g 0644 =data nlink=3", "h 0644 =data nlink=3"},
		},
		{
			name:    "symlinked parent is followed inside the root",
			entries: []entry{dirEntry("real/"), symlinkEntry("alias", "/real"), fileEntry("alias/f", "via alias")},
			want:    []string{"alias -> /real", "real/ 0755", "real/f 0644 =via alias"},
		},
	}
	for _, res := range resolvers {
		for _, tt := range tests {
			t.Run(res.name+"/"+tt.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "layer")
				if err := unpack(bytes.NewReader(tarOf(t, tt.entries)), dir, res.openat2); err != nil {
					t.Fatalf("Unpack = %v", err)
				}
				if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
					t.Errorf("layer root mode = %v, %v, want 0755 despite the umask", fi.Mode(), err)
				}
				got := describe(t, dir)
				if !slices.Equal(got, tt.want) {
					t.Errorf("Unpack gave\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			})
		}
	}
}

func TestUnpackRoundTrip(t *testing.T) {
	testenv.RequireRoot(t)
	src := t.TempDir()
	makeTree(t, src, sampleTree())
	want := writeTar(t, src)
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "layer")
			if err := unpack(bytes.NewReader(want), dst, res.openat2); err != nil {
				t.Fatalf("Unpack = %v", err)
			}
			got := writeTar(t, dst)
			if !bytes.Equal(got, want) {
				gotHdrs, _ := readTar(t, got)
				wantHdrs, _ := readTar(t, want)
				for i := range min(len(gotHdrs), len(wantHdrs)) {
					if fmt.Sprint(*gotHdrs[i]) != fmt.Sprint(*wantHdrs[i]) {
						t.Errorf("entry %d:\n got %+v\nwant %+v", i, *gotHdrs[i], *wantHdrs[i])
					}
				}
				t.Fatalf("WriteTar(Unpack(WriteTar(dir))) differs: %d entries, want %d", len(gotHdrs), len(wantHdrs))
			}

			// Spot checks of what the tar cannot show by itself.
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(dst, "etc/passwd"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Uid != 1000 || st.Gid != 1001 || st.Mtim != timespec(defaultMtime) {
				t.Errorf("etc/passwd: owner %d:%d mtime %v, want 1000:1001 %v", st.Uid, st.Gid, st.Mtim, timespec(defaultMtime))
			}
			var busybox, ls unix.Stat_t
			unix.Lstat(filepath.Join(dst, "bin/busybox"), &busybox)
			unix.Lstat(filepath.Join(dst, "bin/ls"), &ls)
			if busybox.Ino != ls.Ino {
				t.Errorf("bin/ls and bin/busybox are not one inode")
			}
			if v, err := (&xattrReader{}).get(filepath.Join(dst, "usr"), opaqueXattr); err != nil || v != "y" {
				t.Errorf("usr %s = %q, %v, want y", opaqueXattr, v, err)
			}
		})
	}
}

func TestUnpackRootEntry(t *testing.T) {
	testenv.RequireRoot(t)
	mtime := time.Unix(1234567890, 5)
	data := tarOf(t, []entry{
		{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o750, Uid: 3, Gid: 4, ModTime: mtime}},
		fileEntry("f", "x"),
	})
	for _, res := range resolvers {
		t.Run(res.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := unpack(bytes.NewReader(data), dir, res.openat2); err != nil {
				t.Fatalf("Unpack = %v", err)
			}
			var st unix.Stat_t
			if err := unix.Stat(dir, &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&0o7777 != 0o750 || st.Uid != 3 || st.Gid != 4 || st.Mtim != timespec(mtime) {
				t.Errorf("root = mode %#o owner %d:%d mtime %v, want 0750 3:4 %v", st.Mode&0o7777, st.Uid, st.Gid, st.Mtim, timespec(mtime))
			}
		})
	}
}

func TestUnpackSparse(t *testing.T) {
	content := string(make([]byte, 1<<20)) + "end" + string(make([]byte, 1<<20))
	data := tarOf(t, []entry{fileEntry("sparse", content)})
	dir := t.TempDir()
	if err := Unpack(bytes.NewReader(data), dir); err != nil {
		t.Fatalf("Unpack = %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "sparse"))
	if err != nil || string(got) != content {
		t.Fatalf("sparse file: %d bytes, %v; want %d bytes equal to the entry", len(got), err, len(content))
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "sparse"), &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used >= int64(len(content)) {
		t.Errorf("sparse file uses %d bytes on disk for %d bytes of mostly zeros, want holes", used, len(content))
	}
}

func TestUnpackReadsToEnd(t *testing.T) {
	data := append(tarOf(t, []entry{fileEntry("f", "x")}), make([]byte, 10240)...)
	r := bytes.NewReader(data)
	if err := Unpack(r, t.TempDir()); err != nil {
		t.Fatalf("Unpack = %v", err)
	}
	if r.Len() != 0 {
		t.Errorf("Unpack left %d bytes of its input unread", r.Len())
	}
}

func TestUnpackBadInput(t *testing.T) {
	good := tarOf(t, []entry{fileEntry("f", strings.Repeat("x", 5000))})
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated in content", good[:2560]},
		{"truncated in header", good[:100]},
		{"not a tar", bytes.Repeat([]byte("garbage!"), 200)},
		{"file at the root", tarOf(t, []entry{fileEntry(".", "")})},
		{"unknown type", tarOf(t, []entry{{hdr: tar.Header{Typeflag: 'V', Name: "vol"}}})},
		{"hard link to a missing file", tarOf(t, []entry{linkEntry("l", "missing")})},
		{"hard link to itself", tarOf(t, []entry{fileEntry("l", ""), linkEntry("l", "./l")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Unpack(bytes.NewReader(tt.data), t.TempDir()); err == nil {
				t.Errorf("Unpack(%s) = nil, want an error", tt.name)
			}
		})
	}
}

// hostileLayout makes base/outside (holding a victim file) and returns the
// layer directory base/x/y/z/layer, deep enough for "../../.." to reach
// base.
func hostileLayout(t testing.TB, base string) (dir, outside string) {
	t.Helper()
	outside = filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "x", "y", "z", "layer"), outside
}

// checkContained fails the test if anything changed below base outside
// the layer directory that hostileLayout made.
func checkContained(t testing.TB, base string) {
	t.Helper()
	allowed := map[string]bool{
		"outside": true, "outside/victim": true,
		"x": true, "x/y": true, "x/y/z": true, "x/y/z/layer": true,
	}
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		if rel == "x/y/z/layer" {
			return filepath.SkipDir
		}
		if rel != "." && !allowed[rel] {
			t.Errorf("unpacking created %s outside the layer directory", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(base, "outside", "victim")
	if data, err := os.ReadFile(victim); err != nil || string(data) != "untouched" {
		t.Errorf("victim = %q, %v, want untouched", data, err)
	}
	if fi, err := os.Lstat(victim); err != nil || fi.Mode() != 0o644 {
		t.Errorf("victim mode = %v, %v, want -rw-r--r--", fi.Mode(), err)
	}
	for _, p := range []string{filepath.Join(base, "outside"), victim} {
		if names, err := (&xattrReader{}).read(p); err != nil || len(names) != 0 {
			t.Errorf("%s xattrs = %q, %v, want none", p, names, err)
		}
	}
}

func TestUnpackHostile(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name string
		// entries builds the tar, given the absolute path of outside.
		entries func(outside string) []entry
		// wantErr is the error wanted (errors.Is), nil for success.
		wantErr error
		// wantEntry is the entry name the error must quote.
		wantEntry string
		// want lists paths that must exist in the layer directory.
		want []string
	}{
		{
			name:    "dot-dot",
			entries: func(string) []entry { return []entry{fileEntry("../evil", "x")} },
			wantErr: ErrUnsafePath, wantEntry: "../evil",
		},
		{
			name:    "absolute dot-dot",
			entries: func(string) []entry { return []entry{fileEntry("/abs/../../evil", "x")} },
			wantErr: ErrUnsafePath, wantEntry: "/abs/../../evil",
		},
		{
			name:    "deep dot-dot to a real path",
			entries: func(string) []entry { return []entry{fileEntry("a/../../../../../outside/victim", "x")} },
			wantErr: ErrUnsafePath, wantEntry: "a/../../../../../outside/victim",
		},
		{
			name:    "dot-dot directory",
			entries: func(string) []entry { return []entry{dirEntry("../../../../outside/newdir/")} },
			wantErr: ErrUnsafePath, wantEntry: "../../../../outside/newdir/",
		},
		{
			name:    "symlink to root then a file below it",
			entries: func(string) []entry { return []entry{symlinkEntry("a", "/"), fileEntry("a/etc/x", "in root")} },
			want:    []string{"a", "etc/x"},
		},
		{
			name:    "symlink climbing out then a file below it",
			entries: func(string) []entry { return []entry{symlinkEntry("b", "../../.."), fileEntry("b/x", "in root")} },
			want:    []string{"b", "x"},
		},
		{
			name: "symlink to the real outside path",
			entries: func(outside string) []entry {
				return []entry{
					dirEntry(outside + "/"),
					symlinkEntry("c", outside), fileEntry("c/victim", "overwritten"), dirEntry("c/sub/"),
				}
			},
			want: []string{"c", "OUTSIDE/victim", "OUTSIDE/sub"},
		},
		{
			name: "dangling symlink to the real outside path",
			entries: func(outside string) []entry {
				return []entry{symlinkEntry("c", outside), fileEntry("c/victim", "overwritten")}
			},
			wantErr: fs.ErrNotExist, wantEntry: "c/victim",
		},
		{
			name: "nested symlink climbing out",
			entries: func(string) []entry {
				return []entry{dirEntry("d/"), symlinkEntry("d/up", "../../../../.."), fileEntry("d/up/outside/victim", "x")}
			},
			want: []string{"d/up", "outside/victim"},
		},
		{
			name: "entry replaces a symlink instead of writing through it",
			entries: func(outside string) []entry {
				victim := filepath.Join(outside, "victim")
				return []entry{
					symlinkEntry("f", victim), fileEntry("f", "replaced"),
					symlinkEntry("g", outside), dirEntry("g/"),
					symlinkEntry("h", victim), {hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "h", Mode: 0o600}},
					symlinkEntry("i", victim), fileEntry(".wh.i", ""),
				}
			},
			want: []string{"f", "g", "h", "i"},
		},
		{
			name:    "hard link climbing out",
			entries: func(string) []entry { return []entry{linkEntry("l", "../../etc/passwd")} },
			wantErr: ErrUnsafePath, wantEntry: "l",
		},
		{
			name: "hard link through a symlink resolves inside the root",
			entries: func(outside string) []entry {
				return []entry{symlinkEntry("s", outside), linkEntry("h", "s/victim")}
			},
			wantErr: fs.ErrNotExist, wantEntry: "h",
		},
		{
			name: "hard link to a symlink links the symlink",
			entries: func(outside string) []entry {
				return []entry{symlinkEntry("p", filepath.Join(outside, "victim")), linkEntry("h", "p"), fileEntry("h2", "x")}
			},
			want: []string{"p", "h"},
		},
		{
			name:    "whiteout of dot-dot",
			entries: func(string) []entry { return []entry{fileEntry(".wh...", "")} },
			wantErr: ErrInvalidWhiteout, wantEntry: ".wh...",
		},
		{
			name:    "whiteout of dot",
			entries: func(string) []entry { return []entry{fileEntry("a/.wh..", "")} },
			wantErr: ErrInvalidWhiteout, wantEntry: "a/.wh..",
		},
		{
			name:    "whiteout above the root",
			entries: func(string) []entry { return []entry{fileEntry("../.wh.x", "")} },
			wantErr: ErrUnsafePath, wantEntry: "../.wh.x",
		},
		{
			name: "whiteout and opaque below a symlink to outside",
			entries: func(outside string) []entry {
				return []entry{
					dirEntry(outside + "/"),
					symlinkEntry("o", outside), fileEntry("o/.wh.victim", ""), fileEntry("o/.wh..wh..opq", ""),
				}
			},
			want: []string{"o", "OUTSIDE/victim"},
		},
		{
			name: "overlay xattrs from the tar are dropped",
			entries: func(string) []entry {
				return []entry{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "r/", Mode: 0o755, PAXRecords: map[string]string{
					"SCHILY.xattr.trusted.overlay.redirect": "/../../outside",
				}}}}
			},
			want: []string{"r"},
		},
	}
	for _, res := range resolvers {
		for _, tt := range tests {
			t.Run(res.name+"/"+tt.name, func(t *testing.T) {
				base := t.TempDir()
				dir, outside := hostileLayout(t, base)
				err := unpack(bytes.NewReader(tarOf(t, tt.entries(outside))), dir, res.openat2)
				checkContained(t, base)
				switch {
				case tt.wantErr == nil && err != nil:
					t.Fatalf("Unpack = %v, want success inside the root", err)
				case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
					t.Fatalf("Unpack = %v, want %v", err, tt.wantErr)
				case tt.wantErr != nil && !strings.Contains(err.Error(), fmt.Sprintf("entry %q", tt.wantEntry)):
					t.Errorf("Unpack = %q, want it to name entry %q", err, tt.wantEntry)
				}
				for _, p := range tt.want {
					p = strings.Replace(p, "OUTSIDE", strings.TrimPrefix(outside, "/"), 1)
					if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
						t.Errorf("want %s inside the layer directory: %v", p, err)
					}
				}
				if names, _ := (&xattrReader{}).read(filepath.Join(dir, "r")); len(names) != 0 {
					t.Errorf("r xattrs = %q, want none", names)
				}
			})
		}
	}
}

// FuzzUnpack checks that no tar makes Unpack panic or write outside its
// directory. Each run touches the filesystem, whose error paths make
// coverage vary from run to run; keep minimization short or the fuzzer
// spends its time there:
//
//	go test -run XXX -fuzz FuzzUnpack -fuzzminimizetime 10x ./layers
func FuzzUnpack(f *testing.F) {
	seeds := [][]entry{
		{dirEntry("a/"), fileEntry("a/.wh.b", ""), fileEntry("a/.wh..wh..opq", ""), fileEntry("a/c", "c")},
		{symlinkEntry("a", "/"), fileEntry("a/etc/x", "x")},
		{symlinkEntry("b", "../../.."), fileEntry("b/x", "x"), linkEntry("h", "b/x")},
		{fileEntry("../evil", "x")},
		{linkEntry("l", "../../etc/passwd")},
		{fileEntry(".wh...", ""), fileEntry("../.wh.x", "")},
		{fileEntry("f", "1"), dirEntry("f/"), fileEntry("f/g", "2"), fileEntry("f", "3")},
		{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "c", Devmajor: 1, Devminor: 3}}, {hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "p"}}},
	}
	for _, s := range seeds {
		f.Add(tarOf(f, s))
	}
	// One layout for the whole run, one base per resolver, with the layer
	// directory removed after each input: on ext4 a mkdir costs ~0.2 ms,
	// and a fresh t.TempDir and hostileLayout per input made about ten of
	// them, most of an input's time.
	bases := make([]string, len(resolvers))
	for i := range resolvers {
		bases[i] = f.TempDir()
		hostileLayout(f, bases[i])
		if err := os.MkdirAll(filepath.Join(bases[i], "x", "y", "z"), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Skip archives whose files are large (a tiny sparse header can
		// claim terabytes), to keep each run short.
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			if hdr.Size > 1<<20 {
				return
			}
		}
		for i, res := range resolvers {
			base := bases[i]
			dir := filepath.Join(base, "x", "y", "z", "layer")
			unpack(bytes.NewReader(data), dir, res.openat2)
			checkContained(t, base)
			makeRemovable(dir)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// makeRemovable gives the owner full access to every directory below
// root, so that an unprivileged test can remove what a tar made read-only.
func makeRemovable(root string) {
	if os.Geteuid() == 0 {
		return
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o700)
		}
		return nil
	})
}

// BenchmarkUnpack unpacks the tar of about 2000 files and 50 MB; MB/s is
// of tar input.
func BenchmarkUnpack(b *testing.B) {
	src := b.TempDir()
	makeBenchTree(b, src, 2000, 50<<20)
	data := writeTar(b, src)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		dst := filepath.Join(b.TempDir(), "layer")
		if err := Unpack(bytes.NewReader(data), dst); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}
