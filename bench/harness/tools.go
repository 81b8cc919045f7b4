package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

// build is one build of a benchmark, as every tool is asked to do it.
type build struct {
	name       string // the image is bench/NAME:latest in the tool's own store
	context    string
	dockerfile string
	base       string // the BASE build-arg: an image in the bench registry
	zstd       bool   // compress new layers with zstd
	cacheFrom  string // a registry cache repository (the tool picks its tag), to import
	cacheTo    string // the same, to export (mode=max)
}

// command is a command line to time, with its extra environment.
type command struct {
	argv []string
	env  []string
}

// tool is a builder under test. Every method but close runs untimed; build and push return
// the command that is timed.
type tool interface {
	name() string
	version() string
	// reset drops every cache and image the tool holds (for a Process: a new daemon on an
	// empty state folder), so that the next build is cold.
	reset(ctx context.Context) error
	build(b build) command
	// push returns the command that pushes the image of b's last build to ref (after any
	// untimed preparation, such as a tag), or "" and why the tool cannot.
	push(ctx context.Context, b build, ref string) (command, error)
	// lacks says why the tool cannot run a feature ("zstd", "cachefrom"), or "".
	lacks(feature string) string
	// daemon is the PID of the tool's daemon whose peak RSS is reported beside the client's,
	// or 0.
	daemon() int
	// logTail is the end of the daemon's log, for a failure report.
	logTail() string
	close()
}

var (
	_ tool = (*strata)(nil)
	_ tool = (*buildah)(nil)
	_ tool = (*buildkit)(nil)
	_ tool = (*docker)(nil)
)

// imageName is the name a build is stored under in a tool's own store.
func imageName(b build) string { return "bench/" + b.name + ":latest" }

// strata runs bin/strata on a cache folder of its own.
type strata struct {
	bin   string
	cache string
	flags []string // BENCH_STRATA_FLAGS
}

func (s *strata) name() string { return "strata" }

func (s *strata) version() string { return commandOutput(s.bin, "version") }

func (s *strata) reset(context.Context) error { return daemon.RemoveState(s.cache) }

func (s *strata) args(b build) []string {
	args := []string{s.bin, "build", "--progress=plain", "--cache-dir", s.cache}
	args = append(args, s.flags...)
	args = append(args, "--build-arg", "BASE="+b.base, "-f", b.dockerfile)
	if b.zstd {
		args = append(args, "--compression", "zstd")
	}
	if b.cacheFrom != "" {
		args = append(args, "--cache-from", "type=registry,ref="+b.cacheFrom+":strata")
	}
	if b.cacheTo != "" {
		args = append(args, "--cache-to", "type=registry,ref="+b.cacheTo+":strata,mode=max")
	}
	return args
}

func (s *strata) build(b build) command {
	return command{argv: append(s.args(b), b.context)}
}

func (s *strata) push(_ context.Context, b build, ref string) (command, error) {
	return command{argv: append(s.args(b), "-t", ref, "--push", b.context)}, nil
}

func (s *strata) lacks(string) string { return "" }
func (s *strata) daemon() int         { return 0 }
func (s *strata) logTail() string     { return "" }
func (s *strata) close()              { _ = daemon.RemoveState(s.cache) }

// buildah runs Debian's buildah on storage of its own (--root, --runroot), with runc:
// buildah picks crun by default, which fails on these machines' cgroup layout.
type buildah struct {
	storage string
}

func (b *buildah) name() string { return "buildah" }

func (b *buildah) version() string { return commandOutput("buildah", "--version") }

func (b *buildah) base() []string {
	return []string{"buildah", "--root", filepath.Join(b.storage, "root"), "--runroot", filepath.Join(b.storage, "runroot"),
		"--storage-driver", "overlay"}
}

func (b *buildah) reset(ctx context.Context) error {
	if _, err := os.Stat(b.storage); err == nil {
		_ = runQuiet(ctx, time.Minute, nil, append(b.base(), "rmi", "--all", "--force")...)
	}
	return daemon.RemoveState(b.storage)
}

func (b *buildah) build(bu build) command {
	// --format docker: buildah's default OCI format drops HEALTHCHECK; the others keep it.
	args := append(b.base(), "build", "--layers", "--format", "docker", "--runtime", "/usr/sbin/runc", "--isolation", "oci",
		"--build-arg", "BASE="+bu.base, "-f", bu.dockerfile, "-t", "localhost/"+imageName(bu))
	if bu.cacheFrom != "" {
		args = append(args, "--cache-from", bu.cacheFrom+"-buildah")
	}
	if bu.cacheTo != "" {
		args = append(args, "--cache-to", bu.cacheTo+"-buildah")
	}
	return command{argv: append(args, bu.context)}
}

func (b *buildah) push(_ context.Context, bu build, ref string) (command, error) {
	return command{argv: append(b.base(), "push", "localhost/"+imageName(bu), "docker://"+ref)}, nil
}

func (b *buildah) lacks(feature string) string {
	if feature == "zstd" {
		return "buildah stores layers uncompressed and compresses only when pushing"
	}
	return ""
}

func (b *buildah) daemon() int     { return 0 }
func (b *buildah) logTail() string { return "" }
func (b *buildah) close()          { _ = b.reset(context.Background()) }

// buildkit is buildkitd (rootful, OCI worker, runc, overlayfs) and buildctl, built from the
// BuildKit Go module by tools/buildkit/build.sh. reset starts a new buildkitd on an empty
// root, so nothing of an earlier build is left, on disk or in the daemon's memory.
// (`buildctl prune --all` would do for the disk: it drops the build cache and the pulled
// base layers, which the next build pulls again.)
type buildkit struct {
	bin        string // folder with buildkitd and buildctl
	dir        string
	registries []string // plain-HTTP registries
	d          *daemon.Process
	started    int
}

func (k *buildkit) name() string { return "buildkit" }

func (k *buildkit) version() string {
	return commandOutput(filepath.Join(k.bin, "buildctl"), "--version")
}

func (k *buildkit) addr() string { return "unix://" + filepath.Join(k.dir, "buildkitd.sock") }

func (k *buildkit) buildctl(args ...string) []string {
	return append([]string{filepath.Join(k.bin, "buildctl"), "--addr", k.addr()}, args...)
}

func (k *buildkit) reset(ctx context.Context) error {
	k.stop()
	root := filepath.Join(k.dir, "root")
	if err := daemon.RemoveState(root); err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	var toml strings.Builder
	toml.WriteString("# written by bench/harness\n[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n[worker.containerd]\n  enabled = false\n")
	for _, r := range k.registries {
		fmt.Fprintf(&toml, "[registry.%q]\n  http = true\n", r)
	}
	config := filepath.Join(k.dir, "buildkitd.toml")
	if err := os.WriteFile(config, []byte(toml.String()), 0o644); err != nil {
		return err
	}
	k.started++
	d, err := daemon.Start("buildkitd", filepath.Join(k.dir, "buildkitd.log"), nil,
		filepath.Join(k.bin, "buildkitd"),
		"--root", root,
		"--addr", k.addr(),
		"--config", config,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--oci-worker-snapshotter", "overlayfs",
		"--oci-worker-binary", "runc",
		// No CNI here: RUN steps use the host's network, as strata's do.
		"--oci-worker-net", "host",
	)
	if err != nil {
		return err
	}
	k.d = d
	return d.WaitReady(60*time.Second, func() error {
		return runQuiet(ctx, 5*time.Second, nil, k.buildctl("debug", "workers")...)
	})
}

func (k *buildkit) stop() {
	if k.d != nil {
		k.d.Stop(20 * time.Second)
		k.d = nil
	}
}

func (k *buildkit) args(b build, output string) []string {
	args := k.buildctl("build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context="+b.context,
		"--local", "dockerfile="+filepath.Dir(b.dockerfile),
		"--opt", "filename="+filepath.Base(b.dockerfile),
		"--opt", "build-arg:BASE="+b.base,
		"--output", output)
	if b.cacheFrom != "" {
		args = append(args, "--import-cache", "type=registry,ref="+b.cacheFrom+":buildkit")
	}
	if b.cacheTo != "" {
		args = append(args, "--export-cache", "type=registry,ref="+b.cacheTo+":buildkit,mode=max")
	}
	return args
}

func (k *buildkit) build(b build) command {
	output := "type=image,name=" + imageName(b) + ",push=false"
	if b.zstd {
		output += ",compression=zstd"
	}
	return command{argv: k.args(b, output)}
}

// push builds again on the warm state (every step cached) with an output that pushes:
// buildctl has no push of a stored image.
func (k *buildkit) push(_ context.Context, b build, ref string) (command, error) {
	return command{argv: k.args(b, "type=image,name="+ref+",push=true")}, nil
}

func (k *buildkit) lacks(string) string { return "" }

func (k *buildkit) daemon() int {
	if k.d == nil {
		return 0
	}
	return k.d.Pid()
}

func (k *buildkit) logTail() string {
	if k.d == nil {
		return ""
	}
	return k.d.Tail()
}

func (k *buildkit) close() {
	k.stop()
	_ = daemon.RemoveState(filepath.Join(k.dir, "root"))
}

// docker is dockerd from Debian's docker.io (BuildKit inside) with the docker client, on a
// data root of its own; reset starts a new dockerd on an empty one. 127.0.0.0/8 registries
// are plain HTTP for dockerd without any setting.
type docker struct {
	client string // /usr/bin/docker: Debian's client; another one on PATH may lack BuildKit
	dir    string
	d      *daemon.Process
}

func (k *docker) name() string { return "docker" }

func (k *docker) version() string {
	return commandOutput(k.client, "-H", k.host(), "version", "--format", "{{.Server.Version}}")
}

func (k *docker) host() string { return "unix://" + filepath.Join(k.dir, "docker.sock") }

func (k *docker) cli(args ...string) []string {
	return append([]string{k.client, "-H", k.host()}, args...)
}

func (k *docker) reset(ctx context.Context) error {
	k.stop()
	for _, sub := range []string{"root", "exec"} {
		if err := daemon.RemoveState(filepath.Join(k.dir, sub)); err != nil {
			return err
		}
	}
	d, err := daemon.Start("dockerd", filepath.Join(k.dir, "dockerd.log"), nil,
		"dockerd",
		"--data-root", filepath.Join(k.dir, "root"),
		"--exec-root", filepath.Join(k.dir, "exec"),
		"--pidfile", filepath.Join(k.dir, "dockerd.pid"),
		"--host", k.host(),
	)
	if err != nil {
		return err
	}
	k.d = d
	return d.WaitReady(60*time.Second, func() error {
		return runQuiet(ctx, 5*time.Second, nil, k.cli("version")...)
	})
}

func (k *docker) stop() {
	if k.d != nil {
		k.d.Stop(30 * time.Second)
		k.d = nil
	}
}

func (k *docker) build(b build) command {
	return command{
		argv: k.cli("build", "--progress", "plain", "--build-arg", "BASE="+b.base, "-f", b.dockerfile,
			"-t", imageName(b), b.context),
		env: []string{"DOCKER_BUILDKIT=1"},
	}
}

func (k *docker) push(ctx context.Context, b build, ref string) (command, error) {
	if err := runQuiet(ctx, time.Minute, nil, k.cli("tag", imageName(b), ref)...); err != nil {
		return command{}, err
	}
	return command{argv: k.cli("push", ref)}, nil
}

func (k *docker) lacks(feature string) string {
	switch feature {
	case "zstd":
		return "docker build (without buildx) has no compression option"
	case "cachefrom":
		return "docker build (without buildx) exports no registry cache"
	}
	return ""
}

func (k *docker) daemon() int {
	if k.d == nil {
		return 0
	}
	return k.d.Pid()
}

func (k *docker) logTail() string {
	if k.d == nil {
		return ""
	}
	return k.d.Tail()
}

func (k *docker) close() {
	k.stop()
	_ = daemon.RemoveState(filepath.Join(k.dir, "root"))
	_ = daemon.RemoveState(filepath.Join(k.dir, "exec"))
}

// commandOutput is the first line a command prints, or "unknown".
func commandOutput(args ...string) string {
	out, err := exec.Command(args[0], args[1:]...).Output()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if err != nil || line == "" {
		return "unknown"
	}
	return line
}
