package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

// registry is Debian's docker-registry (distribution 2.8) serving plain HTTP on a loopback
// port, with its access log in its log file.
type registry struct {
	*daemon.Process
	host    string // 127.0.0.1:PORT
	storage string
}

// startRegistry runs a registry on 127.0.0.1:port (0: a free port) with its config, log
// and an empty storage in dir.
func startRegistry(dir string, port int) (*registry, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken meanwhile
		p := port
		if p == 0 {
			var err error
			if p, err = daemon.FreePort(); err != nil {
				return nil, err
			}
		}
		host := fmt.Sprintf("127.0.0.1:%d", p)
		storage := filepath.Join(dir, "storage")
		if err := os.RemoveAll(storage); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(storage, 0o755); err != nil {
			return nil, err
		}
		config := filepath.Join(dir, "config.yml")
		yml := fmt.Sprintf(`version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: strata-bench
`, storage, host)
		if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
			return nil, err
		}
		d, err := daemon.Start("docker-registry", filepath.Join(dir, "registry.log"), nil, "docker-registry", "serve", config)
		if err != nil {
			return nil, err
		}
		err = d.WaitReady(15*time.Second, func() error { return get("http://" + host + "/v2/") })
		if err == nil {
			return &registry{Process: d, host: host, storage: storage}, nil
		}
		d.Stop(time.Second)
		lastErr = err
		if port != 0 {
			break
		}
	}
	return nil, lastErr
}

func get(url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// blobUploads returns how many blob uploads the registry has completed so far: the PUTs on
// /v2/NAME/blobs/uploads/ in its access log. The access log is written after the response
// goes out, so it first makes a request of its own and waits for that to be logged.
func (r *registry) blobUploads() (int, error) {
	mark := fmt.Sprintf("bench-mark=%d", time.Now().UnixNano())
	if err := get("http://" + r.host + "/v2/?" + mark); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(r.LogFile())
		if err != nil {
			return 0, err
		}
		if strings.Contains(string(data), mark) {
			n := 0
			for _, line := range strings.Split(string(data), "\n") {
				if strings.Contains(line, `"PUT /v2/`) && strings.Contains(line, "/blobs/uploads/") {
					n++
				}
			}
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("registry %s: access log has no line for %s", r.host, mark)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runQuiet runs a command whose output only matters when it fails.
func runQuiet(ctx context.Context, timeout time.Duration, env []string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, tailString(string(out), 2000))
	}
	return nil
}

// peakRSS returns a process's peak resident set (VmHWM) in KiB.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("VmHWM of %d: %q: %w", pid, line, err)
			}
			return kib, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc/" + fmt.Sprint(pid) + "/status")
}

// resetPeakRSS starts a new peak for VmHWM (clear_refs 5, Linux 4.0 and later).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
