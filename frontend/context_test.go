package frontend

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenContextIgnoreFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dockerignore", "*.log\n!keep.log\n")
	write("Dockerfile", "FROM scratch\n")
	write("other.Dockerfile", "FROM scratch\n")
	write("other.Dockerfile.dockerignore", "secret\n")

	c, err := OpenContext(dir, filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"a.log": true, "keep.log": false, "secret": false, "src/x.go": false} {
		got, _, err := c.Ignored(path, MatchInfo{})
		if err != nil || got != want {
			t.Errorf(".dockerignore: Ignored(%q) = %v, %v, want %v", path, got, err, want)
		}
	}
	c, err = OpenContext(dir, filepath.Join(dir, "other.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"a.log": false, "secret": true} {
		got, _, _ := c.Ignored(path, MatchInfo{})
		if got != want {
			t.Errorf("other.Dockerfile.dockerignore: Ignored(%q) = %v, want %v", path, got, want)
		}
	}
	if _, err := OpenContext(filepath.Join(dir, "missing"), ""); err == nil {
		t.Errorf("OpenContext(missing dir) succeeded")
	}
}
