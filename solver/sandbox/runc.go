package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultRuntime is the OCI runtime used when none is configured.
const DefaultRuntime = "runc"

// ErrNoRuntime is wrapped by the error for a missing OCI runtime.
var ErrNoRuntime = errors.New("RUN steps need an OCI runtime; install it with `apt-get install runc`")

// CheckRuntime reports whether the OCI runtime runtime ("" is runc), a name
// looked up in PATH or a path, can be run. If not, the error says that RUN
// steps need it and how to install runc, and wraps ErrNoRuntime.
func CheckRuntime(runtime string) error {
	_, err := lookRuntime(runtime)
	return err
}

// lookRuntime returns the path of the OCI runtime binary.
func lookRuntime(runtime string) (string, error) {
	if runtime == "" {
		runtime = DefaultRuntime
	}
	p, err := exec.LookPath(runtime)
	if err != nil {
		where := " in PATH"
		if strings.Contains(runtime, "/") {
			where = ""
		}
		return "", fmt.Errorf("%s not found%s: %w", runtime, where, ErrNoRuntime)
	}
	return p, nil
}

// How long Run keeps asking the runtime to kill a cancelled container
// before it kills the runtime process itself (and lets delete --force deal
// with whatever is left), and how often it asks.
const (
	killGrace    = 3 * time.Second
	killInterval = 50 * time.Millisecond
)

// waitDelay bounds how long Run waits for the output pipes to close after
// the runtime exits: a process that escaped the container could hold them.
const waitDelay = 5 * time.Second

// runc drives an OCI runtime with runc's command line.
type runc struct {
	binary string // path of the runtime binary
	root   string // state directory (--root)
}

// run runs the container id from bundle in the foreground with `runc run`,
// wiring its stdout and stderr to the writers and its stdin to /dev/null.
// When ctx ends, it kills the container. It always deletes what is left of
// the container before it returns.
func (r runc) run(ctx context.Context, id, bundle string, stdout, stderr io.Writer) error {
	logPath := filepath.Join(bundle, "runtime.log")
	cmd := exec.Command(r.binary, "--root", r.root, "--log", logPath, "--log-format", "json",
		"run", "--bundle", bundle, id)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// In its own process group, a terminal's ^C reaches strata, which
	// cancels ctx, and not the runtime directly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", r.binary, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		r.killUntilExit(id, cmd, done)
		r.delete(id)
		return context.Cause(ctx)
	}
	r.delete(id)
	if err == nil {
		return nil
	}
	if msg := runtimeErrors(logPath); msg != "" {
		return &RuntimeError{Runtime: r.binary, Msg: msg}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		return &ExitError{Code: exit.ExitCode()}
	}
	return fmt.Errorf("running %s: %w", r.binary, err)
}

// killUntilExit sends SIGKILL to the container until the foreground runtime
// process (whose Wait result arrives on done) has exited. The container may
// not exist yet when the kill starts, so it asks again; after killGrace it
// kills the runtime process itself.
func (r runc) killUntilExit(id string, cmd *exec.Cmd, done <-chan error) {
	tick := time.NewTicker(killInterval)
	defer tick.Stop()
	deadline := time.Now().Add(killGrace)
	for {
		_ = r.command("kill", id, "KILL").Run()
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// delete removes the container id and its state with `runc delete
// --force`, which also kills it if it still runs. `runc run` deletes a
// container whose process exited by itself, so delete only calls the
// runtime while the state directory still holds the container.
func (r runc) delete(id string) {
	if _, err := os.Lstat(filepath.Join(r.root, id)); err != nil {
		return
	}
	_ = r.command("delete", "--force", id).Run()
}

// command returns a runtime command on the container state in r.root.
func (r runc) command(args ...string) *exec.Cmd {
	return exec.Command(r.binary, append([]string{"--root", r.root}, args...)...)
}

// runtimeErrors returns the error messages in the runtime's JSON log,
// joined by "; ", or "" when there are none.
func runtimeErrors(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	var msgs []string
	for line := range strings.Lines(string(b)) {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if (entry.Level == "error" || entry.Level == "fatal") && entry.Msg != "" {
			msgs = append(msgs, entry.Msg)
		}
	}
	return strings.Join(msgs, "; ")
}
