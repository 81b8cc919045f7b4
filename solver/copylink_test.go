package solver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	fscopy "github.com/tonistiigi/fsutil/copy"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/testenv"
	"github.com/stratabuild/strata/layers"
)

// TestLinkCopyMatchesCopy: COPY of a context directory made by linkCopy
// gives the layer directory fscopy.Copy gives (names, types, modes,
// owners, times, link targets, contents, xattrs such as overlay's opaque
// marker), where it applies and where it declines; and a later sync that
// rewrites a context file leaves the layer's file as it was.
func TestLinkCopyMatchesCopy(t *testing.T) {
	testenv.RequireRoot(t)
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	past := time.Date(2021, 3, 4, 5, 6, 7, 890, time.UTC)
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{
		"app/a.txt":             "a\n",
		"app/bin/run.sh":        "#!/bin/sh\n",
		"app/secret":            "s\n",
		"app/suid":              "u\n",
		"app/sticky/f":          "f\n",
		"app/sub/deep/x.txt":    "x\n",
		"app/sub/deep/y.txt":    "y\n",
		"other/readme":          "r\n",
		"app/sub/deep/more/z.c": "int main;\n",
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	in := func(p string) string { return filepath.Join(ctxDir, p) }
	must(os.Mkdir(in("app/empty"), 0o700))
	must(os.Chmod(in("app/bin/run.sh"), 0o755))
	must(os.Chmod(in("app/secret"), 0o600))
	must(unix.Chmod(in("app/suid"), 0o4755))
	must(unix.Chmod(in("app/sticky"), 0o1777))
	must(os.Symlink("a.txt", in("app/link")))
	must(os.Symlink("/etc/passwd", in("app/abs")))
	must(os.Symlink("nowhere", in("app/dangling")))
	must(os.Symlink("app", in("toplink")))
	// Distinct past times on everything, directories last.
	var dirs []string
	must(filepath.WalkDir(ctxDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == ctxDir {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		past = past.Add(time.Hour)
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{unix.NsecToTimespec(past.UnixNano()), unix.NsecToTimespec(past.UnixNano())}, unix.AT_SYMLINK_NOFOLLOW)
	}))
	for i := len(dirs) - 1; i >= 0; i-- {
		past = past.Add(time.Hour)
		must(os.Chtimes(dirs[i], past, past))
	}
	m := syncMirror(t, s, ctxDir)

	// Two lower layers, topmost first: lower2 deletes /gone and
	// /existing2/a.txt (whiteout devices); lower1 has /link -> real.
	lower1, lower2 := filepath.Join(s.dir, "lower1"), filepath.Join(s.dir, "lower2")
	for _, d := range []string{"etc", "existing", "existing2", "gone", "real"} {
		must(os.MkdirAll(filepath.Join(lower1, d), 0o755))
	}
	writeFiles(t, lower1, map[string]string{
		"etc/passwd": "root:x:0:0::/root:/bin/sh\n", "existing/a.txt": "old\n", "existing/keep": "k\n",
		"existing2/a.txt": "old\n", "gone/x": "x\n",
	})
	must(os.Symlink("real", filepath.Join(lower1, "link")))
	// /sg: setgid, group 50; /acl: a default ACL (user 1000 rwx).
	must(os.Mkdir(filepath.Join(lower1, "sg"), 0o755))
	must(unix.Chmod(filepath.Join(lower1, "sg"), 0o2775))
	must(os.Lchown(filepath.Join(lower1, "sg"), 0, 50))
	must(os.Mkdir(filepath.Join(lower1, "acl"), 0o755))
	must(unix.Setxattr(filepath.Join(lower1, "acl"), "system.posix_acl_default", defaultACL(1000), 0))
	must(os.MkdirAll(filepath.Join(lower2, "existing2"), 0o755))
	must(unix.Mknod(filepath.Join(lower2, "gone"), unix.S_IFCHR, 0))
	must(unix.Mknod(filepath.Join(lower2, "existing2", "a.txt"), unix.S_IFCHR, 0))
	lowers := []string{lower2, lower1}

	start := time.Now()
	root := func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: 0, GID: 0}, nil }
	opts := []fscopy.Opt{func(ci *fscopy.CopyInfo) {
		ci.Chown = root
		ci.CopyDirContents = true
		ci.FollowLinks = true
		ci.XAttrErrorHandler = ignoreXattrErrors
	}}
	// snap mounts a fresh snapshot over lowers, runs f on it and returns
	// its upper directory.
	snap := func(f func(sn snapshot) error) string {
		t.Helper()
		tmp, err := s.tempDir("snap-*")
		must(err)
		sn := snapshot{root: filepath.Join(tmp, "root"), upper: filepath.Join(tmp, "upper"), lowers: lowers}
		for _, d := range []string{sn.root, sn.upper, filepath.Join(tmp, "work")} {
			must(os.Mkdir(d, 0o755))
		}
		must(layers.Mount(sn.root, lowers, sn.upper, filepath.Join(tmp, "work")))
		ferr := f(sn)
		must(layers.Unmount(sn.root))
		must(ferr)
		return sn.upper
	}

	for _, tc := range []struct {
		src, dest string
		linked    bool
	}{
		{"app", "/app", true},
		{"app", "/app/", true},
		{"app", "/new/deeper/", true},      // parents made by the copy
		{"app/sub", "/existing", true},     // a directory of a lower layer
		{"app", "/gone/", true},            // deleted in lower2: made opaque
		{"toplink", "/tl", true},           // a symlink to a directory
		{".", "/ctx", true},                // the whole context
		{"app", "/sg/", true},              // setgid, group 50: what is made is root's
		{"app", "/acl/", false},            // default ACL: new files get ACLs
		{"app", "/existing/", false},       // a.txt is in a lower layer
		{"app", "/existing2/", false},      // a.txt is a whiteout in lower2
		{"app", "/link/", false},           // a symlink on the way
		{"app", "/", false},                // the root
		{"other/readme", "/readme", false}, // a file
	} {
		t.Run(strings.ReplaceAll(tc.src+"->"+tc.dest, "/", "_"), func(t *testing.T) {
			src, err := m.resolve(tc.src)
			must(err)
			want := snap(func(sn snapshot) error {
				return fscopy.Copy(context.Background(), m.dir, "/"+src, sn.root, tc.dest, opts...)
			})
			var linked bool
			got := snap(func(sn snapshot) error {
				var err error
				if linked, err = linkCopy(context.Background(), m, src, sn, tc.dest, opts...); err != nil || linked {
					return err
				}
				return fscopy.Copy(context.Background(), m.dir, "/"+src, sn.root, tc.dest, opts...)
			})
			if linked != tc.linked {
				t.Errorf("linkCopy applied: %v, want %v", linked, tc.linked)
			}
			w, g := describeTree(t, want, start), describeTree(t, got, start)
			if w != g {
				t.Errorf("layer directories differ\nfscopy:\n%s\nlinkCopy:\n%s", w, g)
			}
			if !strings.Contains(w, "sha256=") {
				t.Fatalf("the copy copied nothing:\n%s", w)
			}
			// Unlinks the mirror's files again for the next case.
			must(os.RemoveAll(filepath.Dir(got)))
		})
	}

	// Files a layer links already are copied: a second COPY of them in
	// a stage must not give two paths to one inode.
	first := snap(func(sn snapshot) error {
		_, err := linkCopy(context.Background(), m, "app", sn, "/app", opts...)
		return err
	})
	second := snap(func(sn snapshot) error {
		linked, err := linkCopy(context.Background(), m, "app", sn, "/again", opts...)
		if err == nil && linked {
			err = fmt.Errorf("linkCopy linked files a layer links already")
		}
		if err != nil {
			return err
		}
		return fscopy.Copy(context.Background(), m.dir, "/app", sn.root, "/again", opts...)
	})
	var a, b unix.Stat_t
	must(unix.Lstat(filepath.Join(first, "app/a.txt"), &a))
	must(unix.Lstat(filepath.Join(second, "again/a.txt"), &b))
	if a.Ino == b.Ino || b.Nlink != 1 {
		t.Errorf("second copy: inode %d (first %d), %d links; want a file of its own", b.Ino, a.Ino, b.Nlink)
	}
	if _, err := os.Lstat(filepath.Join(second, "again/sub")); err != nil {
		t.Errorf("second copy: %v", err)
	}
	must(os.RemoveAll(filepath.Dir(first)))
	must(os.RemoveAll(filepath.Dir(second)))

	// A sync replaces a changed file, never writes it in place: a layer
	// that links the old file keeps the old content.
	upper := snap(func(sn snapshot) error {
		linked, err := linkCopy(context.Background(), m, "app", sn, "/app", opts...)
		if err == nil && !linked {
			err = fmt.Errorf("linkCopy did not apply")
		}
		return err
	})
	if err := os.WriteFile(in("app/a.txt"), []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(os.Chtimes(in("app/a.txt"), past, past))
	m = syncMirror(t, s, ctxDir)
	if data, err := os.ReadFile(filepath.Join(m.dir, "app/a.txt")); err != nil || string(data) != "b\n" {
		t.Fatalf("mirror: %q, %v", data, err)
	}
	if data, err := os.ReadFile(filepath.Join(upper, "app/a.txt")); err != nil || string(data) != "a\n" {
		t.Errorf("the layer's app/a.txt after the context changed: %q, %v; want it unchanged", data, err)
	}
}

// defaultACL is a system.posix_acl_default value (the kernel's xattr
// form: version 2, then tag, permissions and id per entry, sorted by tag)
// giving uid rwx.
func defaultACL(uid uint32) []byte {
	const undefined = 0xffffffff
	entries := []struct {
		tag, perm uint16
		id        uint32
	}{{0x01, 7, undefined}, {0x02, 7, uid}, {0x04, 5, undefined}, {0x10, 7, undefined}, {0x20, 5, undefined}}
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// describeTree lists every entry below dir with its type, mode, owner,
// modification time, size, content digest, link target, device and
// xattrs. A time after start (set by the copy as it ran) is written as
// "now".
func describeTree(t *testing.T, dir string, start time.Time) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		mtime := time.Unix(st.Mtim.Unix())
		when := mtime.UTC().Format(time.RFC3339Nano)
		if !mtime.Before(start) {
			when = "now"
		}
		line := fmt.Sprintf("%s %o %d:%d %s size=%d", rel, st.Mode, st.Uid, st.Gid, when, st.Size)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" sha256=%x", sha256.Sum256(data))
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		case unix.S_IFCHR, unix.S_IFBLK:
			line += fmt.Sprintf(" dev=%d", st.Rdev)
		}
		buf := make([]byte, 4096)
		n, err := unix.Llistxattr(p, buf)
		if err != nil {
			return err
		}
		names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
		sort.Strings(names)
		for _, name := range names {
			if name == "" || name == "trusted.overlay.uuid" { // random per mount
				continue
			}
			val := make([]byte, 4096)
			vn, err := unix.Lgetxattr(p, name, val)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %s=%q", name, val[:vn])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
