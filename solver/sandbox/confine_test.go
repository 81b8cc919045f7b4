package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunConfinement runs steps that try what a container may not do by
// default and checks the exact outcome: the process's capabilities,
// no_new_privs and seccomp mode; that it is pid 1 of its own pid namespace
// and sees no other process; its hostname; that mounting, unsharing a user
// namespace (a syscall the seccomp profile refuses), writing /proc/sys and
// reading /proc/kcore fail; and that an insecure step may do all of it.
func TestRunConfinement(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	hostCaps := fmt.Sprintf("%016x", capMask(t, currentCapabilities()))
	tests := []struct {
		name   string
		script string
		c      Config
		want   string
	}{
		{
			name:   "status",
			script: `grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status`,
			want:   "CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n",
		},
		{
			name:   "status insecure",
			script: `grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status`,
			c:      Config{Insecure: true},
			want:   "CapPrm:\t" + hostCaps + "\nCapEff:\t" + hostCaps + "\nCapBnd:\t" + hostCaps + "\nNoNewPrivs:\t0\nSeccomp:\t0\n",
		},
		{
			name:   "status with NewPrivileges",
			script: `grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status`,
			c:      Config{NewPrivileges: true},
			want:   "NoNewPrivs:\t0\nSeccomp:\t2\n",
		},
		{
			// The shell is pid 1; the glob runs in it, so a process
			// listing with no other process prints 1 alone.
			name:   "pid namespace",
			script: `tr '\0' ' ' < /proc/1/cmdline; echo; for p in /proc/[0-9]*; do echo ${p#/proc/}; done`,
			want:   "/bin/sh -c tr '\\0' ' ' < /proc/1/cmdline; echo; for p in /proc/[0-9]*; do echo ${p#/proc/}; done \n1\n",
		},
		{
			name:   "mount",
			script: `mkdir -p /mnt/t; mount -t tmpfs none /mnt/t 2>&1; echo "exit=$?"`,
			want:   "mount: permission denied (are you root?)\nexit=1\n",
		},
		{
			name:   "mount insecure",
			script: `mkdir -p /mnt/t; mount -t tmpfs none /mnt/t 2>&1; echo "exit=$?"`,
			c:      Config{Insecure: true},
			want:   "exit=0\n",
		},
		{
			// unshare(CLONE_NEWUSER) needs no capability: only the
			// seccomp profile refuses it.
			name:   "seccomp refuses unshare",
			script: `unshare -U true 2>&1; echo "exit=$?"`,
			want:   "unshare: unshare(0x10000000): Operation not permitted\nexit=1\n",
		},
		{
			name:   "unshare insecure",
			script: `unshare -U true 2>&1; echo "exit=$?"`,
			c:      Config{Insecure: true},
			want:   "exit=0\n",
		},
		{
			// What Docker's capabilities and profile allow still works.
			name:   "allowed",
			script: `mknod /tmp-null c 1 3 && chroot / true && echo ok`,
			want:   "ok\n",
		},
		{
			name:   "proc/sys is read-only",
			script: `echo x 2>&1 > /proc/sys/kernel/domainname; echo "exit=$?"`,
			want:   "/bin/sh: can't create /proc/sys/kernel/domainname: Read-only file system\nexit=1\n",
		},
		{
			name:   "proc/irq is read-only",
			script: `echo 1 2>&1 > /proc/irq/default_smp_affinity; echo "exit=$?"`,
			want:   "/bin/sh: can't create /proc/irq/default_smp_affinity: Read-only file system\nexit=1\n",
		},
		{
			name:   "masked",
			script: maskedScript,
			want:   maskedWant(t, false),
		},
		{
			name:   "masked insecure",
			script: maskedScript,
			c:      Config{Insecure: true},
			want:   maskedWant(t, true),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRootfs(t)
			got, errOut, err := run(t, root, tt.script, Process{}, tt.c)
			if err != nil || got != tt.want {
				t.Errorf("Run(%q) = %q, %v (stderr %q), want %q", tt.script, got, err, errOut, tt.want)
			}
		})
	}
}

// TestRunHostname: a step has its own hostname, not the host's.
func TestRunHostname(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	root := newRootfs(t)
	got := mustRun(t, root, "hostname; cat /proc/sys/kernel/hostname", Process{}, Config{})
	if got != "buildkitsandbox\nbuildkitsandbox\n" || strings.Contains(got, host) {
		t.Errorf("hostname = %q, want buildkitsandbox twice (host: %q)", got, host)
	}
}

// TestRunNetworkNone: with --network=none a step reaches neither a port
// the host listens on at 127.0.0.1 nor an outside address; with the host's
// network the same port answers.
func TestRunNetworkNone(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the parallel subtests
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host says hi\n"))
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port

	tests := []struct {
		network Network
		addr    string
		want    string
	}{
		{NetworkHost, fmt.Sprintf("127.0.0.1 %d", port), "host says hi\nexit=0\n"},
		{NetworkNone, fmt.Sprintf("127.0.0.1 %d", port), "nc: can't connect to remote host (127.0.0.1): Connection refused\nexit=1\n"},
		{NetworkNone, "192.0.2.1 80", "nc: can't connect to remote host (192.0.2.1): Network is unreachable\nexit=1\n"},
		{NetworkNone, "1.1.1.1 53", "nc: can't connect to remote host (1.1.1.1): Network is unreachable\nexit=1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.network.String()+" "+tt.addr, func(t *testing.T) {
			t.Parallel()
			root := newRootfs(t)
			script := "nc -w 5 " + tt.addr + " </dev/null 2>&1; echo \"exit=$?\""
			if got := mustRun(t, root, script, Process{}, Config{Network: tt.network}); got != tt.want {
				t.Errorf("network %v: %s = %q, want %q", tt.network, script, got, tt.want)
			}
		})
	}
	root := newRootfs(t)
	if got := mustRun(t, root, "ls /sys/class/net", Process{}, Config{Network: NetworkNone}); got != "lo\n" {
		t.Errorf("interfaces with network none = %q, want lo alone", got)
	}
}

// TestRunSeesNothingOutside: a step finds none of the marker files put in
// the host's /tmp, in the runtime's state and bundle directories (a
// builder's cache), and in the root filesystem of another step running at
// the same time, whose process it does not see either.
func TestRunSeesNothingOutside(t *testing.T) {
	requireRuntime(t)
	t.Parallel()
	tmpMarker, err := os.CreateTemp("/tmp", "strata-marker-host-*")
	if err != nil {
		t.Fatal(err)
	}
	tmpMarker.Close()
	defer os.Remove(tmpMarker.Name())
	cache := t.TempDir()
	writeFile(t, filepath.Join(cache, "strata-marker-cache"), "secret\n")
	c := Config{Root: filepath.Join(cache, "runc"), BundleDir: cache}

	// Another build's step, running meanwhile in its own rootfs.
	other := newRootfs(t)
	writeFile(t, filepath.Join(other, "strata-marker-other"), "x\n")
	ctx, cancel := context.WithCancel(context.Background())
	ready := &signalWriter{ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, other, Process{Args: []string{"/bin/sh", "-c", "echo up; exec sleep 1000"}, Stdout: ready}, c)
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-ready.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the other step did not start")
	}

	root := newRootfs(t)
	script := `find / -name 'strata-marker-*' 2>/dev/null; test -e ` + tmpMarker.Name() + ` && echo host-tmp-visible;
		grep -l 'sleep 100[0]' /proc/[0-9]*/cmdline 2>/dev/null; for p in /proc/[0-9]*; do echo ${p#/proc/}; done; echo done`
	if got := mustRun(t, root, script, Process{}, c); got != "1\ndone\n" {
		t.Errorf("step sees %q, want only its own pid 1 and done", got)
	}
	// The same search on the host finds all three, so the step would too
	// if it could see them.
	for _, p := range []string{tmpMarker.Name(), filepath.Join(cache, "strata-marker-cache"), filepath.Join(other, "strata-marker-other")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("marker %s: %v", p, err)
		}
	}
}

// maskedScript prints, for each path Docker masks, whether the step sees a
// file or a directory, and whether it is empty ("0") or not ("some"), or
// nothing.
var maskedScript = `for p in ` + strings.Join(maskedPaths, " ") + `; do
	if [ -d $p ]; then n=$(ls -A $p | wc -l); k=dir
	elif [ -e $p ]; then n=$(cat $p 2>/dev/null | wc -c); k=file
	else echo "$p missing"; continue; fi
	[ $n -gt 0 ] && n=some
	echo "$p $k $n"
done`

// maskedWant is maskedScript's output in a step: a masked path present on
// the host reads as an empty file or directory; one the kernel does not
// have (as /proc/kcore without CONFIG_PROC_KCORE) is missing. Unmasked
// (insecure), what the host has shows. It fails the test unless some
// masked path has content on the host, so that masking is put to a test.
func maskedWant(t *testing.T, insecure bool) string {
	t.Helper()
	var b strings.Builder
	hidden := 0
	for _, p := range maskedPaths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			fmt.Fprintf(&b, "%s missing\n", p)
		case fi.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) > 0 {
				hidden++
			}
			fmt.Fprintf(&b, "%s dir %s\n", p, amount(insecure && len(entries) > 0))
		default:
			data, _ := os.ReadFile(p) // some are root-only or unreadable
			if len(data) > 0 {
				hidden++
			}
			fmt.Fprintf(&b, "%s file %s\n", p, amount(insecure && len(data) > 0))
		}
	}
	if hidden == 0 {
		t.Fatalf("no path of %v has content on this host", maskedPaths)
	}
	return b.String()
}

// amount is how maskedScript says whether there is something.
func amount(some bool) string {
	if some {
		return "some"
	}
	return "0"
}
