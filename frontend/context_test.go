package frontend

import (
	"os"
	"path/filepath"
	"strings"
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

func TestReadIgnoreErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"bad range", "*.log\n\n# c\n[z-a]\n", `ctx/.dockerignore:4: bad pattern "[z-a]": syntax error in pattern; fix it, or escape [, ], *, ? and \ with \ to match them literally`},
		{"unclosed class", "\ufeffa[\n", `ctx/.dockerignore:1: bad pattern "a[": syntax error in pattern`},
		{"bad exception", "a\n![z-a]\n", `ctx/.dockerignore:2: bad pattern "![z-a]"`},
		{"lone exclamation", "a\n  !  \n", `ctx/.dockerignore:2: bad pattern "!": a ! must be followed by the pattern it re-includes`},
		{"exclamation and slash", "!/\n", `ctx/.dockerignore:1: bad pattern "!/": a ! must be followed by the pattern it re-includes`},
		{"trailing backslash", "a\r\nb\\\r\n", `ctx/.dockerignore:2: bad pattern "b\\"`},
		{"long line", "a\n" + strings.Repeat("x", 70000) + "\n", "ctx/.dockerignore:2: line longer than 64 KiB: split or remove it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Context
			err := c.readIgnore("ctx/.dockerignore", []byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("readIgnore(%q) = %v, want %q", tt.data, err, tt.want)
			}
		})
	}
	var c Context
	if err := c.readIgnore("ctx/.dockerignore", []byte("[a-c]*\n!\\[lit\\]\n")); err != nil {
		t.Errorf("readIgnore(good patterns) = %v", err)
	}
}
