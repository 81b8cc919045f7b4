package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

// startRegistry runs Debian's docker-registry on a free 127.0.0.1 port with its storage in
// dir and returns it with its host:port.
func startRegistry(dir string) (*daemon.Process, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		port, err := daemon.FreePort()
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
		d, err := daemon.Start("docker-registry", filepath.Join(dir, "registry.log"), nil, "docker-registry", "serve", config)
		if err != nil {
			return nil, "", err
		}
		client := &http.Client{Timeout: time.Second}
		err = d.WaitReady(15*time.Second, func() error {
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

type buildkitd struct {
	*daemon.Process
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
	if err := daemon.RemoveState(root); err != nil {
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
	d, err := daemon.Start("buildkitd", filepath.Join(dir, "buildkitd.log"), nil,
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
	bk := &buildkitd{Process: d, root: root, addr: addr, buildctl: filepath.Join(bin, "buildctl")}
	err = d.WaitReady(60*time.Second, func() error {
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
	bk.Process.Stop(20 * time.Second)
	return daemon.RemoveState(bk.root)
}
