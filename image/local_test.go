package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// filesystemImage is a three-layer image exercising whiteouts, opaque
// directories, links, modes and hostile paths.
func filesystemImage(t *testing.T) v1.Image {
	t.Helper()
	s := openStore(t)
	base := storeLayer(t, s, types.OCILayer, []entry{
		{name: "./", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/passwd", body: "root:x:0:0\n"},
		{name: "etc/keep", body: "keep\n"},
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/busybox", body: "BUSYBOX", mode: 0o755},
		{name: "bin/su", body: "SU", mode: 0o4755},
		{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
		{name: "bin/ls", typ: tar.TypeLink, link: "bin/busybox"},
		{name: "opaque/", typ: tar.TypeDir},
		{name: "opaque/old", body: "old"},
		{name: "opaque/sub/", typ: tar.TypeDir},
		{name: "opaque/sub/old2", body: "old2"},
		{name: "opaque2/", typ: tar.TypeDir},
		{name: "opaque2/old", body: "old"},
		{name: "gone/", typ: tar.TypeDir},
		{name: "gone/file", body: "x"},
		{name: "usr/lib/", typ: tar.TypeDir},
		{name: "usr/lib/libc.so", body: "libc"},
		{name: "hl/", typ: tar.TypeDir},
		{name: "hl/target", body: "linked content"},
		{name: "hl/link", typ: tar.TypeLink, link: "hl/target"},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "dev/", typ: tar.TypeDir},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666, devmajor: 1, devminor: 3},
	})
	upper := storeLayer(t, s, types.OCILayerZStd, []entry{
		{name: "etc/.wh.passwd"},
		{name: ".wh.gone"},
		// An opaque marker after this layer's own entry, and one before.
		{name: "opaque/new", body: "new"},
		{name: "opaque/.wh..wh..opq"},
		{name: "opaque2/.wh..wh..opq"},
		{name: "opaque2/new", body: "new"},
		// A file replaces a directory.
		{name: "usr/lib", body: "now a file"},
		// The hard link outlives its target.
		{name: "hl/.wh.target"},
		{name: "home/", typ: tar.TypeDir},
		{name: "home/user", body: "mine", uid: 1000},
	})
	hostile := storeLayer(t, s, types.OCILayer, []entry{
		{name: "../escape", body: "dotdot"},
		{name: "/abs", body: "absolute"},
		{name: "evil", typ: tar.TypeSymlink, link: "/"},
		{name: "evil/etc/pwned", body: "through an absolute symlink"},
		{name: "up", typ: tar.TypeSymlink, link: "../../../.."},
		{name: "up/outside", body: "through a relative symlink"},
		{name: "hl/escape", typ: tar.TypeLink, link: "../../../bin/busybox"},
	})
	return testImage(t, base, upper, hostile)
}

func TestWriteLocal(t *testing.T) {
	img := filesystemImage(t)
	parent := t.TempDir()
	dest := filepath.Join(parent, "rootfs")
	if err := WriteLocal(img, dest); err != nil {
		t.Fatalf("WriteLocal() = %v", err)
	}
	if got := listDir(t, parent); got != "rootfs" {
		t.Errorf("%s holds %q, want only rootfs: something escaped", parent, got)
	}
	if _, err := os.Stat("/etc/pwned"); err == nil {
		t.Fatal("/etc/pwned exists: an entry escaped through a symlink")
	}

	type check struct {
		path    string
		exists  bool
		content string      // for regular files
		mode    os.FileMode // permission and special bits, if non-zero
		link    string      // symlink target
	}
	checks := []check{
		{path: "etc/passwd"},
		{path: "etc/keep", exists: true, content: "keep\n", mode: 0o644},
		{path: "bin/busybox", exists: true, content: "BUSYBOX", mode: 0o755},
		{path: "bin/su", exists: true, content: "SU", mode: 0o755 | os.ModeSetuid},
		{path: "bin/sh", exists: true, link: "busybox"},
		{path: "bin/ls", exists: true, content: "BUSYBOX"},
		{path: "opaque/old"},
		{path: "opaque/sub"},
		{path: "opaque/new", exists: true, content: "new"},
		{path: "opaque2/old"},
		{path: "opaque2/new", exists: true, content: "new"},
		{path: "gone"},
		{path: "usr/lib", exists: true, content: "now a file"},
		{path: "hl/target"},
		{path: "hl/link", exists: true, content: "linked content"},
		{path: "tmp", exists: true, mode: 0o777 | os.ModeSticky | os.ModeDir},
		{path: "escape", exists: true, content: "dotdot"},
		{path: "abs", exists: true, content: "absolute"},
		{path: "evil", exists: true, link: "/"},
		{path: "etc/pwned", exists: true, content: "through an absolute symlink"},
		{path: "outside", exists: true, content: "through a relative symlink"},
		{path: "hl/escape", exists: true, content: "BUSYBOX"},
	}
	for _, c := range checks {
		p := filepath.Join(dest, c.path)
		fi, err := os.Lstat(p)
		if !c.exists {
			if err == nil {
				t.Errorf("%s exists, want it removed", c.path)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if c.link != "" {
			if got, _ := os.Readlink(p); got != c.link {
				t.Errorf("%s -> %q, want -> %q", c.path, got, c.link)
			}
			continue
		}
		if c.content != "" {
			if b, _ := os.ReadFile(p); string(b) != c.content {
				t.Errorf("%s = %q, want %q", c.path, b, c.content)
			}
		}
		if c.mode != 0 {
			if got := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSticky | os.ModeDir); got != c.mode {
				t.Errorf("%s mode = %v, want %v", c.path, got, c.mode)
			}
		}
		if got := fi.ModTime().Unix(); !fi.IsDir() && got != 1700000000 {
			t.Errorf("%s mtime = %d, want 1700000000", c.path, got)
		}
	}
	if !sameFile(t, filepath.Join(dest, "bin/ls"), filepath.Join(dest, "bin/busybox")) {
		t.Errorf("bin/ls is not a hard link to bin/busybox")
	}

	if os.Geteuid() == 0 {
		fi, err := os.Stat(filepath.Join(dest, "home/user"))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("home/user owner = %d:%d, want 1000:1000", st.Uid, st.Gid)
		}
		fi, err = os.Lstat(filepath.Join(dest, "dev/null"))
		if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("dev/null = %v, %v; want a character device", fi, err)
		}
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func TestWriteLocalDestination(t *testing.T) {
	img := filesystemImage(t)
	tests := []struct {
		name    string
		prepare func(dest string)
		wantErr string
	}{
		{name: "missing"},
		{name: "empty dir", prepare: func(dest string) { os.Mkdir(dest, 0o755) }},
		{name: "missing parents", prepare: func(string) {}},
		{name: "non-empty dir", prepare: func(dest string) {
			os.Mkdir(dest, 0o755)
			os.WriteFile(filepath.Join(dest, "mine"), nil, 0o644)
		}, wantErr: "not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out")
			if tt.name == "missing parents" {
				dest = filepath.Join(t.TempDir(), "a", "b", "out")
			}
			if tt.prepare != nil {
				tt.prepare(dest)
			}
			err := WriteLocal(img, dest)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("WriteLocal() = %v, want an error containing %q", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dest, "mine")); err != nil {
					t.Errorf("the existing content was touched: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteLocal() = %v", err)
			}
			if _, err := os.Stat(filepath.Join(dest, "etc/keep")); err != nil {
				t.Errorf("etc/keep: %v", err)
			}
		})
	}
}

func TestWriteLocalCorruptLayer(t *testing.T) {
	s := openStore(t)
	l := storeLayer(t, s, types.OCILayer, []entry{{name: "a", body: "a"}})
	img := testImage(t, l)
	if err := corruptBlob(s, l.digest); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	if err := WriteLocal(img, filepath.Join(parent, "out")); err == nil {
		t.Fatal("WriteLocal() of a corrupt layer = nil error")
	}
	if got := listDir(t, parent); got != "" {
		t.Errorf("a failed WriteLocal left %q behind", got)
	}
}

func TestWriteTar(t *testing.T) {
	s := openStore(t)
	img := testImage(t,
		storeLayer(t, s, types.OCILayer, []entry{
			{name: "etc/", typ: tar.TypeDir},
			{name: "etc/passwd", body: "root\n"},
			{name: "etc/keep", body: "lower"},
			{name: "opaque/", typ: tar.TypeDir},
			{name: "opaque/old", body: "old"},
		}),
		storeLayer(t, s, types.OCILayerZStd, []entry{
			{name: "etc/.wh.passwd"},
			{name: "etc/keep", body: "upper"},
			{name: "opaque/.wh..wh..opq"},
			{name: "opaque/new", body: "new"},
		}),
	)
	var buf bytes.Buffer
	if err := WriteTar(img, &buf); err != nil {
		t.Fatalf("WriteTar() = %v", err)
	}
	got := map[string]string{}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[strings.TrimSuffix(hdr.Name, "/")] = string(b)
	}
	want := map[string]string{"etc": "", "etc/keep": "upper", "opaque": "", "opaque/new": "new"}
	if len(got) != len(want) {
		t.Errorf("WriteTar() entries = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("WriteTar() entry %s = %q (present %v), want %q", k, g, ok, v)
		}
	}
}
