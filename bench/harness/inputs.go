package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

// prepareInputs builds and pushes the base images and generates the big10k context.
// strata builds the base images, whichever tools are benchmarked.
func (h *harness) prepareInputs(ctx context.Context) error {
	if _, err := os.Stat(h.strata); err != nil {
		return fmt.Errorf("%s is missing; it builds the base images (make build)", h.strata)
	}
	work := h.cfg.work
	bb := filepath.Join(work, "busybox")
	if err := runQuiet(ctx, time.Minute, nil, filepath.Join(h.cfg.repo, "testdata", "busybox", "make-context.sh"), bb); err != nil {
		return err
	}
	h.busybox = h.reg.host + "/strata/busybox:latest"
	if err := h.pushBase(ctx, bb, h.busybox); err != nil {
		return err
	}
	logf("base image %s", h.busybox)

	if h.needBig10k() {
		dir := filepath.Join(work, "big10k")
		logf("big10k: generating %s", big10k.describe())
		start := time.Now()
		if err := big10k.write(dir); err != nil {
			return fmt.Errorf("generating big10k: %w", err)
		}
		digest, err := digestTree(dir)
		if err != nil {
			return err
		}
		h.results.Inputs["big10k"] = map[string]any{
			"files": big10k.Files, "dirs": big10k.Dirs, "bytes": big10k.totalSize(), "tree_sha256": digest,
		}
		logf("big10k: %s in %.1fs (tree sha256 %.12s)", dir, time.Since(start).Seconds(), digest)
	}

	if !h.cfg.skip["apt"] {
		tarball, err := h.debianRootfs(ctx)
		if err != nil {
			return err
		}
		dir := filepath.Join(work, "debian")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := linkOrCopy(tarball, filepath.Join(dir, "rootfs.tar")); err != nil {
			return err
		}
		df := "# Debian bookworm (debootstrap --variant=minbase), imported by bench/harness\nFROM scratch\nADD rootfs.tar /\nCMD [\"bash\"]\n"
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
			return err
		}
		h.debian = h.reg.host + "/strata/debian:bookworm"
		if err := h.pushBase(ctx, dir, h.debian); err != nil {
			return err
		}
		_ = os.RemoveAll(dir)
		logf("base image %s", h.debian)
	}
	return nil
}

func (h *harness) needBig10k() bool { return !h.cfg.skip["big10k"] || h.cfg.limits }

// pushBase builds a base image with strata on a throwaway cache and pushes it.
func (h *harness) pushBase(ctx context.Context, dir, ref string) error {
	cache := filepath.Join(h.cfg.work, "base-cache")
	defer daemon.RemoveState(cache)
	logFile := filepath.Join(h.cfg.work, "logs", "base."+filepath.Base(dir)+".log")
	cmd := exec.CommandContext(ctx, h.strata, "build", "--progress=plain", "--cache-dir", cache, "-t", ref, "--push", dir)
	out, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strata could not build the base image %s (%v):\n%s", ref, err, daemon.TailFile(logFile, 3000))
	}
	return nil
}

// debianRootfs returns a tarball of `debootstrap --variant=minbase bookworm`, made once
// and kept in the cache folder (about 75 s, network bound).
func (h *harness) debianRootfs(ctx context.Context) (string, error) {
	tarball := filepath.Join(h.cfg.cacheDir, "debian-bookworm-minbase-"+runtime.GOARCH+".tar")
	if _, err := os.Stat(tarball); err == nil {
		logf("apt: Debian base from %s", tarball)
		return tarball, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", errors.New("debootstrap is not installed (apt-get install debootstrap), or skip apt: BENCH_SKIP=apt")
	}
	if err := os.MkdirAll(h.cfg.cacheDir, 0o755); err != nil {
		return "", err
	}
	root := filepath.Join(h.cfg.work, "debootstrap")
	defer daemon.RemoveState(root)
	logFile := filepath.Join(h.cfg.work, "logs", "debootstrap.log")
	logf("apt: debootstrap --variant=minbase bookworm (about 75 s, once; kept in %s)", tarball)
	start := time.Now()
	mirror := envOr("BENCH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
	if err := runLogged(ctx, logFile, "debootstrap", "--variant=minbase", "bookworm", root, mirror); err != nil {
		return "", err
	}
	// The contents of /dev, /proc and /sys are the host's business, not the image's.
	tmp := tarball + ".tmp"
	if err := runLogged(ctx, logFile, "tar", "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
		"--exclude=./var/cache/apt/archives/*.deb", "-C", root, "-cf", tmp, "."); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, tarball); err != nil {
		return "", err
	}
	logf("apt: debootstrap took %.0fs", time.Since(start).Seconds())
	return tarball, nil
}

// runLogged runs a command with its output appended to logFile; a failure carries the tail.
func runLogged(ctx context.Context, logFile string, args ...string) error {
	out, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v:\n%s", args[0], err, daemon.TailFile(logFile, 3000))
	}
	return nil
}

// linkOrCopy hard-links src at dst, or copies it across file systems.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
