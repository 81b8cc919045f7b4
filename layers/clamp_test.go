package layers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/testenv"
)

func lstatTimes(t *testing.T, p string) (atime, mtime time.Time) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Unix()), time.Unix(st.Mtim.Unix())
}

// TestClampTimes: entries later than the epoch get it, earlier ones keep
// their time to the nanosecond, symlinks are set themselves and not their
// targets, whiteouts and opaque directories stay what they are, and the
// clamped directory packs to the same bytes as the tar writer's own
// clamping of the untouched one.
func TestClampTimes(t *testing.T) {
	testenv.RequireRoot(t)
	epoch := time.Unix(1650000000, 0)
	old := time.Unix(1500000000, 987654321)
	outside := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	late := time.Unix(1800000000, 1)
	if err := os.Chtimes(outside, late, late); err != nil {
		t.Fatal(err)
	}
	// sampleTree's entries are at defaultMtime, after the epoch, except
	// srv/, before it.
	tree := append(sampleTree(),
		node{path: "old", kind: 'f', mode: 0o644, data: "old", mtime: old},
		node{path: "out", kind: 'l', data: outside},
		node{path: "oldlink", kind: 'l', data: "old", mtime: old},
	)
	dir, ref := t.TempDir(), t.TempDir()
	makeTree(t, dir, tree)
	makeTree(t, ref, tree)
	for _, d := range []string{dir, ref} {
		if err := os.Chtimes(d, late, late); err != nil {
			t.Fatal(err)
		}
	}

	if err := ClampTimes(dir, epoch); err != nil {
		t.Fatalf("ClampTimes = %v", err)
	}

	want := func(n node) time.Time {
		m := n.mtime
		if m.IsZero() {
			m = defaultMtime
		}
		if m.After(epoch) {
			return epoch
		}
		return m
	}
	for _, n := range tree {
		if n.kind == 'h' {
			continue // the time of the inode it shares, checked there
		}
		_, got := lstatTimes(t, filepath.Join(dir, n.path))
		if w := want(n); !got.Equal(w) {
			t.Errorf("ClampTimes(%v): %s mtime = %v, want %v", epoch, n.path, got, w)
		}
	}
	if _, got := lstatTimes(t, dir); !got.Equal(epoch) {
		t.Errorf("ClampTimes(%v): root mtime = %v, want the epoch", epoch, got)
	}
	if _, got := lstatTimes(t, outside); !got.Equal(late) {
		t.Errorf("symlink target outside the layer: mtime = %v, want %v (unchanged)", got, late)
	}
	if atime, _ := lstatTimes(t, filepath.Join(dir, "bin/busybox")); !atime.Equal(defaultMtime) {
		t.Errorf("bin/busybox atime = %v, want %v (unchanged)", atime, defaultMtime)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "etc/shadow"), &st); err != nil || !isWhiteoutDevice(&st) {
		t.Errorf("etc/shadow is no longer a whiteout device: %v", err)
	}
	if v, err := xattrValue(filepath.Join(dir, "usr"), opaqueXattr); err != nil || v != "y" {
		t.Errorf("usr opaque xattr = %q, %v, want y", v, err)
	}

	got, wantTar := writeTar(t, dir), writeTar(t, ref, WithSourceDateEpoch(epoch))
	if !bytes.Equal(got, wantTar) {
		gh, _ := readTar(t, got)
		wh, _ := readTar(t, wantTar)
		for i := range min(len(gh), len(wh)) {
			if gh[i].Name != wh[i].Name || !gh[i].ModTime.Equal(wh[i].ModTime) {
				t.Errorf("entry %d: %s %v, want %s %v", i, gh[i].Name, gh[i].ModTime, wh[i].Name, wh[i].ModTime)
			}
		}
		t.Fatalf("WriteTar(clamped dir) differs from WriteTar(dir, WithSourceDateEpoch): %d and %d bytes", len(got), len(wantTar))
	}

	// A second pass changes nothing.
	if err := ClampTimes(dir, epoch); err != nil {
		t.Fatal(err)
	}
	if again := writeTar(t, dir); !bytes.Equal(again, got) {
		t.Error("a second ClampTimes changed the tar")
	}
}

// TestClampTimesPlain needs no root: files, directories and symlinks.
func TestClampTimesPlain(t *testing.T) {
	dir := t.TempDir()
	old := time.Unix(100, 5)
	makeTree(t, dir, []node{
		{path: "d", kind: 'd', mode: 0o755, mtime: old},
		{path: "d/new", kind: 'f', mode: 0o644, mtime: time.Unix(2000000000, 0)},
		{path: "link", kind: 'l', data: "d/new", mtime: time.Unix(2000000000, 0)},
	})
	epoch := time.Unix(1000, 0)
	if err := ClampTimes(dir, epoch); err != nil {
		t.Fatal(err)
	}
	for p, w := range map[string]time.Time{"d": old, "d/new": epoch, "link": epoch, ".": epoch} {
		if _, got := lstatTimes(t, filepath.Join(dir, p)); !got.Equal(w) {
			t.Errorf("ClampTimes(%v): %s mtime = %v, want %v", epoch, p, got, w)
		}
	}
	if err := ClampTimes(filepath.Join(dir, "missing"), epoch); err == nil {
		t.Error("ClampTimes(missing dir) = nil, want an error")
	}
}

func xattrValue(p, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
