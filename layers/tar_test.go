package layers

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testenv"
)

func TestWriteTar(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	makeTree(t, dir, sampleTree())
	hdrs, contents := readTar(t, writeTar(t, dir))

	type want struct {
		name     string
		typ      byte
		mode     int64
		uid, gid int
		linkname string
		major    int64
		minor    int64
		xattrs   map[string]string
		mtime    time.Time // zero: defaultMtime
	}
	wants := []want{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755},
		{name: "bin/ls", typ: tar.TypeLink, mode: 0o755, linkname: "bin/busybox"},
		{name: "bin/ping", typ: tar.TypeReg, mode: 0o755, xattrs: map[string]string{"security.capability": capNetRaw()}},
		{name: "bin/sh", typ: tar.TypeSymlink, mode: 0o777, linkname: "busybox"},
		{name: "bin/su", typ: tar.TypeReg, mode: 0o4755},
		{name: "dev/", typ: tar.TypeDir, mode: 0o755},
		{name: "dev/fifo", typ: tar.TypeFifo, mode: 0o620, uid: 5, gid: 6},
		{name: "dev/loop0", typ: tar.TypeBlock, mode: 0o660, gid: 6, major: 7, minor: 0},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o640, uid: 1000, gid: 1001, xattrs: map[string]string{"user.foo": "bar"}},
		{name: "etc/.wh.shadow", typ: tar.TypeReg, mode: 0},
		{name: "srv/", typ: tar.TypeDir, mode: 0o2775, gid: 50, mtime: time.Unix(1600000000, 0)},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "usr/", typ: tar.TypeDir, mode: 0o755, xattrs: map[string]string{"user.keep": "1"}},
		{name: "usr/.wh..wh..opq", typ: tar.TypeReg, mode: 0},
		{name: "usr/a", typ: tar.TypeReg, mode: 0o644},
		{name: "usr/.wh.gone", typ: tar.TypeReg, mode: 0},
		{name: "var/", typ: tar.TypeDir, mode: 0o755},
	}

	var names []string
	for _, h := range hdrs {
		names = append(names, h.Name)
	}
	var wantNames []string
	for _, w := range wants {
		wantNames = append(wantNames, w.name)
	}
	if strings.Join(names, "\n") != strings.Join(wantNames, "\n") {
		t.Fatalf("WriteTar names =\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(wantNames, "\n"))
	}

	for i, h := range hdrs {
		w := wants[i]
		t.Run(w.name, func(t *testing.T) {
			if h.Typeflag != w.typ {
				t.Errorf("type = %q, want %q", h.Typeflag, w.typ)
			}
			if h.Mode != w.mode {
				t.Errorf("mode = %#o, want %#o", h.Mode, w.mode)
			}
			if h.Uid != w.uid || h.Gid != w.gid {
				t.Errorf("owner = %d:%d, want %d:%d", h.Uid, h.Gid, w.uid, w.gid)
			}
			if h.Uname != "" || h.Gname != "" {
				t.Errorf("owner names = %q:%q, want none", h.Uname, h.Gname)
			}
			if h.Linkname != w.linkname {
				t.Errorf("linkname = %q, want %q", h.Linkname, w.linkname)
			}
			if h.Devmajor != w.major || h.Devminor != w.minor {
				t.Errorf("device = %d/%d, want %d/%d", h.Devmajor, h.Devminor, w.major, w.minor)
			}
			wantMtime := w.mtime
			if wantMtime.IsZero() {
				wantMtime = defaultMtime
			}
			if !h.ModTime.Equal(wantMtime) {
				t.Errorf("mtime = %v, want %v", h.ModTime, wantMtime)
			}
			if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
				t.Errorf("atime, ctime = %v, %v, want none", h.AccessTime, h.ChangeTime)
			}
			got := make(map[string]string)
			for k, v := range h.PAXRecords {
				if strings.Contains(k, "overlay") {
					t.Errorf("PAX record %s=%q, want no overlay xattrs", k, v)
				}
				if name, ok := strings.CutPrefix(k, paxXattrPrefix); ok {
					got[name] = v
				}
			}
			if len(got) != len(w.xattrs) {
				t.Errorf("xattrs = %q, want %q", got, w.xattrs)
			}
			for k, v := range w.xattrs {
				if got[k] != v {
					t.Errorf("xattr %s = %q, want %q", k, got[k], v)
				}
			}
			if h.Typeflag == tar.TypeReg && strings.Contains(h.Name, ".wh.") && (h.Size != 0 || contents[h.Name] != "") {
				t.Errorf("whiteout size = %d, want 0", h.Size)
			}
		})
	}
	if got := contents["etc/passwd"]; got != "root:x:0:0::/root:/bin/sh\n" {
		t.Errorf("etc/passwd content = %q", got)
	}
}

func TestWriteTarSourceDateEpoch(t *testing.T) {
	dir := t.TempDir()
	old := time.Unix(1500000000, 5)
	makeTree(t, dir, []node{
		{path: "d", kind: 'd', mode: 0o755},
		{path: "d/new", kind: 'f', mode: 0o644, mtime: time.Unix(1900000000, 42)},
		{path: "old", kind: 'f', mode: 0o644, mtime: old},
	})
	epoch := time.Unix(1600000000, 0)
	hdrs, _ := readTar(t, writeTar(t, dir, WithSourceDateEpoch(epoch)))
	want := map[string]time.Time{"d/": epoch, "d/new": epoch, "old": old}
	if len(hdrs) != len(want) {
		t.Fatalf("WriteTar gave %d entries, want %d", len(hdrs), len(want))
	}
	for _, h := range hdrs {
		if !h.ModTime.Equal(want[h.Name]) {
			t.Errorf("WriteTar(WithSourceDateEpoch(%v)): %s mtime = %v, want %v", epoch, h.Name, h.ModTime, want[h.Name])
		}
	}
}

func TestWriteTarOpaqueRoot(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	makeTree(t, dir, []node{{path: "a", kind: 'f', mode: 0o644}})
	if err := os.Chtimes(dir, defaultMtime, defaultMtime); err != nil {
		t.Fatal(err)
	}
	if err := setxattr(dir, opaqueXattr, "y"); err != nil {
		t.Fatal(err)
	}
	hdrs, _ := readTar(t, writeTar(t, dir))
	if len(hdrs) != 2 || hdrs[0].Name != whiteoutOpaque || hdrs[1].Name != "a" {
		t.Fatalf("WriteTar(opaque root) names = %v, want [%s a]", hdrs, whiteoutOpaque)
	}
}

func TestWriteTarErrors(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, []node{
		{path: "file", kind: 'f', mode: 0o644},
		{path: "reserved", kind: 'd', mode: 0o755},
		{path: "reserved/.wh.file", kind: 'f', mode: 0o644},
	})
	tests := []struct {
		name, dir, wantErrMentioning string
	}{
		{"not a directory", filepath.Join(dir, "file"), filepath.Join(dir, "file")},
		{"missing", filepath.Join(dir, "missing"), filepath.Join(dir, "missing")},
		{"whiteout name in the tree", filepath.Join(dir, "reserved"), "reserved for whiteouts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTar(&buf, tt.dir); err == nil || !strings.Contains(err.Error(), tt.wantErrMentioning) {
				t.Errorf("WriteTar(%s) = %v, want an error mentioning %q", tt.dir, err, tt.wantErrMentioning)
			}
		})
	}
}
