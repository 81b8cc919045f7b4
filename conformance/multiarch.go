package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// The multi-platform base: the same busybox tree for linux/amd64 and linux/arm64 (Debian's
// busybox-static for arm64, downloaded with apt-get, never installed), built by strata as one
// index. Cases with a platform file get it as BASE; RUN steps for arm64 then run under QEMU
// user emulation (qemu-user-static with binfmt_misc) in both builders.
const multiArchDockerfile = `FROM scratch
ARG TARGETARCH
COPY rootfs-${TARGETARCH}/ /
CMD ["/bin/sh"]
`

// baseFor returns the BASE build argument for a case.
func (h *harness) baseFor(ctx context.Context, c *Case) (string, error) {
	if c.Platform == "" {
		return h.base, nil
	}
	h.multiOnce.Do(func() { h.multiBase, h.multiErr = h.buildMultiArchBase(ctx) })
	return h.multiBase, h.multiErr
}

func (h *harness) buildMultiArchBase(ctx context.Context) (string, error) {
	// Without an emulator, arm64 RUN steps fail in both builders with "exec format error";
	// say what to install instead.
	if runtime.GOARCH != "arm64" {
		if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err != nil {
			return "", fmt.Errorf("cases with a platform file run arm64 steps under QEMU: no binfmt_misc handler for aarch64 (%v); install qemu-user-static and binfmt-support", err)
		}
	}
	logf("building the busybox base for linux/amd64 and linux/arm64")
	dir := filepath.Join(h.work, "busybox-multi")
	if err := os.RemoveAll(dir); err != nil { // a -work folder used before
		return "", err
	}
	bb, err := arm64Busybox(ctx, filepath.Join(dir, "download"))
	if err != nil {
		return "", fmt.Errorf("the multi-platform base: %w", err)
	}
	ctxDir := filepath.Join(dir, "context")
	amd64Root := filepath.Join(h.work, "busybox", "rootfs") // made by buildBase
	steps := [][]string{
		{"mkdir", "-p", ctxDir},
		{"cp", "-a", amd64Root, filepath.Join(ctxDir, "rootfs-amd64")},
		{"cp", "-a", amd64Root, filepath.Join(ctxDir, "rootfs-arm64")},
		{"install", "-m", "0755", bb, filepath.Join(ctxDir, "rootfs-arm64", "bin", "busybox")},
		{"touch", "-h", "-d", "@0", filepath.Join(ctxDir, "rootfs-arm64", "bin", "busybox"), filepath.Join(ctxDir, "rootfs-arm64", "bin")},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, s[0], s[1:]...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(multiArchDockerfile), 0o644); err != nil {
		return "", err
	}
	ref := strings.TrimSuffix(h.base, "/busybox:latest") + "/busybox-multi:latest"
	out, err := exec.CommandContext(ctx, h.opts.strata, "build", "--progress=plain", "--cache-dir", h.cache,
		"--platform", "linux/amd64,linux/arm64", "-t", ref, "--push", ctxDir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the multi-platform base: %v\n%s", err, out)
	}
	return ref, nil
}

// arm64Busybox downloads Debian's busybox-static for arm64 into dir and returns the path of
// its static binary. apt needs the arm64 architecture for that: it is added when missing.
func arm64Busybox(ctx context.Context, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	download := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "download", "busybox-static:arm64")
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if _, err := download(); err != nil {
		foreign, _ := exec.CommandContext(ctx, "dpkg", "--print-foreign-architectures").Output()
		if !strings.Contains(string(foreign), "arm64") {
			logf("adding the arm64 architecture to dpkg, to download busybox-static:arm64")
			if out, err := exec.CommandContext(ctx, "dpkg", "--add-architecture", "arm64").CombinedOutput(); err != nil {
				return "", fmt.Errorf("dpkg --add-architecture arm64: %v\n%s", err, out)
			}
		}
		if out, err := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %v\n%s", err, out)
		}
		if out, err := download(); err != nil {
			return "", fmt.Errorf("apt-get download busybox-static:arm64: %v\n%s", err, out)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "busybox-static_*_arm64.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download left %q", debs)
	}
	x := filepath.Join(dir, "x")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], x).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x: %v\n%s", err, out)
	}
	return filepath.Join(x, "bin", "busybox"), nil
}
