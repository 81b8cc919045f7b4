package solver

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
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
