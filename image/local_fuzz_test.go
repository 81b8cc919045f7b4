package image

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzApplyLayer feeds arbitrary tar streams to the layer unpacker and
// checks that nothing is ever created outside the target directory.
func FuzzApplyLayer(f *testing.F) {
	t := &testing.T{}
	f.Add(tarBytes(t, []entry{
		{name: "../escape", body: "x"},
		{name: "evil", typ: tar.TypeSymlink, link: "/"},
		{name: "evil/etc/pwned", body: "x"},
		{name: "up", typ: tar.TypeSymlink, link: "../.."},
		{name: "up/out", body: "x"},
		{name: "l", typ: tar.TypeLink, link: "../../etc/passwd"},
		{name: "d/", typ: tar.TypeDir},
		{name: "d/.wh..wh..opq"},
		{name: ".wh..."},
		{name: "d/.wh.."},
	}))
	f.Add(tarBytes(t, []entry{{name: "a/b/c", body: "deep"}, {name: "a", body: "file over dir"}}))
	// One parent for the whole run, its root removed after each input: a
	// t.TempDir per input cost more than the unpacking.
	parent := f.TempDir()
	root := filepath.Join(parent, "root")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		defer removeAll(t, root)
		u := newUnpacker(root)
		_ = u.apply(tar.NewReader(bytes.NewReader(data)))
		_ = u.finish()
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "root" {
			t.Fatalf("unpacking wrote outside its root: %s holds %v", parent, entries)
		}
		// The root is still a directory (not replaced by a symlink).
		if fi, err := os.Lstat(root); err != nil || !fi.IsDir() {
			t.Fatalf("root replaced: %v, %v", fi, err)
		}
	})
}

// removeAll removes dir after giving its owner access to every directory
// below it, which an unprivileged run needs when a tar made one read-only.
func removeAll(t *testing.T, dir string) {
	if os.Geteuid() != 0 {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o700)
			}
			return nil
		})
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}
