// Package daemon starts and stops the background processes of strata's test harnesses
// (bench/harness, conformance): registries and buildkitd, with their logs, readiness checks
// and the state folders they leave.
package daemon

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a background process a test harness started; Stop ends it by its PID.
type Process struct {
	name   string
	log    string // its stdout and stderr
	cmd    *exec.Cmd
	exited chan error
}

func Start(name, logFile string, env []string, args ...string) (*Process, error) {
	f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = f
	cmd.Stderr = f
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// Die with the harness; a process group of its own so that a terminal's ^C reaches the
	// harness first, which then stops the daemon in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &Process{name: name, log: logFile, cmd: cmd, exited: make(chan error, 1)}
	go func() { d.exited <- cmd.Wait() }()
	return d, nil
}

func (d *Process) Pid() int { return d.cmd.Process.Pid }

// tail returns the end of the daemon's log.
func (d *Process) Tail() string { return TailFile(d.log, 3000) }

// stop sends SIGTERM, waits up to grace, then kills.
func (d *Process) Stop(grace time.Duration) {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.exited <- err
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		d.exited <- <-d.exited
	}
}

// waitReady polls ready until it succeeds, the daemon exits or timeout passes.
func (d *Process) WaitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-d.exited:
			d.exited <- err
			return fmt.Errorf("%s exited early (%v): %s", d.name, err, d.Tail())
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v\n%s", d.name, timeout, err, d.Tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort is a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RemoveState removes a folder a tool kept its state in; mounts left below it (overlay
// mounts of a killed daemon, buildah's storage) are unmounted first, deepest first.
func RemoveState(root string) error {
	mounts, _ := MountsBelow(root)
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	return os.RemoveAll(root)
}

// MountsBelow lists the mount points under dir (and dir itself), in /proc/self/mountinfo
// order, parents before children.
func MountsBelow(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := fields[4]
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, nil
}

// TailFile returns the last n bytes of a file, or nothing.
func TailFile(name string, n int64) string {
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

// LogFile is the file that holds the process's stdout and stderr.
func (d *Process) LogFile() string { return d.log }
