package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// busybox is a statically linked busybox (Debian's busybox-static).
const busybox = "/bin/busybox"

// applets are linked to busybox in test root filesystems.
var applets = []string{"sh", "echo", "cat", "id", "ls", "touch", "rm", "mkdir", "sleep", "wget", "ip", "pwd", "hostname", "true", "mount", "grep",
	"find", "nc", "tr", "wc", "unshare", "mknod", "chroot"}

// requireRuntime skips the test unless it runs as root with runc and a static
// busybox available; with CI set it fails instead, so that CI never passes
// by skipping.
func requireRuntime(t testing.TB) {
	t.Helper()
	var reason string
	switch {
	case os.Geteuid() != 0:
		reason = "needs root to run containers"
	case CheckRuntime("") != nil:
		reason = CheckRuntime("").Error()
	default:
		if _, err := os.Stat(busybox); err != nil {
			reason = "needs a static busybox at " + busybox + " (apt-get install busybox-static)"
		}
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// newBusyboxTree fills dir with /bin/busybox and its applet symlinks.
func newBusyboxTree(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
}

// newRootfs returns a root filesystem with busybox, /etc/passwd and
// /etc/group.
func newRootfs(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	newBusyboxTree(t, root)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\napp:x:1000:\nextra:x:2000:app\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// run runs a shell script in rootfs and returns its output.
func run(t *testing.T, rootfs, script string, p Process, c Config) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	p.Args = []string{"/bin/sh", "-c", script}
	p.Stdout, p.Stderr = &out, &errOut
	err = Run(context.Background(), rootfs, p, c)
	return out.String(), errOut.String(), err
}

// mustRun is run for a script that must succeed.
func mustRun(t *testing.T, rootfs, script string, p Process, c Config) string {
	t.Helper()
	out, errOut, err := run(t, rootfs, script, p, c)
	if err != nil {
		t.Fatalf("Run(%q) = %v; stderr: %s", script, err, errOut)
	}
	return out
}

func TestRunOutput(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	out, errOut, err := run(t, root, "echo hello; echo oops >&2", Process{}, Config{})
	if err != nil || out != "hello\n" || errOut != "oops\n" {
		t.Errorf("Run(echo) = %q, %q, %v, want hello and oops", out, errOut, err)
	}
}

func TestRunExitCode(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	_, _, err := run(t, root, "exit 3", Process{}, Config{})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("Run(exit 3) = %v, want ExitError{3}", err)
	}
	if err.Error() != "exit code: 3" {
		t.Errorf("Error() = %q, want %q", err.Error(), "exit code: 3")
	}
}

func TestRunEnv(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"default PATH", []string{"FOO=bar baz"}, "bar baz|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"},
		{"own PATH", []string{"PATH=/bin", "FOO=x"}, "x|/bin\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRootfs(t) // concurrent steps never share a rootfs
			got := mustRun(t, root, `echo "$FOO|$PATH"`, Process{Env: tt.env}, Config{})
			if got != tt.want {
				t.Errorf("env %q: got %q, want %q", tt.env, got, tt.want)
			}
		})
	}
}

func TestRunCwd(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	if got := mustRun(t, root, "pwd", Process{Cwd: "/work/dir"}, Config{}); got != "/work/dir\n" {
		t.Errorf("pwd = %q, want /work/dir", got)
	}
	if fi, err := os.Stat(filepath.Join(root, "work", "dir")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Errorf("working directory in rootfs: %v, %v, want a 0755 directory", fi, err)
	}
	if got := mustRun(t, root, "pwd", Process{}, Config{}); got != "/\n" {
		t.Errorf("pwd without Cwd = %q, want /", got)
	}
}

func TestRunUser(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	tests := []struct {
		user, want string
	}{
		{"", "0 0 0"},
		{"app", "1000 1000 1000 2000"},
		{"1000", "1000 1000 1000 2000"},
		{"1000:2000", "1000 2000 2000"},
		{"app:extra", "1000 2000 2000"},
		{"4242", "4242 0 0"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			root := newRootfs(t)
			got := mustRun(t, root, `echo $(id -u) $(id -g) $(id -G)`, Process{User: tt.user}, Config{})
			if got != tt.want+"\n" {
				t.Errorf("user %q: id = %q, want %q", tt.user, got, tt.want)
			}
		})
	}

	// Names as `id` prints them, the way the task brief states the result.
	if got := mustRun(t, root, "id", Process{User: "app"}, Config{}); got != "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n" {
		t.Errorf("id as app = %q", got)
	}

	_, _, err := run(t, root, "id", Process{User: "nobody"}, Config{})
	if want := "unable to find user nobody: no matching entries in passwd file"; err == nil || err.Error() != want {
		t.Errorf("Run as nobody = %v, want %q", err, want)
	}
}

// interfaces returns the interface names listed in a /proc/net/dev.
func interfaces(procNetDev string) []string {
	var names []string
	for line := range strings.Lines(procNetDev) {
		name, _, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(name, "|") {
			names = append(names, strings.TrimSpace(name))
		}
	}
	slices.Sort(names)
	return names
}

func TestRunNetwork(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	hostInterfaces := func() []string {
		b, err := os.ReadFile("/proc/net/dev")
		if err != nil {
			t.Fatal(err)
		}
		return interfaces(string(b))
	}

	for _, network := range []Network{NetworkNone, NetworkHost, NetworkDefault} {
		t.Run(network.String(), func(t *testing.T) {
			t.Parallel()
			root := newRootfs(t)
			before := hostInterfaces()
			got := interfaces(mustRun(t, root, "cat /proc/net/dev", Process{}, Config{Network: network}))
			after := hostInterfaces()
			if network == NetworkNone {
				if !slices.Equal(got, []string{"lo"}) {
					t.Errorf("network none: interfaces %v, want [lo]", got)
				}
				return
			}
			// The host's network: the step sees the host's interfaces.
			// Other work on the host (a container's veth) may add or
			// remove one while the step runs: every interface there before
			// and after must be seen, and none that was in neither.
			for _, name := range before {
				if slices.Contains(after, name) && !slices.Contains(got, name) {
					t.Errorf("network %v: interfaces %v lack the host's %s", network, got, name)
				}
			}
			for _, name := range got {
				if !slices.Contains(before, name) && !slices.Contains(after, name) {
					t.Errorf("network %v: interface %s is not the host's (%v)", network, name, before)
				}
			}
		})
	}

	// The loopback interface of a new namespace is up.
	if got := mustRun(t, root, "ip -o link show lo", Process{}, Config{Network: NetworkNone}); !strings.Contains(got, "UP") {
		t.Errorf("lo with network none: %q, want it up", got)
	}
}

func TestRunEtcFiles(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := mustRun(t, root, "cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname", Process{}, Config{})
	want := string(hostResolv) + "---\n" + string(hostsFile("buildkitsandbox")) + "---\nbuildkitsandbox\n"
	if got != want {
		t.Errorf("resolv.conf, hosts, hostname:\n%s\nwant:\n%s", got, want)
	}

	got = mustRun(t, root, "cat /etc/hosts; hostname", Process{Hostname: "builder"}, Config{})
	if want := string(hostsFile("builder")) + "builder\n"; got != want {
		t.Errorf("with Hostname builder: %q, want %q", got, want)
	}

	// Both files are read-only.
	_, _, err = run(t, root, "echo x >> /etc/hosts || exit 7; echo x >> /etc/resolv.conf || exit 8", Process{}, Config{})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 7 {
		t.Errorf("writing /etc/hosts = %v, want exit code 7", err)
	}

	// Files given by the caller are mounted instead.
	dir := t.TempDir()
	resolv, hosts := filepath.Join(dir, "resolv"), filepath.Join(dir, "hosts")
	writeFile(t, resolv, "nameserver 192.0.2.1\n")
	writeFile(t, hosts, "192.0.2.2 registry\n")
	got = mustRun(t, root, "cat /etc/resolv.conf /etc/hosts", Process{}, Config{ResolvConf: resolv, Hosts: hosts})
	if want := "nameserver 192.0.2.1\n192.0.2.2 registry\n"; got != want {
		t.Errorf("with caller's files: %q, want %q", got, want)
	}
}

// treeOf lists the paths below dir, relative to it, sorted.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// mountOverlay mounts an overlay of lower at a new directory and returns the
// merged and upper directories; it is unmounted when the test ends.
func mountOverlay(t *testing.T, lower string) (merged, upper string) {
	t.Helper()
	dir := t.TempDir()
	merged, upper, work := filepath.Join(dir, "merged"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{merged, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mounting overlay: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, 0); err != nil {
			t.Errorf("unmounting overlay: %v", err)
		}
	})
	return merged, upper
}

// TestRunMountStubsOverlay checks that the mount points runc creates do not
// end up in the layer: over an image with nothing but busybox, the upper
// directory holds only what the step wrote.
func TestRunMountStubsOverlay(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	lower := t.TempDir()
	newBusyboxTree(t, lower)

	tests := []struct {
		name   string
		script string
		p      Process
		mounts []Mount
		want   []string
	}{
		{
			name:   "plain",
			script: "echo hi > /out.txt; cat /etc/resolv.conf /etc/hosts > /dev/null",
			want:   []string{"out.txt"},
		},
		{
			name:   "workdir",
			script: "echo hi > out.txt",
			p:      Process{Cwd: "/app/src"},
			want:   []string{"app", "app/src", "app/src/out.txt"},
		},
		{
			name:   "extra mounts",
			script: "echo hi > /mnt/cache/x; echo keep > /mnt/keep.txt; touch /opt/ro/y 2>/dev/null; echo hi > /out.txt",
			mounts: []Mount{
				{Destination: "/mnt/cache", Type: "tmpfs", Source: "tmpfs"},
				{Destination: "/opt/ro", Type: "bind", Source: t.TempDir(), Options: []string{"rbind", "ro"}},
			},
			want: []string{"mnt", "mnt/keep.txt", "out.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			merged, upper := mountOverlay(t, lower)
			mustRun(t, merged, tt.script, tt.p, Config{Mounts: tt.mounts})
			if got := treeOf(t, upper); !slices.Equal(got, tt.want) {
				t.Errorf("upper dir = %v, want %v", got, tt.want)
			}
			if got, want := treeOf(t, merged), append(treeOf(t, lower), tt.want...); len(got) != len(want) {
				t.Errorf("merged dir = %v, want %v", got, want)
			}
		})
	}
}

// TestRunMountStubsKept checks that existing mount points, and files the step
// wrote to a stub's place, stay.
func TestRunMountStubsKept(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	for _, d := range []string{"proc", "dev", "sys"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "etc", "hosts"), "")
	before := treeOf(t, root)
	mustRun(t, root, "true", Process{}, Config{})
	if got := treeOf(t, root); !slices.Equal(got, before) {
		t.Errorf("rootfs after run = %v, want %v", got, before)
	}
}

// TestRunMountStubsSymlink checks a symlinked /etc/resolv.conf whose target
// is missing, as in images made for systemd-resolved: the runtime follows
// the link and creates the target and its directories; those go again, the
// link stays.
func TestRunMountStubsSymlink(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	if err := os.Symlink("/run/systemd/resolve/stub-resolv.conf", filepath.Join(root, "etc", "resolv.conf")); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, root)
	if got := mustRun(t, root, "cat /etc/resolv.conf", Process{}, Config{ResolvConf: writeTemp(t, "nameserver 192.0.2.1\n")}); got != "nameserver 192.0.2.1\n" {
		t.Errorf("resolv.conf through the symlink = %q", got)
	}
	if got := treeOf(t, root); !slices.Equal(got, before) {
		t.Errorf("rootfs after run = %v, want %v", got, before)
	}
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	writeFile(t, p, content)
	return p
}

func TestRunRuntimeError(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	var errOut bytes.Buffer
	err := Run(context.Background(), root, Process{Args: []string{"nosuch"}, Stderr: &errOut}, Config{})
	var rerr *RuntimeError
	if !errors.As(err, &rerr) {
		t.Fatalf("Run(nosuch) = %v (%T), want a RuntimeError", err, err)
	}
	if want := `exec: "nosuch": executable file not found in $PATH`; !strings.Contains(err.Error(), want) {
		t.Errorf("Run(nosuch) = %q, want it to contain %q", err, want)
	}
}

func TestRunMissingRuntime(t *testing.T) {
	root := t.TempDir()
	err := Run(context.Background(), root, Process{Args: []string{"true"}}, Config{Runtime: "runc-does-not-exist"})
	if !errors.Is(err, ErrNoRuntime) || !strings.HasPrefix(err.Error(), "runc-does-not-exist not found in PATH: RUN steps need an OCI runtime") {
		t.Errorf("Run with a missing runtime = %v, want the CheckRuntime error", err)
	}
}

func TestRunBadInput(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name string
		p    Process
		c    Config
	}{
		{"no args", Process{}, Config{}},
		{"relative cwd", Process{Args: []string{"true"}, Cwd: "work"}, Config{}},
		{"relative mount", Process{Args: []string{"true"}}, Config{Mounts: []Mount{{Destination: "cache", Type: "tmpfs"}}}},
		{"bad network", Process{Args: []string{"true"}}, Config{Network: Network(9)}},
	}
	for _, tt := range tests {
		if err := Run(context.Background(), root, tt.p, tt.c); err == nil {
			t.Errorf("%s: Run = nil, want an error", tt.name)
		}
	}
	if err := Run(context.Background(), filepath.Join(root, "missing"), Process{Args: []string{"true"}}, Config{}); err == nil {
		t.Errorf("Run in a missing rootfs = nil, want an error")
	}
}

// signalWriter closes ready on its first write.
type signalWriter struct {
	once  sync.Once
	ready chan struct{}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.ready) })
	return len(b), nil
}

func TestRunCancel(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &signalWriter{ready: make(chan struct{})}
	go func() {
		select {
		case <-w.ready:
		case <-time.After(30 * time.Second):
		}
		cancel()
	}()

	start := time.Now()
	err := Run(ctx, root, Process{Args: []string{"/bin/sh", "-c", "echo started; exec sleep 100"}, Stdout: w}, Config{Root: state})
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run cancelled = %v, want context.Canceled", err)
	}
	if elapsed > 10*time.Second {
		t.Errorf("Run took %v after cancel, want it prompt", elapsed)
	}
	out, err := exec.Command("runc", "--root", state, "list", "-q").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("runc list after cancel = %q, %v, want no containers", out, err)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Errorf("state dir after cancel holds %v", entries)
	}
}

// TestRunCancelEarly cancels while runc is still setting the container up.
func TestRunCancelEarly(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	root := newRootfs(t)
	for _, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		state := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(delay, cancel)
		err := Run(ctx, root, Process{Args: []string{"sleep", "100"}}, Config{Root: state})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run cancelled after %v = %v, want context.Canceled", delay, err)
		}
		if entries, _ := os.ReadDir(state); len(entries) != 0 {
			t.Errorf("state dir after cancel at %v holds %v", delay, entries)
		}
	}
}

// TestRunLeavesNothing checks that the bundle and the default state
// directory are removed. It sets TMPDIR, so it does not run in parallel.
func TestRunLeavesNothing(t *testing.T) {
	requireRuntime(t)
	root := newRootfs(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mustRun(t, root, "true", Process{}, Config{})
	run(t, root, "exit 1", Process{}, Config{})
	run(t, root, "true", Process{}, Config{Runtime: "runc-does-not-exist"})
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("TMPDIR after runs holds %v", entries)
	}
}

// BenchmarkRunTrue measures a trivial step, `true`, from spec to cleanup.
func BenchmarkRunTrue(b *testing.B) {
	requireRuntime(b)
	root := b.TempDir()
	newBusyboxTree(b, root)
	for b.Loop() {
		if err := Run(context.Background(), root, Process{Args: []string{"true"}}, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
