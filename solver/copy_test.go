package solver

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParentsSource(t *testing.T) {
	tests := []struct {
		in                      string
		parents                 bool
		path, pattern, required string
	}{
		{in: "a/b.txt", path: "a/b.txt"},
		{in: "./a/../c/", path: "c"},
		{in: "a/b/c.txt", parents: true, path: "", pattern: "a/b/c.txt", required: "a/b/c.txt"},
		{in: "a/./b/c.txt", parents: true, path: "a", pattern: "b/c.txt", required: "a/b/c.txt"},
		{in: "/abs/./x/", parents: true, path: "abs", pattern: "x", required: "abs/x"},
		{in: "*/*.md", parents: true, path: "", pattern: "*/*.md"},
		{in: "x*/./y", parents: true, path: "x*", pattern: "y"},
		{in: `a\*/./b`, parents: true, path: `a\*`, pattern: "b", required: `a\*/b`}, // an escaped wildcard
	}
	for _, empty := range []string{".", "./", "a/./", "a/./."} {
		if got, err := parentsSource(empty, true); err == nil {
			t.Errorf("parentsSource(%q, true) = %+v, want an error: nothing to copy, as BuildKit fails", empty, got)
		}
	}
	for _, tt := range tests {
		got, err := parentsSource(tt.in, tt.parents)
		if err != nil || got.path != tt.path || got.pattern != tt.pattern || got.required != tt.required {
			t.Errorf("parentsSource(%q, %v) = %+v, %v, want path %q pattern %q required %q", tt.in, tt.parents, got, err, tt.path, tt.pattern, tt.required)
		}
	}
}

func TestChownByName(t *testing.T) {
	for in, want := range map[string]bool{"1000": false, "1000:1000": false, "0:50": false, "app": true, "1000:staff": true, "app:50": true} {
		if got := chownByName(in); got != want {
			t.Errorf("chownByName(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestChecksumHash(t *testing.T) {
	ok := map[string]string{
		"sha256:" + strings.Repeat("a", 64):  "sha256",
		"sha384:" + strings.Repeat("b", 96):  "sha384",
		"sha512:" + strings.Repeat("0", 128): "sha512",
	}
	for in, algo := range ok {
		if got, h, err := checksumHash(in); err != nil || got != algo || h == nil {
			t.Errorf("checksumHash(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{
		"sha256:abc":                        "invalid checksum digest format",
		strings.Repeat("a", 64):             "invalid checksum digest format",
		"md5:" + strings.Repeat("a", 32):    "unsupported digest algorithm",
		"sha256:" + strings.Repeat("G", 64): "invalid checksum digest format",
	} {
		if _, _, err := checksumHash(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checksumHash(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

// TestDigestMatching: the key of a copy with --parents or --exclude
// changes with what it copies and only with that.
func TestDigestMatching(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	writeFiles(t, ctxDir, map[string]string{
		"a/b/c.txt":   "c\n",
		"a/d.log":     "d\n",
		"a/e/f.txt":   "f\n",
		"other/g.txt": "g\n",
	})
	digest := func(include string, excludes ...string) string {
		t.Helper()
		m := syncMirror(t, s, ctxDir)
		h := sha256.New()
		if err := m.digestMatching(h, "", include, excludes); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	change := func(p, data string) {
		t.Helper()
		full := filepath.Join(ctxDir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parents := digest("a/b/c.txt")
	excluded := digest("", "**/*.log")

	change("a/d.log", "changed\n")
	change("other/new.txt", "new\n")
	if digest("a/b/c.txt") != parents {
		t.Errorf("--parents a/b/c.txt: the key changed with files it does not copy")
	}
	if digest("", "**/*.log") == excluded {
		t.Errorf("--exclude=**/*.log: the key did not change with other/new.txt, which it copies")
	}
	excluded = digest("", "**/*.log")
	change("a/d.log", "again\n")
	if digest("", "**/*.log") != excluded {
		t.Errorf("--exclude=**/*.log: the key changed with an excluded file")
	}
	both := digest("a/**", "a/e")
	change("a/e/f.txt", "changed\n")
	if digest("a/**", "a/e") != both {
		t.Errorf("a/** without a/e: the key changed with a/e/f.txt")
	}
	change("a/b/c.txt", "changed\n")
	if digest("a/b/c.txt") == parents || digest("a/**", "a/e") == both {
		t.Errorf("the key did not change with a/b/c.txt, which is copied")
	}
	if err := os.Chmod(filepath.Join(ctxDir, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	parents = digest("a/b/c.txt")
	if err := os.Chmod(filepath.Join(ctxDir, "a"), 0o750); err != nil {
		t.Fatal(err)
	}
	if digest("a/b/c.txt") == parents {
		t.Errorf("the key did not change with the mode of a, which --parents copies")
	}
}
