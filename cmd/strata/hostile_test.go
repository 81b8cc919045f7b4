package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testregistry"
)

// TestContextSymlinksStayInside: symlinks in the build context resolve
// inside the context, as in docker build; they never reach the host.
func TestContextSymlinksStayInside(t *testing.T) {
	requireE2E(t)
	secret := filepath.Join(t.TempDir(), "host-secret.tar")
	if err := os.WriteFile(secret, tarGz(t, map[string]string{"leak.txt": "HOST-SECRET"}), 0o644); err != nil {
		t.Fatal(err)
	}
	mk := func(df string, links map[string]string) string {
		dir := writeContext(t, df, map[string]string{"target": "inside\n", "etc/passwd": "context passwd\n"})
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cache := t.TempDir()
	tests := []struct {
		name, df string
		links    map[string]string
		want     map[string]string // files in the result; nil: the build fails
		errText  string
	}{
		{"ADD through a link to a host tar", "FROM scratch\nADD evil.tar /x/\n", map[string]string{"evil.tar": secret}, nil, "not found"},
		{"ADD through a linked dir", "FROM scratch\nADD d/host-secret.tar /x/\n", map[string]string{"d": filepath.Dir(secret)}, nil, "not found"},
		{"COPY of a link to /dev/zero", "FROM scratch\nCOPY z /x\n", map[string]string{"z": "/dev/zero"}, nil, "not found"},
		{"absolute link to a context file", "FROM scratch\nCOPY abs /x\n", map[string]string{"abs": "/target"}, map[string]string{"x": "inside\n"}, ""},
		{"link to /etc reads the context's etc", "FROM scratch\nCOPY link/passwd /p\n", map[string]string{"link": "/etc"}, map[string]string{"p": "context passwd\n"}, ""},
		{"relative link climbing out", "FROM scratch\nCOPY up/passwd /p\n", map[string]string{"up": "../../../../../../etc"}, map[string]string{"p": "context passwd\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := mk(tt.df, tt.links)
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(strataBin(t), "build", "--cache-dir", cache, "-o", "type=local,dest="+out, dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("build hangs")
			}
			if tt.want == nil {
				if err == nil || !strings.Contains(stderr.String(), tt.errText) || !strings.Contains(stderr.String(), "Dockerfile:2:") {
					t.Errorf("err %v, stderr:\n%s\nwant a failure naming %q", err, stderr.String(), tt.errText)
				}
				if strings.Contains(stderr.String(), "HOST-SECRET") {
					t.Errorf("host file content leaked")
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v\n%s", err, stderr.String())
			}
			for name, content := range tt.want {
				data, err := os.ReadFile(filepath.Join(out, name))
				if err != nil || string(data) != content {
					t.Errorf("%s = %q, %v, want %q", name, data, err, content)
				}
			}
		})
	}
}

// TestInterruptStopsRun: SIGTERM during a long RUN stops the build within
// seconds, leaves no mount or container, and the cache still works.
func TestInterruptStopsRun(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	dir := writeContext(t, "FROM "+base+"\nRUN echo start; sleep 100; echo end\n", map[string]string{})
	cmd, stderr := startUntilRun(t, cache, dir)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("interrupted build exited 0")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("SIGTERM did not stop the build within 20s")
	}
	if strings.Contains(stderr.String(), "| end") {
		t.Errorf("the RUN ran to its end")
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("a mount under the cache dir is left:\n%s", mounts)
	}
	if out, _ := exec.Command("runc", "--root", filepath.Join(cache, "runc"), "list", "-q").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc containers left: %s", out)
	}
	// The cache still works.
	dir2 := writeContext(t, "FROM "+base+"\nRUN echo ok > /ok\n", map[string]string{})
	mustStrata(t, "build", "--cache-dir", cache, dir2)
}

// TestKilledBuildIsCleanedUp: after SIGKILL during a RUN (a CI timeout),
// the next build on the cache removes the leftover mount, container and
// work files.
func TestKilledBuildIsCleanedUp(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	dir := writeContext(t, "FROM "+base+"\nRUN echo start; sleep 100\n", map[string]string{})
	cmd, _ := startUntilRun(t, cache, dir)
	cmd.Process.Kill()
	cmd.Wait()
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if !strings.Contains(string(mounts), cache) {
		t.Fatalf("expected the killed build to leave its overlay mounted")
	}

	mustStrata(t, "build", "--cache-dir", cache, writeContext(t, "FROM "+base+"\nRUN true\n", map[string]string{}))
	mounts, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("mounts under the cache dir are left after the next build")
	}
	if out, _ := exec.Command("runc", "--root", filepath.Join(cache, "runc"), "list", "-q").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc containers left: %s", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(entries) != 0 {
		t.Errorf("tmp has %d entries left", len(entries))
	}

	// strata prune after a killed build clears what it left too, and the
	// cache still builds.
	cmd, _ = startUntilRun(t, cache, dir)
	cmd.Process.Kill()
	cmd.Wait()
	mustStrata(t, "prune", "--cache-dir", cache, "--keep-storage", "1GB")
	mounts, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("mounts under the cache dir are left after strata prune")
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(entries) != 0 {
		t.Errorf("tmp has %d entries left after strata prune", len(entries))
	}
	mustStrata(t, "build", "--cache-dir", cache, writeContext(t, "FROM "+base+"\nRUN true\n", map[string]string{}))
}

// startUntilRun starts a build of dir and returns once its RUN has printed
// "start".
func startUntilRun(t *testing.T, cache, dir string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(strataBin(t), "build", "--progress=plain", "--cache-dir", cache, dir)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "| start") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("RUN never started:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd, stderr
}
