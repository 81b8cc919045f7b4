package solver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/solver/sandbox"
)

func checkRuntime(runtime string) error { return sandbox.CheckRuntime(runtime) }

// dispatchRun executes a RUN instruction in the sandbox.
func (r *stageRun) dispatchRun(ctx context.Context, c *instructions.RunCommand) error {
	insecure := instructions.GetSecurity(c) == instructions.SecurityInsecure
	if insecure && !r.b.opts.AllowInsecure {
		return r.errorf(c, "RUN --security=insecure is not allowed: build with --allow security.insecure to grant it")
	}
	network, err := sandbox.ParseNetwork(instructions.GetNetwork(c))
	if err != nil {
		return r.errorf(c, "%v", err)
	}
	mounts, mountKey, err := r.runMounts(ctx, c)
	if err != nil {
		return r.errorf(c, "%v", err)
	}
	args := c.CmdLine
	var pipe *inlineFile
	if len(c.Files) > 0 {
		if len(args) != 1 || !c.PrependShell {
			return r.errorf(c, "parsing produced an invalid run command: %v", args)
		}
		if hd := parser.MustParseHeredoc(args[0]); hd != nil {
			data := c.Files[0].Data
			if c.Files[0].Chomp {
				data = parser.ChompHeredocContent(data)
			}
			if strings.HasPrefix(data, "#!") {
				// A script with a shebang is run as a file, as BuildKit does.
				pipe = &inlineFile{name: c.Files[0].Name, data: data}
				args = []string{path.Join("/dev/pipes", c.Files[0].Name)}
			} else {
				args = []string{data}
			}
		} else {
			var sb strings.Builder
			sb.WriteString(args[0])
			for _, f := range c.Files {
				sb.WriteString("\n" + f.Data + f.Name)
			}
			args = []string{sb.String()}
		}
	}
	if c.PrependShell {
		args = r.withShell(instructions.ShellDependantCmdLine{CmdLine: args, PrependShell: true})
	}
	r.begin(cmdString(c))

	cfg := r.st.cfg.Config
	env := r.st.env
	keyParts := []string{"run", r.st.key.String(), joinQuoted(args), joinQuoted(env), cfg.User, cfg.WorkingDir, network.String(), fmt.Sprint(pipe)}
	// Steps without mounts or insecure mode keep the keys they had
	// before either existed.
	keyParts = append(keyParts, mountKey...)
	if insecure {
		keyParts = append(keyParts, "security=insecure")
	}
	key := hashKey(keyParts...)
	r.in = r.stepInputs(c, true, "command", joinQuoted(args), "user", cfg.User, "workdir", cfg.WorkingDir,
		"network", network.String(), "script", fmt.Sprint(pipe), "mounts", joinQuoted(mountKey), "insecure", fmt.Sprint(insecure))
	createdBy := "RUN " + runHistory(args, r.st.args, env) + " # buildkit"

	return r.fsStep(ctx, key, createdBy, func(sn snapshot) error {
		rootfs := sn.root
		// runc copies stdout and stderr through separate pipes, so their
		// order is lost; each keeps its own tail for the error message.
		emit := func(line string) {
			r.b.progress(Event{Kind: StepLog, Stage: r.stage.DisplayName(), Step: r.step, Total: r.total, Name: r.name, Line: line})
		}
		output := newRunOutput(emit, filepath.Join(r.b.store.dir, "tmp"), filepath.Join(r.b.store.dir, "logs", key.Hex[:16]+".log"))
		defer output.Finish()
		out, errOut := output.stream(10), output.stream(10)
		defer out.Flush()
		defer errOut.Flush()
		sc := sandbox.Config{
			Runtime:   r.b.opts.Runtime,
			Root:      filepath.Join(r.b.store.dir, "runc"),
			BundleDir: filepath.Join(r.b.store.dir, "tmp"),
			Network:   network,
			Insecure:  insecure,
		}
		if pipe != nil {
			dir, err := os.MkdirTemp(filepath.Join(r.b.store.dir, "tmp"), "pipes-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := os.WriteFile(filepath.Join(dir, pipe.name), []byte(pipe.data), 0o755); err != nil {
				return err
			}
			sc.Mounts = append(sc.Mounts, sandbox.Mount{Type: "bind", Source: dir, Destination: "/dev/pipes", Options: []string{"rbind", "ro"}})
		}
		sm, err := r.setupMounts(ctx, mounts)
		if err != nil {
			return err
		}
		defer sm.release()
		sc.Mounts = append(sc.Mounts, sm.mounts...)
		if sm.secrets != "" {
			sc.BundleDir = sm.secrets
		}
		procEnv := env
		for _, kv := range sm.env {
			k, v, _ := strings.Cut(kv, "=")
			if _, set := lookupEnv(env, k); k == "SSH_AUTH_SOCK" && set {
				continue // the stage's own SSH_AUTH_SOCK wins, as in BuildKit
			}
			procEnv = frontend.SetEnv(procEnv, k, v)
		}
		err = sandbox.Run(ctx, rootfs, sandbox.Process{
			Args:   args,
			Env:    procEnv,
			Cwd:    cfg.WorkingDir,
			User:   cfg.User,
			Stdout: out,
			Stderr: errOut,
		}, sc)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *sandbox.ExitError
		if errors.As(err, &ee) {
			out.Flush()
			errOut.Flush()
			return &RunError{Code: ee.Code, Stdout: out.Tail(), Stderr: errOut.Tail(), Log: output.Finish()}
		}
		return err
	})
}

type inlineFile struct{ name, data string }

// RunError is a RUN step whose command exited non-zero.
type RunError struct {
	Code           int      // exit code
	Stdout, Stderr []string // the last lines of each
	Log            string   // the file holding the whole output, if it was clipped
}

func (e *RunError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "process did not complete successfully: exit code: %d", e.Code)
	for _, t := range []struct {
		name  string
		lines []string
	}{{"stdout", e.Stdout}, {"stderr", e.Stderr}} {
		if len(t.lines) > 0 {
			fmt.Fprintf(&sb, "\nlast lines of %s:", t.name)
			for _, l := range t.lines {
				sb.WriteString("\n  " + l)
			}
		}
	}
	if e.Log != "" {
		sb.WriteString("\nthe output was clipped; the full log is kept in " + e.Log)
	}
	return sb.String()
}

// runHistory formats a RUN's history text as BuildKit does: the stage's
// ARGs, counted and listed, then the argv.
func runHistory(args []string, declared []instructions.KeyValuePairOptional, env []string) string {
	var vars []string
	idx := map[string]int{}
	for _, a := range declared {
		v, ok := lookupEnv(env, a.Key)
		if !ok {
			v = a.ValueString()
		}
		if i, ok := idx[a.Key]; ok {
			vars[i] = a.Key + "=" + v
			continue
		}
		idx[a.Key] = len(vars)
		vars = append(vars, a.Key+"="+v)
	}
	if len(vars) > 0 {
		vars = append([]string{fmt.Sprintf("|%d", len(vars))}, vars...)
	}
	return strings.Join(append(vars, args...), " ")
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}
