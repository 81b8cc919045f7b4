package image

import (
	"archive/tar"
	"bytes"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
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
