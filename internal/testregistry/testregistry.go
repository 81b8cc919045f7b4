// Package testregistry runs a real registry (Debian's docker-registry, the
// reference distribution registry) for integration tests.
package testregistry

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Program is the registry binary Start runs.
const Program = "docker-registry"

// startTimeout bounds how long Start waits for the registry to answer.
const startTimeout = 15 * time.Second

// Start runs docker-registry on a free 127.0.0.1 port with its storage in
// a temporary directory, waits until GET /v2/ answers, and stops it when
// the test ends. It returns the registry's host:port. Without the program
// the test is skipped, or fails when the environment variable CI is set.
func Start(t testing.TB) string {
	t.Helper()
	host, _ := StartStorage(t)
	return host
}

// StartStorage is Start, also returning the registry's storage directory,
// for tests that read what was pushed as the registry stores it.
func StartStorage(t testing.TB) (host, storage string) {
	t.Helper()
	bin, err := exec.LookPath(Program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI: %v", Program, err)
		}
		t.Skipf("%s not installed: %v", Program, err)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		host, storage, err := start(t, bin)
		if err == nil {
			return host, storage
		}
		lastErr = err // most likely the port was taken meanwhile
	}
	t.Fatalf("starting %s: %v", Program, lastErr)
	return "", ""
}

func start(t testing.TB, bin string) (host, storage string, err error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	host = fmt.Sprintf("127.0.0.1:%d", port)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	storage = filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return "", "", err
	}
	yml := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, storage, host)
	if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
		return "", "", err
	}

	out := &syncBuffer{}
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err
			return "", "", fmt.Errorf("exited early (%v): %s", err, out.String())
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", "", fmt.Errorf("no answer on %s after %s: %s", host, startTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return host, storage, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the registry's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
