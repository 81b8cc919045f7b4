package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Mount is an extra mount of a step, such as a bind mount for
// `RUN --mount` or a tmpfs. The fields mean what they mean in an OCI runtime
// spec: for a bind mount Type is "bind" and Options hold "rbind" (or
// "bind") and "ro" or "rw".
type Mount struct {
	Source      string   // host path, or the file system's source name
	Destination string   // absolute path inside the container
	Type        string   // "bind", "tmpfs", ...
	Options     []string // mount options
}

// Process is the process a step runs.
type Process struct {
	// Args is the final argv; the shell form of RUN is made by the caller
	// (["/bin/sh", "-c", "make"]). Args[0] is looked up in the step's PATH.
	Args []string
	// Env is the environment as "KEY=value". Without a PATH, Docker's
	// default PATH is added.
	Env []string
	// Cwd is the absolute working directory inside the container; "" is
	// "/". It is created (mode 0755, owned by root) if missing, as BuildKit
	// does, and then belongs to the step's layer.
	Cwd string
	// User is the value of USER: "", "name", "uid", "name:group" or
	// "uid:gid"; it is resolved against the rootfs's /etc/passwd and
	// /etc/group, with supplementary groups, as Docker does.
	User string
	// Hostname is the container's hostname; "" is "buildkitsandbox".
	Hostname string
	// Stdout and Stderr receive the process's output; nil discards it.
	// The runtime's own error messages go to Stderr too. Stdin is
	// /dev/null.
	Stdout, Stderr io.Writer
}

// Config is how steps are run.
type Config struct {
	// Runtime is the OCI runtime binary, a name looked up in PATH or a
	// path; "" is "runc". It must take runc's command line.
	Runtime string
	// Root is the runtime's state directory (runc --root), for instance
	// below the build's cache directory; "" is a fresh temporary directory
	// per step, removed afterwards.
	Root string
	// Network is the step's network mode.
	Network Network
	// Mounts are mounted after the default ones (/proc, /dev, /sys,
	// /etc/resolv.conf, /etc/hosts...); one at the destination of a default
	// mount replaces it.
	Mounts []Mount
	// ResolvConf and Hosts are host files bind-mounted read-only at
	// /etc/resolv.conf and /etc/hosts. When empty, the sandbox writes its
	// own: a copy of the host's resolv.conf (without loopback nameservers
	// when the step is not in the host's network namespace) and a hosts
	// file naming localhost and the hostname.
	ResolvConf, Hosts string
	// BundleDir is where the runtime bundle of a step is made; "" is the
	// system's temporary directory. A builder puts it under its cache so
	// that what a killed build leaves behind is found and removed.
	BundleDir string
	// NewPrivileges leaves the no_new_privs bit of the step's process
	// unset, so that setuid programs such as sudo and programs with file
	// capabilities gain privileges, as in Docker and BuildKit, which leave
	// it unset. By default strata sets it: a step gains no privilege beyond
	// what it starts with (root with Docker's default capabilities, or
	// USER), which also lets the seccomp filter be installed last.
	NewPrivileges bool
	// Insecure runs the step as BuildKit runs `RUN --security=insecure`:
	// with every capability this process holds, no seccomp filter and no
	// no_new_privs, no masked or read-only paths, writable /sys and
	// /sys/fs/cgroup, and all devices allowed (see withInsecure). The builder decides whether a step may have it
	// (`--allow security.insecure`).
	Insecure bool
}

// ExitError reports that a step's process exited with a non-zero status.
type ExitError struct {
	Code int
}

// Error returns "exit code: N".
func (e *ExitError) Error() string {
	return fmt.Sprintf("exit code: %d", e.Code)
}

// RuntimeError reports that the OCI runtime failed to run the step's
// process at all, for instance because Args[0] is not found in the
// container. Msg is the runtime's own message.
type RuntimeError struct {
	Runtime string
	Msg     string
}

// Error returns the runtime's message.
func (e *RuntimeError) Error() string {
	return e.Msg
}

// Run runs p in the root filesystem rootfs with an OCI runtime, the way
// BuildKit's runc executor runs a RUN step, and waits for it. rootfs is
// typically an overlay mount whose upper directory becomes the step's layer;
// Run leaves nothing in it that BuildKit would not commit: mount points the
// runtime had to create are removed again (see mountStubs).
//
// Run returns nil when the process exits with status 0, an *ExitError for
// another status, a *RuntimeError when the runtime could not run it, and
// the context's error when ctx ends first; then the container is killed.
// The container, its bundle and its runtime state are gone when Run returns.
//
// Steps may run concurrently, but never two in the same rootfs: the mount
// points one creates and removes are in use by the other.
func Run(ctx context.Context, rootfs string, p Process, c Config) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	runtime, err := lookRuntime(c.Runtime)
	if err != nil {
		return err
	}
	if rootfs, err = checkInput(rootfs, &p, &c); err != nil {
		return err
	}
	user, err := resolveUser(rootfs, p.User)
	if err != nil {
		return err
	}

	bundle, err := os.MkdirTemp(c.BundleDir, "strata-bundle-")
	if err != nil {
		return fmt.Errorf("creating bundle: %w", err)
	}
	defer os.RemoveAll(bundle)
	state := c.Root
	if state == "" {
		if state, err = os.MkdirTemp("", "strata-runc-"); err != nil {
			return fmt.Errorf("creating runtime state directory: %w", err)
		}
		defer os.RemoveAll(state)
	} else if err := os.MkdirAll(state, 0o711); err != nil {
		return fmt.Errorf("creating runtime state directory: %w", err)
	}
	spec, err := writeBundle(bundle, rootfs, user, p, c)
	if err != nil {
		return err
	}

	dests := make([]string, len(spec.Mounts))
	for i, m := range spec.Mounts {
		dests[i] = m.Destination
	}
	stubs := recordMountStubs(rootfs, dests)
	// Deferred after the bundle's removal, so it runs before it, and after
	// runc.run has made sure the container is gone.
	defer stubs.remove()

	if p.Cwd != "/" {
		if err := pathrs.MkdirAll(rootfs, p.Cwd, 0o755); err != nil {
			return fmt.Errorf("creating working directory %s: %w", p.Cwd, err)
		}
	}

	r := runc{binary: runtime, root: state}
	return r.run(ctx, newContainerID(), bundle, p.Stdout, p.Stderr)
}

// checkInput validates Run's input, returns rootfs as a clean absolute path
// and normalizes p and c: a clean absolute Cwd ("" becomes "/"), an absolute
// c.Root, and clean mount destinations in a copy of c.Mounts.
func checkInput(rootfs string, p *Process, c *Config) (string, error) {
	if len(p.Args) == 0 {
		return "", errors.New("running step: no command")
	}
	if c.Network < NetworkDefault || c.Network > NetworkHost {
		return "", fmt.Errorf("running step: unknown network mode %d", int(c.Network))
	}
	rootfs, err := filepath.Abs(rootfs)
	if err != nil {
		return "", fmt.Errorf("resolving rootfs: %w", err)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return "", fmt.Errorf("checking rootfs: %w", err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("checking rootfs: %s is not a directory", rootfs)
	}
	if c.Root != "" {
		if c.Root, err = filepath.Abs(c.Root); err != nil {
			return "", fmt.Errorf("resolving runtime state directory: %w", err)
		}
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if !path.IsAbs(p.Cwd) {
		return "", fmt.Errorf("working directory %q is not absolute", p.Cwd)
	}
	p.Cwd = path.Clean(p.Cwd)
	mounts := make([]Mount, len(c.Mounts))
	for i, m := range c.Mounts {
		if !path.IsAbs(m.Destination) {
			return "", fmt.Errorf("mount destination %q is not absolute", m.Destination)
		}
		m.Destination = path.Clean(m.Destination)
		mounts[i] = m
	}
	c.Mounts = mounts
	return rootfs, nil
}

// writeBundle writes the OCI bundle of the step into the directory bundle:
// config.json, and resolv.conf and hosts unless c names the host's files to
// use instead. It returns the spec.
func writeBundle(bundle, rootfs string, user specs.User, p Process, c Config) (*specs.Spec, error) {
	in := specInput{
		rootfs:        rootfs,
		user:          user,
		network:       c.Network,
		resolvConf:    c.ResolvConf,
		hosts:         c.Hosts,
		mounts:        c.Mounts,
		newPrivileges: c.NewPrivileges,
		insecure:      c.Insecure,
		openFiles:     openFilesLimit(),
		cgroupNS:      cgroupNamespaceSupported(),
	}
	if in.resolvConf == "" {
		b, err := resolvConf(hostResolvConf, c.Network)
		if err != nil {
			return nil, err
		}
		if in.resolvConf, err = writeBundleFile(bundle, "resolv.conf", b); err != nil {
			return nil, err
		}
	}
	if in.hosts == "" {
		hostname := p.Hostname
		if hostname == "" {
			hostname = defaultHostname
		}
		var err error
		if in.hosts, err = writeBundleFile(bundle, "hosts", hostsFile(hostname)); err != nil {
			return nil, err
		}
	}
	spec, err := newSpec(p, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding runtime spec: %w", err)
	}
	if _, err := writeBundleFile(bundle, "config.json", b); err != nil {
		return nil, err
	}
	return spec, nil
}

// writeBundleFile writes b to name in the bundle directory and returns the
// file's path.
func writeBundleFile(bundle, name string, b []byte) (string, error) {
	p := filepath.Join(bundle, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return p, nil
}

// newContainerID returns a container id unique on this host.
func newContainerID() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return "strata-" + hex.EncodeToString(b)
}
