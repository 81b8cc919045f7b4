package solver

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/frontend"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func treeDigest(t *testing.T, m *contextMirror, rel string) string {
	t.Helper()
	h := sha256.New()
	if err := m.digestTree(h, rel); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func syncMirror(t *testing.T, s *store, ctxDir string) *contextMirror {
	t.Helper()
	c, err := frontend.OpenContext(ctxDir, "")
	if err != nil {
		t.Fatal(err)
	}
	m, release, err := s.syncContext(c)
	if err != nil {
		t.Fatal(err)
	}
	release()
	return m
}

// TestContextMirror: the mirror follows the context minus .dockerignore,
// and tree digests change with content, not with mtimes.
func TestContextMirror(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{
		"src/a.go":      "package a\n",
		"src/b.go":      "package b\n",
		"build.log":     "noise\n",
		"keep.log":      "kept\n",
		".dockerignore": "*.log\n!keep.log\n",
	})
	m := syncMirror(t, s, ctxDir)
	for p, want := range map[string]bool{"src/a.go": true, "keep.log": true, "build.log": false, ".dockerignore": true} {
		_, err := os.Lstat(filepath.Join(m.dir, p))
		if (err == nil) != want {
			t.Errorf("mirror has %s: %v, want %v", p, err == nil, want)
		}
	}
	d0 := treeDigest(t, m, "src")

	// mtime only: same digest.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(ctxDir, "src/a.go"), old, old); err != nil {
		t.Fatal(err)
	}
	m = syncMirror(t, s, ctxDir)
	if d := treeDigest(t, m, "src"); d != d0 {
		t.Errorf("touching a file changed the tree digest")
	}
	if fi, _ := os.Stat(filepath.Join(m.dir, "src/a.go")); !fi.ModTime().Equal(old) {
		t.Errorf("mirror mtime = %v, want %v (COPY keeps the context's mtimes)", fi.ModTime(), old)
	}

	// content: new digest, and the mirror has the new bytes.
	writeFiles(t, ctxDir, map[string]string{"src/a.go": "package changed\n"})
	m = syncMirror(t, s, ctxDir)
	if d := treeDigest(t, m, "src"); d == d0 {
		t.Errorf("changing a file kept the tree digest")
	}
	if data, _ := os.ReadFile(filepath.Join(m.dir, "src/a.go")); string(data) != "package changed\n" {
		t.Errorf("mirror content = %q", data)
	}

	// mode: new digest.
	d1 := treeDigest(t, m, "src")
	if err := os.Chmod(filepath.Join(ctxDir, "src/b.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	m = syncMirror(t, s, ctxDir)
	if d := treeDigest(t, m, "src"); d == d1 {
		t.Errorf("chmod kept the tree digest")
	}

	// deletions reach the mirror; other directories' digests are unaffected.
	dKeep := treeDigest(t, m, "keep.log")
	if err := os.Remove(filepath.Join(ctxDir, "src/b.go")); err != nil {
		t.Fatal(err)
	}
	m = syncMirror(t, s, ctxDir)
	if _, err := os.Lstat(filepath.Join(m.dir, "src/b.go")); err == nil {
		t.Errorf("deleted file still in the mirror")
	}
	if d := treeDigest(t, m, "keep.log"); d != dKeep {
		t.Errorf("an unrelated file's digest changed")
	}
}

// TestMirrorNodesDigest: the tree digest computed from the nodes a sync
// records is the one a walk of the mirror gives, for every directory and
// file, with ignored directories kept for their exceptions, symlinks,
// special modes and an empty directory.
func TestMirrorNodesDigest(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{
		"a/b/c.txt":      "c\n",
		"a/b.txt":        "b\n",
		"a.txt":          "a\n",
		"logs/x.log":     "x\n",
		"logs/keep.log":  "keep\n",
		"only/ignored.o": "o\n",
		".dockerignore":  "logs\n!logs/keep.log\nonly\n*.o\n",
	})
	if err := os.MkdirAll(filepath.Join(ctxDir, "empty"), 0o2750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(ctxDir, "empty"), 0o2750|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(ctxDir, "a/b.txt"), 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.txt", filepath.Join(ctxDir, "a/link")); err != nil {
		t.Fatal(err)
	}
	m := syncMirror(t, s, ctxDir)
	if m.nodes == nil {
		t.Fatal("a synced mirror has no nodes")
	}
	if _, ok := m.nodes["only"]; ok {
		t.Error("an ignored directory with nothing kept has a node")
	}
	for _, rel := range []string{".", "a", "a/b", "a.txt", "a/b.txt", "logs", "empty"} {
		var fromNodes, fromWalk strings.Builder
		if err := m.digestNodes(&fromNodes, rel); err != nil {
			t.Fatal(err)
		}
		walkRel := rel
		if err := m.digestWalk(&fromWalk, walkRel); err != nil {
			t.Fatal(err)
		}
		if fromNodes.String() != fromWalk.String() {
			t.Errorf("%s: from nodes\n%s\nfrom a walk\n%s", rel, fromNodes.String(), fromWalk.String())
		}
	}
}

// TestMirrorSeesSameSizeAndMtime: the stat check that lets a rebuild skip
// hashing a file never keeps a stale digest. A file rewritten in place
// with the same size and its old mtime put back differs by ctime; one
// replaced by a rename differs by inode (and ctime). Both are hashed again.
func TestMirrorSeesSameSizeAndMtime(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	p := filepath.Join(ctxDir, "f.txt")
	writeFiles(t, ctxDir, map[string]string{"f.txt": "aaaa\n"})
	mtime := time.Date(2020, 2, 2, 2, 2, 2, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	m := syncMirror(t, s, ctxDir)
	before := m.files["f.txt"]

	rewrite := func(how string, write func() error) {
		t.Helper()
		time.Sleep(10 * time.Millisecond) // a later ctime, even on coarse clocks
		if err := write(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != before.Size || fi.ModTime().UnixNano() != before.Mtime {
			t.Fatalf("%s: size %d mtime %v, want the old %d and %v", how, fi.Size(), fi.ModTime(), before.Size, mtime)
		}
		m := syncMirror(t, s, ctxDir)
		got := m.files["f.txt"]
		if got.Digest == before.Digest {
			t.Errorf("%s: the digest stayed %s", how, got.Digest)
		}
		data, _ := os.ReadFile(filepath.Join(m.dir, "f.txt"))
		want, _ := os.ReadFile(p)
		if string(data) != string(want) {
			t.Errorf("%s: the mirror has %q, the context %q", how, data, want)
		}
		before = got
	}
	rewrite("in place", func() error { return os.WriteFile(p, []byte("bbbb\n"), 0o644) })
	rewrite("renamed over", func() error {
		tmp := filepath.Join(ctxDir, "new")
		if err := os.WriteFile(tmp, []byte("cccc\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, p)
	})
}

// TestContextIndexRoundTrip: the index keeps every field and any name,
// and a damaged index reads as empty (everything is hashed again).
func TestContextIndexRoundTrip(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), contextIndex)
	files := map[string]fileEntry{
		"a.txt":            {Size: 5, Mtime: -1, Ctime: 1700000000123456789, Ino: 1 << 40, Mode: 0o4755, Digest: "sha256:aa"},
		"dir/tab\tand\nnl": {Size: 0, Digest: "sha256:bb"},
		"ünï cödé":         {Size: 1 << 33, Mode: 0o600, Digest: "sha256:cc"},
	}
	if err := writeContextIndex(s, p, files); err != nil {
		t.Fatal(err)
	}
	if got := readContextIndex(p); !maps.Equal(got, files) {
		t.Errorf("read back %v, want %v", got, files)
	}
	if err := os.WriteFile(p, []byte("\"a.txt\"\t5\tx\t0\t0\t0\tsha256:aa\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readContextIndex(p); len(got) != 0 {
		t.Errorf("a damaged index read as %v, want nothing", got)
	}
}

// TestMirrorLeavesOutCacheDir: a cache directory inside the context is not
// mirrored (it would hold the mirror of itself, ever deeper).
func TestMirrorLeavesOutCacheDir(t *testing.T) {
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{"app.txt": "app\n"})
	s, err := openStore(filepath.Join(ctxDir, ".cache", "strata"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m := syncMirror(t, s, ctxDir)
		if _, err := os.Lstat(filepath.Join(m.dir, ".cache", "strata")); !os.IsNotExist(err) {
			t.Errorf("the mirror holds the cache dir: %v", err)
		}
		if _, ok := m.files["app.txt"]; !ok {
			t.Errorf("the mirror lacks app.txt")
		}
	}
}

// TestDigestNodesFormat: digestNodes writes the bytes the fmt-based
// description wrote ("%q" names and targets, "%o" modes), so cache keys
// made before it appended by hand still match.
func TestDigestNodesFormat(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{
		"a/b.txt": "b\n", "a/sub/c": "c\n", "quote\"d/tab\tname": "t\n", "é/ü.txt": "u\n", "top": "x\n",
	})
	if err := os.Symlink("../a/b.txt", filepath.Join(ctxDir, "a", "sub", "link \"q\"")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(ctxDir, "a", "sub"), 0o2750); err != nil {
		t.Fatal(err)
	}
	m := syncMirror(t, s, ctxDir)
	// The description as it was written with fmt.
	oracle := func(rel string) string {
		var h strings.Builder
		if rel == "." {
			rel = ""
		}
		top := m.nodes[rel]
		if !top.mode.IsDir() {
			fmt.Fprintf(&h, "f %o %s\n", top.mode, m.digestOf(rel))
			return h.String()
		}
		var walk func(dir, relDir string, n mirrorNode)
		walk = func(dir, relDir string, n mirrorNode) {
			for _, name := range n.children {
				p, r := path.Join(dir, name), path.Join(relDir, name)
				c := m.nodes[p]
				switch {
				case c.mode.IsDir():
					fmt.Fprintf(&h, "d %q %o\n", r, c.mode)
					walk(p, r, c)
				case c.mode&fs.ModeSymlink != 0:
					fmt.Fprintf(&h, "l %q %q\n", r, c.target)
				default:
					fmt.Fprintf(&h, "f %q %o %s\n", r, c.mode, m.digestOf(p))
				}
			}
		}
		fmt.Fprintf(&h, "d . %o\n", top.mode)
		walk(rel, "", top)
		return h.String()
	}
	for _, rel := range []string{".", "a", "a/sub", "top", "é"} {
		var got strings.Builder
		if err := m.digestNodes(&got, rel); err != nil {
			t.Fatal(err)
		}
		if want := oracle(rel); got.String() != want {
			t.Errorf("digestNodes(%q):\n%s\nwant (fmt):\n%s", rel, got.String(), want)
		}
	}
}
