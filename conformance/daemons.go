package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// daemon is a background process the harness started; Stop ends it by its PID.
type daemon struct {
	name   string
	log    string // its stdout and stderr
	cmd    *exec.Cmd
	exited chan error
}

func startDaemon(name, logFile string, args ...string) (*daemon, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = f
	cmd.Stderr = f
	// Die with the harness, and get a process group of one's own so a terminal's ^C
	// reaches the harness first, which then stops the daemon in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &daemon{name: name, log: logFile, cmd: cmd, exited: make(chan error, 1)}
	go func() { d.exited <- cmd.Wait() }()
	return d, nil
}

// tail returns the end of the daemon's log.
func (d *daemon) tail() string {
	return tailFile(d.log, 2000)
}

// Stop sends SIGTERM, waits up to grace, then kills.
func (d *daemon) Stop(grace time.Duration) {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

// waitReady polls ready until it succeeds, the daemon exits or timeout passes.
func (d *daemon) waitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-d.exited:
			d.exited <- err
			return fmt.Errorf("%s exited early (%v): %s", d.name, err, d.tail())
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v\n%s", d.name, timeout, err, d.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startRegistry runs Debian's docker-registry on a free 127.0.0.1 port with its storage in
// dir and returns it with its host:port.
func startRegistry(dir string) (*daemon, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		host := fmt.Sprintf("127.0.0.1:%d", port)
		storage := filepath.Join(dir, "storage")
		if err := os.MkdirAll(storage, 0o755); err != nil {
			return nil, "", err
		}
		config := filepath.Join(dir, "config.yml")
		yml := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, storage, host)
		if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
			return nil, "", err
		}
		d, err := startDaemon("docker-registry", filepath.Join(dir, "registry.log"), "docker-registry", "serve", config)
		if err != nil {
			return nil, "", err
		}
		client := &http.Client{Timeout: time.Second}
		err = d.waitReady(15*time.Second, func() error {
			resp, err := client.Get("http://" + host + "/v2/")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET /v2/: %s", resp.Status)
			}
			return nil
		})
		if err == nil {
			return d, host, nil
		}
		d.Stop(time.Second)
		lastErr = err
	}
	return nil, "", lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// buildkitd is a running rootful buildkitd with the runc worker on overlayfs.
type buildkitd struct {
	*daemon
	root     string
	addr     string
	buildctl string
}

// startBuildkitd runs buildkitd with its state in dir/root and its socket in dir, trusting
// the plain-HTTP registry at registryHost.
func startBuildkitd(bin, dir, registryHost string) (*buildkitd, error) {
	root := filepath.Join(dir, "root")
	// Fresh state: a cache left by an earlier run (of a -work folder) would carry that run's
	// times, which the mtime rule would take for kept ones.
	if err := removeState(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "buildkitd.toml")
	toml := fmt.Sprintf(`# written by the strata conformance harness
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  gc = false
[worker.containerd]
  enabled = false
[registry.%q]
  http = true
  insecure = true
`, registryHost)
	if err := os.WriteFile(config, []byte(toml), 0o644); err != nil {
		return nil, err
	}
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	d, err := startDaemon("buildkitd", filepath.Join(dir, "buildkitd.log"),
		filepath.Join(bin, "buildkitd"),
		"--root", root,
		"--addr", addr,
		"--config", config,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--oci-worker-snapshotter", "overlayfs",
		"--oci-worker-binary", "runc",
		// No CNI here; host networking is what BuildKit falls back to anyway.
		"--oci-worker-net", "host",
	)
	if err != nil {
		return nil, err
	}
	bk := &buildkitd{daemon: d, root: root, addr: addr, buildctl: filepath.Join(bin, "buildctl")}
	err = d.waitReady(60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bk.buildctl, "--addr", addr, "debug", "workers").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
		}
		return nil
	})
	if err != nil {
		d.Stop(5 * time.Second)
		return nil, err
	}
	return bk, nil
}

// Stop stops buildkitd and removes its state.
func (bk *buildkitd) Stop() error {
	bk.daemon.Stop(20 * time.Second)
	return removeState(bk.root)
}

// removeState removes buildkitd's state folder; a mount left behind below it (by a
// buildkitd that was killed) is unmounted first.
func removeState(root string) error {
	err := os.RemoveAll(root)
	if err == nil {
		return nil
	}
	// Lazily unmount whatever is still mounted below the root, deepest first, and retry.
	mounts, _ := mountsBelow(root)
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	if err2 := os.RemoveAll(root); err2 != nil {
		return errors.Join(err, err2)
	}
	return nil
}

// mountsBelow lists the mount points under dir, in /proc/self/mountinfo order.
func mountsBelow(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		fields := bytes.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := string(fields[4])
		if mp == dir || len(mp) > len(dir) && mp[:len(dir)+1] == dir+"/" {
			out = append(out, mp)
		}
	}
	return out, nil
}

// tailFile returns the last n bytes of a file, or nothing.
func tailFile(name string, n int64) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(fi.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
