package solver

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fscopy "github.com/tonistiigi/fsutil/copy"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/testenv"
)

// hostileTar writes a tar of the given headers; a regular file's content
// is its Linkname field's text when Size is set.
func hostileTar(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		data := ""
		if h.Typeflag == tar.TypeReg {
			data, h.Linkname = h.Linkname, ""
			h.Size = int64(len(data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	return buf.Bytes()
}

func reg(name, data string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: data}
}

func symlink(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

func hardlink(name, target string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
}

// TestExtractHostile: archive entries that try to leave the destination
// land inside it (BuildKit chroots into the destination to extract) or
// fail; nothing is ever written outside the image root, and nothing
// outside the destination.
func TestExtractHostile(t *testing.T) {
	testenv.RequireRoot(t)
	outside := t.TempDir() // the host: must stay empty
	tests := []struct {
		name  string
		hdrs  []*tar.Header
		want  map[string]string // path below the image root: content, "->target", "dir" or "dev"
		error string            // an error containing this, after which want still holds
	}{
		{"dotdot", []*tar.Header{reg("../../../../../../.."+outside+"/up.txt", "up")},
			map[string]string{"dest" + outside + "/up.txt": "up"}, ""},
		{"dotdot short", []*tar.Header{reg("../up.txt", "up")}, map[string]string{"dest/up.txt": "up"}, ""},
		{"absolute", []*tar.Header{reg(outside+"/abs.txt", "abs")}, map[string]string{"dest" + outside + "/abs.txt": "abs"}, ""},
		{"symlink to host dir then write through", []*tar.Header{symlink("out", outside), reg("out/pwned", "x")},
			map[string]string{"dest/out": "->" + outside}, "not a directory"},
		{"symlink climbing then write through", []*tar.Header{symlink("up", "../../../../../.."+outside), reg("up/pwned", "x")},
			map[string]string{"dest/up": "->../../../../../.." + outside}, "not a directory"},
		{"symlink to / then write", []*tar.Header{symlink("r", "/"), reg("r/etc/pwned", "x")},
			map[string]string{"dest/r": "->/", "dest/etc/pwned": "x"}, ""},
		{"symlink to image /etc then write", []*tar.Header{symlink("link-out", "/etc"), reg("link-out/evil-passwd", "evil")},
			map[string]string{"dest/link-out": "->/etc"}, "not a directory"},
		{"symlink replaced, not followed", []*tar.Header{symlink("f", outside+"/target"), reg("f", "new")},
			map[string]string{"dest/f": "new"}, ""},
		{"hardlink to host file", []*tar.Header{hardlink("h", outside+"/secret")}, map[string]string{}, "hard link"},
		{"hardlink climbing to image passwd", []*tar.Header{hardlink("h", "../../etc/passwd")}, map[string]string{}, "hard link"},
		{"hardlink through symlink", []*tar.Header{symlink("s", outside), hardlink("h", "s/secret")}, map[string]string{"dest/s": "->" + outside}, "hard link"},
		{"hardlink to a symlink links the symlink", []*tar.Header{symlink("s", "/etc/passwd"), hardlink("h", "s")},
			map[string]string{"dest/s": "->/etc/passwd", "dest/h": "->/etc/passwd"}, ""},
		{"whiteout naming ..", []*tar.Header{reg(".wh...", "")}, map[string]string{}, "reserved for whiteouts"},
		{"whiteout", []*tar.Header{reg("sub/.wh.passwd", "")}, map[string]string{}, "reserved for whiteouts"},
		{"opaque", []*tar.Header{reg(".wh..wh..opq", "")}, map[string]string{}, "reserved for whiteouts"},
		{"devices", []*tar.Header{{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
			{Name: "sda", Typeflag: tar.TypeBlock, Devmajor: 8, Mode: 0o660}, {Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
			map[string]string{"dest/null": "dev", "dest/sda": "dev", "dest/fifo": "dev"}, ""},
		{"root entry leaves dest alone", []*tar.Header{{Name: "./", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 5}}, map[string]string{"dest": "dir"}, ""},
		{"file replaced by dir", []*tar.Header{reg("a", "x"), {Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}, reg("a/b", "y")},
			map[string]string{"dest/a": "dir", "dest/a/b": "y"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rootfs := t.TempDir()
			os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
			os.WriteFile(filepath.Join(rootfs, "etc/passwd"), []byte("root\n"), 0o644)
			os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o644)
			src := filepath.Join(t.TempDir(), "evil.tar")
			os.WriteFile(src, hostileTar(t, tt.hdrs...), 0o644)
			ok, err := extractIfArchive(src, rootfs, "/dest/", nil)
			if !ok {
				t.Fatalf("not extracted")
			}
			if tt.error == "" && err != nil || tt.error != "" && (err == nil || !strings.Contains(err.Error(), tt.error)) {
				t.Errorf("extract: %v, want error %q", err, tt.error)
			}
			if err != nil && strings.Contains(err.Error(), rootfs) {
				t.Errorf("the error names the host path of the root: %v", err)
			}
			for p, want := range tt.want {
				full := filepath.Join(rootfs, p)
				fi, err := os.Lstat(full)
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				var got string
				switch {
				case fi.Mode()&os.ModeSymlink != 0:
					l, _ := os.Readlink(full)
					got = "->" + l
				case fi.IsDir():
					got = "dir"
				case fi.Mode().IsRegular():
					data, _ := os.ReadFile(full)
					got = string(data)
				default:
					got = "dev"
				}
				if got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Errorf("the host dir has %d entries, want only its secret", len(entries))
			}
			if data, _ := os.ReadFile(filepath.Join(rootfs, "etc/passwd")); string(data) != "root\n" {
				t.Errorf("the image's /etc/passwd = %q", data)
			}
			// Nothing but dest/ and the image's etc/ below the root.
			entries, _ := os.ReadDir(rootfs)
			for _, e := range entries {
				if e.Name() != "dest" && e.Name() != "etc" {
					t.Errorf("%s written at the image root", e.Name())
				}
			}
		})
	}
}

// TestExtractLimits: an archive that expands beyond the free space is
// refused before anything is written; zeros become holes; --chown owns the
// directories ADD makes for the destination.
func TestExtractLimits(t *testing.T) {
	testenv.RequireRoot(t)
	rootfs := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(rootfs, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Size: free + 1, Mode: 0o644})
	src := filepath.Join(t.TempDir(), "huge.tar")
	os.WriteFile(src, buf.Bytes(), 0o644) // truncated: only the header
	if _, err := extractIfArchive(src, rootfs, "/big", nil); !errors.Is(err, ErrArchiveTooLarge) {
		t.Errorf("extract of a %d-byte entry with %d free: %v, want ErrArchiveTooLarge", free+1, free, err)
	}
	if _, err := os.Lstat(filepath.Join(rootfs, "big/huge")); err == nil {
		t.Errorf("big/huge was written")
	}

	buf.Reset()
	tw = tar.NewWriter(&buf)
	zeros := make([]byte, 8<<20)
	copy(zeros[len(zeros)-3:], "end")
	tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: int64(len(zeros)), Mode: 0o644})
	tw.Write(zeros)
	tw.Close()
	os.WriteFile(src, buf.Bytes(), 0o644)
	chown := func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: 1000, GID: 1000}, nil }
	if _, err := extractIfArchive(src, rootfs, "/a/b/", chown); err != nil {
		t.Fatal(err)
	}
	var fst unix.Stat_t
	if err := unix.Stat(filepath.Join(rootfs, "a/b/zeros"), &fst); err != nil {
		t.Fatal(err)
	}
	if fst.Size != int64(len(zeros)) || fst.Blocks*512 > 1<<20 {
		t.Errorf("zeros: size %d, %d bytes allocated; want %d, sparse", fst.Size, fst.Blocks*512, len(zeros))
	}
	if fst.Uid != 1000 {
		t.Errorf("zeros owner %d, want the --chown owner", fst.Uid)
	}
	for _, d := range []string{"a", "a/b"} {
		if err := unix.Stat(filepath.Join(rootfs, d), &fst); err != nil || fst.Uid != 1000 || fst.Gid != 1000 {
			t.Errorf("%s owner %d:%d (%v), want 1000:1000 as ADD --chown made it", d, fst.Uid, fst.Gid, err)
		}
	}
}
