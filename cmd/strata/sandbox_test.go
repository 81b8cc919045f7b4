package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testregistry"
	"github.com/stratabuild/strata/solver/sandbox"
)

// Tests of the RUN sandbox through the strata binary: what a RUN step may
// see and do (issue 7, item 6).

// blockingServer listens on 127.0.0.1 and answers each HTTP connection
// only once release is closed; started is closed at the first connection.
type blockingServer struct {
	l       net.Listener
	port    int
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func startBlockingServer(t *testing.T) *blockingServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &blockingServer{l: l, port: l.Addr().(*net.TCPAddr).Port, started: make(chan struct{}), release: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.once.Do(func() { close(s.started) })
			go func() {
				defer c.Close()
				select {
				case <-s.release:
				case <-time.After(2 * time.Minute):
				}
				c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"))
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return s
}

// TestSandboxConfinement builds, with the same cache directory, one image
// whose RUN steps record what they can see and do, while another build's
// RUN is running. It checks the exact records: Docker's capabilities,
// no_new_privs and seccomp filter; pid 1 is the step's own shell and no
// other process is visible, not even the other build's; its own hostname;
// mount, unshare (refused by seccomp) and writing /proc/sys fail;
// /proc/timer_list reads empty; --network=none has only lo and reaches
// neither a port the host listens on at 127.0.0.1 nor an outside address;
// of marker files in the host's /tmp, in the cache directory, in the
// other build's RUN and in the step itself, `find /` finds only its own; and --security=insecure
// lifts the seccomp filter and no_new_privs.
func TestSandboxConfinement(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	tmpMarker, err := os.CreateTemp("/tmp", "strata-e2e-marker-tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	tmpMarker.Close()
	t.Cleanup(func() { os.Remove(tmpMarker.Name()) })
	if err := os.WriteFile(filepath.Join(cache, "strata-e2e-marker-cache"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startBlockingServer(t)

	// The other build: its RUN leaves a marker in its root file system and
	// waits on the server until the first build is done.
	otherCtx := writeContext(t, "FROM "+base+"\nRUN --network=host touch /strata-e2e-marker-other && wget -q -O /dev/null http://127.0.0.1:"+fmt.Sprint(srv.port)+"/\n", map[string]string{})
	otherDone := make(chan result, 1)
	go func() { otherDone <- strata(t, "build", "--progress=plain", "--cache-dir", cache, otherCtx) }()
	defer func() {
		close(srv.release)
		if r := <-otherDone; r.code != 0 {
			t.Errorf("other build: exit %d\n%s", r.code, r.stderr)
		}
	}()
	select {
	case <-srv.started:
	case <-time.After(2 * time.Minute):
		t.Fatal("the other build's RUN did not start")
	}

	df := "FROM " + base + `
RUN grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status > /status.txt
RUN tr '\0' ' ' < /proc/1/cmdline > /pid1.txt; for p in /proc/[0-9]*; do echo ${p#/proc/}; done > /pids.txt
RUN hostname > /hostname.txt
RUN mkdir -p /mnt/t; mount -t tmpfs none /mnt/t > /mount.txt 2>&1; echo "exit=$?" >> /mount.txt
RUN unshare -U true > /unshare.txt 2>&1; echo "exit=$?" >> /unshare.txt
RUN (echo x > /proc/sys/kernel/domainname) > /procsys.txt 2>&1; echo "exit=$?" >> /procsys.txt
RUN wc -c < /proc/timer_list > /timer_list.txt
RUN --network=none ls /sys/class/net > /net-none.txt
RUN --network=none nc -w 5 127.0.0.1 PORT < /dev/null > /nc-host.txt 2>&1; echo "exit=$?" >> /nc-host.txt
RUN --network=none nc -w 5 192.0.2.1 80 < /dev/null > /nc-outside.txt 2>&1; echo "exit=$?" >> /nc-outside.txt
RUN touch /strata-e2e-marker-self; find / -name 'strata-e2e-marker-*' > /found.txt 2>/dev/null; grep -l 'marker-othe[r]' /proc/[0-9]*/cmdline >> /found.txt 2>/dev/null; test -e TMPMARKER && echo host-tmp >> /found.txt; true
RUN --security=insecure grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status > /insecure.txt; unshare -U true && echo unshare >> /insecure.txt
`
	df = strings.NewReplacer("PORT", fmt.Sprint(srv.port), "TMPMARKER", tmpMarker.Name()).Replace(df)
	b := buildLocal(t, cache, writeContext(t, df, map[string]string{}), "--allow", "security.insecure")

	b.wantContent(t, "status.txt", "CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n")
	b.wantContent(t, "pid1.txt", `/bin/sh -c tr '\0' ' ' < /proc/1/cmdline > /pid1.txt; for p in /proc/[0-9]*; do echo ${p#/proc/}; done > /pids.txt `)
	b.wantContent(t, "pids.txt", "1\n")
	b.wantContent(t, "hostname.txt", "buildkitsandbox\n")
	if host, _ := os.Hostname(); host == "buildkitsandbox" {
		t.Errorf("the host is called buildkitsandbox too; the hostname check proves nothing")
	}
	b.wantContent(t, "mount.txt", "mount: permission denied (are you root?)\nexit=1\n")
	b.wantContent(t, "unshare.txt", "unshare: unshare(0x10000000): Operation not permitted\nexit=1\n")
	b.wantContent(t, "procsys.txt", "/bin/sh: can't create /proc/sys/kernel/domainname: Read-only file system\nexit=1\n")
	b.wantContent(t, "timer_list.txt", "0\n")
	b.wantContent(t, "net-none.txt", "lo\n")
	b.wantContent(t, "nc-host.txt", "nc: can't connect to remote host (127.0.0.1): Connection refused\nexit=1\n")
	b.wantContent(t, "nc-outside.txt", "nc: can't connect to remote host (192.0.2.1): Network is unreachable\nexit=1\n")
	b.wantContent(t, "found.txt", "/strata-e2e-marker-self\n") // its own only
	b.wantContent(t, "insecure.txt", "NoNewPrivs:\t0\nSeccomp:\t0\nunshare\n")

	// Each marker is where the step could have looked, and the other
	// build was still running when the step looked.
	if data, err := os.ReadFile("/proc/timer_list"); err != nil || len(data) == 0 {
		t.Errorf("host /proc/timer_list: %d bytes, %v; want content, which the step must not see", len(data), err)
	}
	for _, p := range []string{tmpMarker.Name(), filepath.Join(cache, "strata-e2e-marker-cache")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("marker %s: %v", p, err)
		}
	}
	select {
	case r := <-otherDone:
		t.Errorf("the other build ended before the checks: exit %d\n%s", r.code, r.stderr)
		otherDone <- r
	default:
	}
}

// TestSandboxEmulatedSeccomp runs a linux/arm64 RUN under QEMU user
// emulation with the seccomp filter on: the emulator's syscalls pass
// Docker's profile, and what the profile refuses is refused to the
// emulated program too.
func TestSandboxEmulatedSeccomp(t *testing.T) {
	requireE2E(t, "runc", "docker-registry", "apt-get", "dpkg-deb")
	if runtime.GOARCH != "amd64" {
		t.Skip("the test's busybox bases are amd64 and arm64; the host is " + runtime.GOARCH)
	}
	require(t, sandbox.CheckEmulation("linux/arm64") == nil, "no QEMU emulation for linux/arm64 here")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := multiArchBusybox(t, reg, cache)
	df := "FROM --platform=linux/arm64 " + base + `
RUN uname -m > /arch.txt; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status >> /arch.txt
RUN unshare -U true > /unshare.txt 2>&1; echo "exit=$?" >> /unshare.txt
RUN echo hi | sha256sum | wc -c > /work.txt
`
	b := buildLocal(t, cache, writeContext(t, df, map[string]string{}))
	b.wantContent(t, "arch.txt", "aarch64\nNoNewPrivs:\t1\nSeccomp:\t2\n")
	b.wantContent(t, "unshare.txt", "unshare: unshare(0x10000000): Operation not permitted\nexit=1\n")
	b.wantContent(t, "work.txt", "68\n")
}
