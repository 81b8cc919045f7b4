package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCases checks the case folders without building them: each loads, documents its
// differences with reasons, and issue 4's minimum of 80 cases holds.
func TestCases(t *testing.T) {
	cases, err := loadCases("../testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 80 {
		t.Errorf("%d cases, want at least 80", len(cases))
	}
	for _, c := range cases {
		df, err := os.ReadFile(filepath.Join(c.Dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		// The harness passes the base image as BASE; a case FROMs it or scratch.
		if !strings.Contains(string(df), "${BASE}") && !strings.Contains(string(df), "scratch") && !c.ExpectError {
			t.Errorf("%s: the Dockerfile uses neither ${BASE} nor scratch", c.Name)
		}
	}
}

func TestExpectedMatch(t *testing.T) {
	dir := t.TempDir()
	md := "# title\n\nprose `not a pattern`\n\n- `file /a/* mode`: a reason\n  on two lines\n* `build strata` — another\n"
	if err := os.WriteFile(filepath.Join(dir, expectedDiffsFile), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := readExpected(filepath.Join(dir, expectedDiffsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(exp) != 2 {
		t.Fatalf("readExpected = %d items, want 2", len(exp))
	}
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"file /a/b mode", true},
		{"file /a/b/c mode", true},
		{"file /a/b uid", false},
		{"xfile /a/b mode", false},
		{"[linux/arm64] file /a/b mode", true},
	} {
		if got := exp[0].Match(tt.key); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
	if exp[0].Reason != "a reason on two lines" {
		t.Errorf("first reason = %q, want the continuation line joined", exp[0].Reason)
	}
	if !exp[1].Match("build strata") || exp[1].Reason != "another" {
		t.Errorf("second item = %+v", exp[1])
	}

	if err := os.WriteFile(filepath.Join(dir, expectedDiffsFile), []byte("- `config Env`\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readExpected(filepath.Join(dir, expectedDiffsFile)); err == nil {
		t.Error("readExpected(an item without a reason) = nil error, want one")
	}
}
