// Package testenv holds what tests need of the machine: root, tools. A
// test that cannot run here skips, except under CI (CI set), where it
// fails: CI has root and every tool of scripts/debian-packages.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireRoot skips t unless it runs as root (for mounts, owners, devices
// and trusted xattrs), and fails it under CI.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root, and CI is set")
	}
	t.Skip("this test needs root")
}

// RequireTool returns the path of the command name, or skips t when it is
// not installed, and fails it under CI.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}
