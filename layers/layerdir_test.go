package layers

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// node describes one file of a test layer directory.
type node struct {
	path   string
	kind   byte   // d dir, f file, l symlink, h hard link, w whiteout, c b p devices and fifo, s socket
	mode   uint32 // permission bits with setuid, setgid, sticky
	data   string // content, symlink target, or hard link target path
	uid    int
	gid    int
	major  uint32
	minor  uint32
	xattrs map[string]string
	mtime  time.Time // zero: defaultMtime
}

// defaultMtime is the modification time of test files, with nanoseconds
// to check that they survive.
var defaultMtime = time.Unix(1700000000, 123456789)

// makeTree creates nodes below root, in order (parents first), then sets
// modification times, directories last so that their children do not
// change them.
func makeTree(t testing.TB, root string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, n.path)
		var err error
		switch n.kind {
		case 'd':
			err = os.Mkdir(p, 0o700)
		case 'f':
			err = os.WriteFile(p, []byte(n.data), 0o600)
		case 'l':
			err = os.Symlink(n.data, p)
		case 'h':
			err = os.Link(filepath.Join(root, n.data), p)
		case 'w':
			err = unix.Mknod(p, unix.S_IFCHR, 0)
		case 'c':
			err = unix.Mknod(p, unix.S_IFCHR, int(unix.Mkdev(n.major, n.minor)))
		case 'b':
			err = unix.Mknod(p, unix.S_IFBLK, int(unix.Mkdev(n.major, n.minor)))
		case 'p':
			err = unix.Mkfifo(p, 0o600)
		case 's':
			err = unix.Mknod(p, unix.S_IFSOCK, 0)
		default:
			t.Fatalf("node %s: unknown kind %q", n.path, n.kind)
		}
		if err != nil {
			t.Fatalf("creating %s: %v", n.path, err)
		}
		if n.kind == 'h' {
			continue
		}
		if n.uid != 0 || n.gid != 0 || os.Geteuid() == 0 {
			if err := os.Lchown(p, n.uid, n.gid); err != nil {
				t.Fatalf("chown %s: %v", n.path, err)
			}
		}
		if n.kind != 'l' && n.kind != 'w' {
			if err := unix.Chmod(p, n.mode); err != nil {
				t.Fatalf("chmod %s: %v", n.path, err)
			}
		}
		for k, v := range n.xattrs {
			if err := unix.Lsetxattr(p, k, []byte(v), 0); err != nil {
				t.Fatalf("setxattr %s on %s: %v", k, n.path, err)
			}
		}
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if n.kind == 'h' {
			continue
		}
		mtime := n.mtime
		if mtime.IsZero() {
			mtime = defaultMtime
		}
		ts := []unix.Timespec{timespec(mtime), timespec(mtime)}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(root, n.path), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatalf("setting times of %s: %v", n.path, err)
		}
	}
}

// capNetRaw is a security.capability value (VFS_CAP_REVISION_2, effective)
// granting CAP_NET_RAW, as `setcap cap_net_raw+ep` writes it.
func capNetRaw() string {
	var b [20]byte
	binary.LittleEndian.PutUint32(b[0:], 0x02000001)
	binary.LittleEndian.PutUint32(b[4:], 1<<unix.CAP_NET_RAW)
	return string(b[:])
}

// sampleTree is a layer directory with every kind of entry WriteTar
// handles. Its whiteouts share one inode, as overlayfs may make them.
func sampleTree() []node {
	return []node{
		{path: "bin", kind: 'd', mode: 0o755},
		{path: "bin/busybox", kind: 'f', mode: 0o755, data: "#!busybox\n"},
		{path: "bin/ls", kind: 'h', data: "bin/busybox"},
		{path: "bin/ping", kind: 'f', mode: 0o755, data: "ping", xattrs: map[string]string{"security.capability": capNetRaw()}},
		{path: "bin/sh", kind: 'l', data: "busybox"},
		{path: "bin/su", kind: 'f', mode: 0o4755, data: "su"},
		{path: "dev", kind: 'd', mode: 0o755},
		{path: "dev/fifo", kind: 'p', mode: 0o620, uid: 5, gid: 6},
		{path: "dev/loop0", kind: 'b', mode: 0o660, major: 7, minor: 0, gid: 6},
		{path: "dev/null", kind: 'c', mode: 0o666, major: 1, minor: 3},
		{path: "dev/sock", kind: 's', mode: 0o755},
		{path: "etc", kind: 'd', mode: 0o755},
		{path: "etc/passwd", kind: 'f', mode: 0o640, data: "root:x:0:0::/root:/bin/sh\n", uid: 1000, gid: 1001,
			xattrs: map[string]string{"user.foo": "bar"}},
		{path: "etc/shadow", kind: 'w'},
		{path: "srv", kind: 'd', mode: 0o2775, gid: 50, mtime: time.Unix(1600000000, 0)},
		{path: "tmp", kind: 'd', mode: 0o1777},
		{path: "usr", kind: 'd', mode: 0o755, xattrs: map[string]string{opaqueXattr: "y", "user.keep": "1"}},
		{path: "usr/a", kind: 'f', mode: 0o644, data: "a"},
		{path: "usr/gone", kind: 'h', data: "etc/shadow"},
		{path: "var", kind: 'd', mode: 0o755},
	}
}

// readTar returns the headers of a tar and the contents of its regular
// files by name.
func readTar(t testing.TB, data []byte) ([]*tar.Header, map[string]string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var hdrs []*tar.Header
	contents := make(map[string]string)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return hdrs, contents
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", hdr.Name, err)
		}
		hdrs = append(hdrs, hdr)
		if hdr.Typeflag == tar.TypeReg {
			contents[hdr.Name] = string(body)
		}
	}
}

// entry is a tar entry to write in a test.
type entry struct {
	hdr  tar.Header
	body string
}

// tarOf writes entries as a tar; sizes are taken from the bodies.
func tarOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if hdr.Mode == 0 && hdr.Typeflag != tar.TypeReg {
			hdr.Mode = 0o755
		}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = defaultMtime
		}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("writing header %s: %v", hdr.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatalf("writing %s: %v", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTar returns WriteTar's output for dir.
func writeTar(t testing.TB, dir string, opts ...TarOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTar(&buf, dir, opts...); err != nil {
		t.Fatalf("WriteTar(%s) = %v", dir, err)
	}
	return buf.Bytes()
}

// setxattr sets an xattr on path without following a symlink.
func setxattr(path, name, value string) error {
	return unix.Lsetxattr(path, name, []byte(value), 0)
}
