package solver

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
)

// historyComment marks history entries as BuildKit marks its own, so tools
// that group Dockerfile steps treat strata's images alike.
const historyComment = "buildkit.dockerfile.v0"

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// stageRun executes one stage.
type stageRun struct {
	b      *Builder
	plan   *frontend.Plan
	stage  *frontend.Stage
	wait   func(context.Context, *frontend.Stage) (*stageState, error) // a stage's final state, once done
	mirror *contextMirror

	st    *stageState
	step  int
	total int
	name  string  // current step's display text
	in    []input // current step's named inputs (see explain.go)
}

// dep waits for a stage this one depends on (one of its Deps) and gives
// its final state.
func (r *stageRun) dep(ctx context.Context, s *frontend.Stage) (*stageState, error) {
	if !slices.Contains(r.stage.Deps, s) {
		return nil, fmt.Errorf("stage %q is not available to this stage", s.DisplayName())
	}
	return r.wait(ctx, s)
}

func (r *stageRun) errorf(cmd instructions.Command, format string, args ...any) error {
	return frontend.Errorf(r.plan.File, cmd.Location(), format, args...)
}

func (r *stageRun) run(ctx context.Context) (*stageState, error) {
	s := r.stage
	cmds := s.Commands
	r.total = countSteps(cmds)
	if s.BaseStage == nil && (s.Base != frontend.Scratch || s.Context != nil) {
		r.total++
	}

	switch {
	case s.BaseStage != nil:
		base, err := r.dep(ctx, s.BaseStage)
		if err != nil {
			return nil, err
		}
		r.st = base.clone()
	case s.Context != nil:
		st, err := r.contextBase(ctx, s.Context, stagePlatform(r.plan, s))
		if err != nil {
			return nil, frontend.Errorf(r.plan.File, s.Location, "FROM %s: %v", s.Base, err)
		}
		r.st = st
		if s.Replaced {
			// The context is the stage: nothing of it runs, not even
			// the base's ONBUILD triggers, which are dropped.
			r.st.cfg.Config.OnBuild = nil
			return r.st, nil
		}
	case s.Base == frontend.Scratch:
		platform := stagePlatform(r.plan, s)
		r.st = &stageState{cfg: scratchConfig(platform), key: hashKey("scratch", platform)}
		r.st.env = slices.Clone(r.st.cfg.Config.Env)
		r.noteBase(r.st.key, "scratch", "")
	default:
		r.begin("FROM " + s.Base)
		r.b.progress(Event{Kind: StepStart, Stage: s.DisplayName(), Step: r.step, Total: r.total, Name: r.name})
		start := time.Now()
		platform := stagePlatform(r.plan, s)
		base, err := r.b.pull(ctx, s.Base, platform)
		if err != nil {
			return nil, frontend.Errorf(r.plan.File, s.Location, "FROM %s: %v", s.Base, err)
		}
		r.st = fromBase(base)
		// The platform is part of the cache key: RUN on the same layers
		// gives other results under another architecture (an image of
		// scripts and data can serve every platform).
		r.st.key = hashKey("platform", platform, r.st.key.String())
		r.noteBase(r.st.key, s.Base, base.Digest.String())
		r.b.progress(Event{Kind: StepDone, Stage: s.DisplayName(), Step: r.step, Total: r.total, Name: r.name, Duration: time.Since(start)})
	}

	// ONBUILD triggers of the base run first, then are cleared.
	if triggers := r.st.cfg.Config.OnBuild; len(triggers) > 0 {
		var pre []instructions.Command
		for _, t := range triggers {
			c, err := frontend.ParseTrigger(r.plan.File, s.Location, t)
			if err != nil {
				return nil, err
			}
			pre = append(pre, c)
		}
		r.st.cfg.Config.OnBuild = nil
		r.total += countSteps(pre)
		cmds = append(pre, cmds...)
	}

	for _, cmd := range cmds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.dispatch(ctx, cmd); err != nil {
			var fe *frontend.Error
			if errors.As(err, &fe) || errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, frontend.Errorf(r.plan.File, cmd.Location(), "%s: %v", r.stepName(cmd), err)
		}
	}
	return r.st, nil
}

func (r *stageRun) stepName(cmd instructions.Command) string {
	if r.name != "" {
		return fmt.Sprintf("[%s %d/%d] %s", r.stage.DisplayName(), r.step, r.total, r.name)
	}
	return strings.ToUpper(cmd.Name())
}

// begin numbers a new filesystem step.
func (r *stageRun) begin(name string) {
	r.step++
	r.name = name
}

func countSteps(cmds []instructions.Command) int {
	n := 0
	for _, c := range cmds {
		switch c.(type) {
		case *instructions.RunCommand, *instructions.CopyCommand, *instructions.AddCommand, *instructions.WorkdirCommand:
			n++
		}
	}
	return n
}

func scratchConfig(platform string) *v1.ConfigFile {
	p, _ := v1.ParsePlatform(platform)
	cfg := &v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	if p != nil {
		cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	}
	cfg.Config.Env = []string{defaultPath}
	cfg.Config.WorkingDir = "/"
	return cfg
}

func fromBase(base *image.Base) *stageState {
	cfg := base.Config.DeepCopy()
	st := &stageState{cfg: cfg}
	var diffIDs []string
	for _, l := range base.Layers {
		d, _ := l.Digest()
		id, _ := l.DiffID()
		size, _ := l.Size()
		mt, _ := l.MediaType()
		st.layers = append(st.layers, layer{DiffID: id, Digest: d, Size: size, MediaType: mt})
		diffIDs = append(diffIDs, id.String())
	}
	st.key = hashKey(append([]string{"image"}, diffIDs...)...)
	if cfg.Config.WorkingDir == "" {
		cfg.Config.WorkingDir = "/"
	}
	st.env = slices.Clone(cfg.Config.Env)
	if len(st.env) == 0 {
		// BuildKit gives RUN a PATH even when the base image sets none.
		st.env = []string{defaultPath}
	}
	return st
}

// expander expands words with the stage's current variables.
func (r *stageRun) expander() instructions.SingleWordExpander {
	return func(word string) (string, error) {
		return frontend.ExpandWord(r.plan.Lex, word, shell.EnvsFromSlice(r.st.env))
	}
}

// addHistory appends the history entry of a step without a layer. Its time
// is the build's epoch, if it has one, or else filled in when the image is
// assembled (see fillHistoryTimes).
func (r *stageRun) addHistory(createdBy string, withLayer bool) {
	r.st.cfg.History = append(r.st.cfg.History, v1.History{
		Created:    v1.Time{Time: r.b.epochOr(time.Time{})},
		CreatedBy:  createdBy,
		Comment:    historyComment,
		EmptyLayer: !withLayer,
	})
}

// fillHistoryTimes gives entries without a time the time of the layer
// before them (or, before any layer, of the first layer), and returns the
// image's created time: that of its last entry. Times thus derive from when
// layers were made, so a rebuild from cache gives the same digest, as
// BuildKit's do.
func fillHistoryTimes(h []v1.History) time.Time {
	var first time.Time
	for _, e := range h {
		if !e.Created.IsZero() {
			first = e.Created.Time
			break
		}
	}
	prev := first
	for i := range h {
		if h[i].Created.IsZero() {
			h[i].Created = v1.Time{Time: prev}
		}
		prev = h[i].Created.Time
	}
	return prev
}

func (r *stageRun) dispatch(ctx context.Context, cmd instructions.Command) error {
	r.name, r.in = "", nil
	if _, isArg := cmd.(*instructions.ArgCommand); !isArg {
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
			if err := ex.Expand(r.expander()); err != nil {
				return r.errorf(cmd, "%v", err)
			}
		}
	}
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		// Heredoc bodies expand without quote processing, as in BuildKit.
		lex := shell.NewLex('\\')
		lex.SkipProcessQuotes = true
		err := ex.ExpandRaw(func(word string) (string, error) {
			return frontend.ExpandWord(lex, word, shell.EnvsFromSlice(r.st.env))
		})
		if err != nil {
			return r.errorf(cmd, "%v", err)
		}
	}
	cfg := &r.st.cfg.Config
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		var parts []string
		for _, kv := range c.Env {
			cfg.Env = frontend.SetEnv(cfg.Env, kv.Key, kv.Value)
			r.st.env = frontend.SetEnv(r.st.env, kv.Key, kv.Value)
			parts = append(parts, kv.String())
		}
		r.addHistory("ENV "+strings.Join(parts, " "), false)
	case *instructions.ArgCommand:
		return r.dispatchArg(c)
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		var parts []string
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
			parts = append(parts, kv.String())
		}
		r.addHistory("LABEL "+strings.Join(parts, " "), false)
	case *instructions.MaintainerCommand:
		r.st.cfg.Author = c.Maintainer
		r.addHistory("MAINTAINER "+c.Maintainer, false)
	case *instructions.UserCommand:
		cfg.User = c.User
		r.addHistory("USER "+c.User, false)
	case *instructions.ShellCommand:
		cfg.Shell = slices.Clone(c.Shell)
		r.addHistory(fmt.Sprintf("SHELL %v", c.Shell), false)
	case *instructions.StopSignalCommand:
		if err := checkSignal(c.Signal); err != nil {
			return r.errorf(cmd, "%v", err)
		}
		cfg.StopSignal = c.Signal
		r.addHistory("STOPSIGNAL "+c.Signal, false)
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v == "" {
				return r.errorf(cmd, "VOLUME specified can not be an empty string")
			}
			cfg.Volumes[v] = struct{}{}
		}
		r.addHistory(fmt.Sprintf("VOLUME %v", c.Volumes), false)
	case *instructions.ExposeCommand:
		var ports []string
		for _, p := range c.Ports {
			words, err := r.plan.Lex.ProcessWords(p, shell.EnvsFromSlice(r.st.env))
			if err != nil {
				return r.errorf(cmd, "%v", err)
			}
			for _, w := range words {
				ps, err := parsePort(w)
				if err != nil {
					return r.errorf(cmd, "EXPOSE %s: %v", w, err)
				}
				ports = append(ports, ps...)
			}
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			cfg.ExposedPorts[p] = struct{}{}
		}
		r.addHistory(fmt.Sprintf("EXPOSE %v", ports), false)
	case *instructions.CmdCommand:
		args := r.withShell(c.ShellDependantCmdLine)
		cfg.Cmd = args
		cfg.ArgsEscaped = true
		r.st.cmdSet = true
		r.addHistory(fmt.Sprintf("CMD %q", args), false)
	case *instructions.EntrypointCommand:
		args := r.withShell(c.ShellDependantCmdLine)
		cfg.Entrypoint = args
		if !r.st.cmdSet {
			cfg.Cmd = nil
		}
		r.addHistory(fmt.Sprintf("ENTRYPOINT %q", args), false)
	case *instructions.HealthCheckCommand:
		h := c.Health
		cfg.Healthcheck = &v1.HealthConfig{
			Test: slices.Clone(h.Test), Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, Retries: h.Retries,
		}
		r.addHistory(fmt.Sprintf("HEALTHCHECK %+v", healthString(h.Test, h.Interval, h.Timeout, h.StartPeriod, h.StartInterval, h.Retries)), false)
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	case *instructions.WorkdirCommand:
		return r.dispatchWorkdir(ctx, c)
	case *instructions.RunCommand:
		return r.dispatchRun(ctx, c)
	case *instructions.CopyCommand:
		return r.dispatchCopy(ctx, copyOp{
			cmd: c, SourcesAndDest: c.SourcesAndDest, from: c.From, chown: c.Chown, chmod: c.Chmod,
			link: c.Link, parents: c.Parents, excludes: c.ExcludePatterns,
		})
	case *instructions.AddCommand:
		return r.dispatchCopy(ctx, copyOp{
			cmd: c, SourcesAndDest: c.SourcesAndDest, add: true, chown: c.Chown, chmod: c.Chmod,
			link: c.Link, excludes: c.ExcludePatterns, checksum: c.Checksum, unpack: c.Unpack,
			keepGitDir: c.KeepGitDir,
		})
	default:
		return r.errorf(cmd, "%s is not supported", strings.ToUpper(cmd.Name()))
	}
	return nil
}

// dispatchArg follows BuildKit: a --build-arg wins, then the ARG's own
// default (expanded), then the value of a global ARG of the same name.
func (r *stageRun) dispatchArg(c *instructions.ArgCommand) error {
	var parts []string
	for _, kv := range c.Args {
		var val *string
		if v, ok := r.plan.BuildArgs[kv.Key]; ok {
			val = &v
		} else if kv.Value != nil {
			v, err := frontend.ExpandWord(r.plan.Lex, *kv.Value, shell.EnvsFromSlice(r.st.env))
			if err != nil {
				return r.errorf(c, "%v", err)
			}
			val = &v
		} else if v, ok := shell.EnvsFromSlice(r.plan.Global).Get(kv.Key); ok {
			val = &v
		}
		kv.Value = val
		part := kv.Key
		if val != nil {
			r.st.env = frontend.SetEnv(r.st.env, kv.Key, *val)
			part += "=" + *val
		}
		r.st.args = append(r.st.args, kv)
		parts = append(parts, part)
	}
	r.addHistory("ARG "+strings.Join(parts, " "), false)
	return nil
}

// withShell turns a shell-form command line into argv with the stage's
// SHELL (default /bin/sh -c); exec form is returned as is.
func (r *stageRun) withShell(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return slices.Clone(c.CmdLine)
	}
	sh := slices.Clone(r.st.cfg.Config.Shell)
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(sh, strings.Join(c.CmdLine, " "))
}

// workdirPath resolves p against the current working directory, keeping a
// trailing slash (it means "a directory" to COPY).
func (r *stageRun) workdirPath(p string) string {
	if p == "" || p == "." {
		p = "./"
	}
	if !path.IsAbs(p) {
		wd := r.st.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")
		p = path.Join(wd, p)
		if trailing && p != "/" {
			p += "/"
		}
	}
	return p
}

func checkSignal(s string) error {
	if strings.HasPrefix(s, "$") {
		return nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return fmt.Errorf("invalid signal: %s", s)
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	known := []string{"ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ"}
	if slices.Contains(known, name) || strings.HasPrefix(name, "RTMIN") || strings.HasPrefix(name, "RTMAX") {
		return nil
	}
	return fmt.Errorf("invalid signal: %s", s)
}

// parsePort turns an EXPOSE word ("80", "80/udp", "8000-8002/tcp") into
// "port/proto" keys.
func parsePort(w string) ([]string, error) {
	port, proto, _ := strings.Cut(w, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	if i := strings.LastIndex(port, ":"); i >= 0 {
		port = port[i+1:]
	}
	lo, hi, isRange := strings.Cut(port, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid containerPort: %s", port)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
			return nil, fmt.Errorf("invalid range: %s", port)
		}
	}
	var out []string
	for p := a; p <= b; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	sort.Strings(out)
	return out, nil
}

func healthString(test []string, interval, timeout, startPeriod, startInterval time.Duration, retries int) string {
	return fmt.Sprintf("{Test:%v Interval:%v Timeout:%v StartPeriod:%v StartInterval:%v Retries:%d}", test, interval, timeout, startPeriod, startInterval, retries)
}
