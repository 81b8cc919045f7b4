package frontend

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Scratch is the base name of an empty image.
const Scratch = "scratch"

// Options shape a plan.
type Options struct {
	// BuildArgs are --build-arg values; they override ARG defaults.
	BuildArgs map[string]string
	// Target names the stage to build; empty means the last stage.
	Target string
	// Platform is the target platform, "os/arch[/variant]"; empty means
	// the host's. It is normalized (NormalizePlatform). A build for several
	// platforms makes one plan per platform.
	Platform string
	// Contexts are the named build contexts (--build-context).
	Contexts []*NamedContext
}

// Plan is what to build: the target and every stage it needs, in an order
// where each stage comes after the stages it depends on.
type Plan struct {
	File      string
	Lex       *shell.Lex
	Platform  string
	BuildArgs map[string]string
	// Global holds the values of the ARGs declared before the first FROM
	// and of the predefined platform ARGs, after --build-arg overrides.
	Global []string
	Stages []*Stage // needed stages, dependencies first, Target last
	Target *Stage
	All    []*Stage // every stage in file order
	// Contexts are the named build contexts, by normalized name.
	Contexts map[string]*NamedContext
}

// Stage is one FROM section of the Dockerfile.
type Stage struct {
	Index     int
	Name      string // declared name (lower case), "" if unnamed
	Base      string // expanded FROM argument: an image reference or "scratch"
	BaseStage *Stage // the earlier stage named by FROM, if any
	Platform  string // expanded --platform, if any
	Commands  []instructions.Command
	Location  []parser.Range
	// Deps are the stages this stage reads: its base stage and the
	// sources of COPY --from and RUN --mount=from=.
	Deps []*Stage
	// Context is the named build context that FROM names, if no earlier
	// stage has that name. When the stage's own name is a named context,
	// the context replaces the stage, as in BuildKit: Context is that
	// context, Replaced is set and Commands is empty.
	Context  *NamedContext
	Replaced bool
}

// DisplayName is the name used in progress output: the stage name or
// "stage-N".
func (s *Stage) DisplayName() string {
	if s.Name != "" {
		return s.Name
	}
	return "stage-" + strconv.Itoa(s.Index)
}

// Plan resolves the Dockerfile against opts.
func (d *Dockerfile) Plan(opts Options) (*Plan, error) {
	if opts.Platform == "" {
		opts.Platform = HostPlatform()
	}
	target, err := NormalizePlatform(opts.Platform)
	if err != nil {
		return nil, &Error{File: d.File, Err: err}
	}
	opts.Platform = target
	p := &Plan{File: d.File, Lex: d.Lex(), Platform: opts.Platform, BuildArgs: opts.BuildArgs}
	for _, nc := range opts.Contexts {
		if p.Contexts == nil {
			p.Contexts = map[string]*NamedContext{}
		}
		p.Contexts[nc.Name] = nc
	}
	if p.BuildArgs == nil {
		p.BuildArgs = map[string]string{}
	}
	global := newScope(platformArgs(opts.Platform))
	expanded := 0 // bytes made by expansion, bounded by maxPlanExpansion
	expand := func(word string, loc []parser.Range) (string, error) {
		v, err := ExpandWord(p.Lex, word, global)
		if err != nil {
			return "", wrapError(d.File, loc, err)
		}
		if expanded += len(v); expanded > maxPlanExpansion {
			return "", wrapError(d.File, loc, errPlanExpansion)
		}
		return v, nil
	}
	for _, ac := range d.MetaArgs {
		for _, kv := range ac.Args {
			if v, ok := p.BuildArgs[kv.Key]; ok {
				global.set(kv.Key, v)
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, err := expand(*kv.Value, ac.Location())
			if err != nil {
				return nil, err
			}
			global.set(kv.Key, v)
		}
	}
	p.Global = global.list

	// Each plan gets commands of its own: building expands them in place,
	// and a build for several platforms makes one plan per platform.
	stages, err := d.freshStages()
	if err != nil {
		return nil, err
	}
	byName := map[string]*Stage{}
	for i, st := range stages {
		s := &Stage{Index: i, Name: st.Name, Commands: st.Commands, Location: st.Location}
		base, err := expand(st.BaseName, st.Location)
		if err != nil {
			return nil, err
		}
		if base == "" {
			return nil, Errorf(d.File, st.Location, "base name (%s) should not be blank", st.BaseName)
		}
		s.Base = base
		if st.Platform != "" {
			pl, err := expand(st.Platform, st.Location)
			if err != nil {
				return nil, err
			}
			if s.Platform, err = NormalizePlatform(pl); err != nil {
				return nil, Errorf(d.File, st.Location, "FROM --platform=%s: %v", st.Platform, err)
			}
		}
		switch prev, ok := byName[strings.ToLower(base)]; {
		case s.Name != "" && p.NamedContext(s.Name) != nil:
			s.Context, s.Replaced, s.Commands = p.NamedContext(s.Name), true, nil
		case ok:
			s.BaseStage = prev
			s.Deps = append(s.Deps, prev)
		default:
			s.Context = p.NamedContext(base)
		}
		if s.Name != "" {
			if _, dup := byName[s.Name]; dup {
				return nil, Errorf(d.File, st.Location, "duplicate stage name %q", s.Name)
			}
			byName[s.Name] = s
		}
		p.All = append(p.All, s)
	}

	// COPY --from dependencies. A --from that names no stage is an image.
	for _, s := range p.All {
		for _, cmd := range s.Commands {
			from, ok := copyFrom(cmd)
			if !ok {
				continue
			}
			src, err := p.lookupStage(from, s)
			if err != nil {
				return nil, wrapError(d.File, cmd.Location(), err)
			}
			if src != nil && !slices.Contains(s.Deps, src) {
				s.Deps = append(s.Deps, src)
			}
		}
	}
	// RUN --mount=from= dependencies, named as for COPY --from.
	for _, s := range p.All {
		for _, cmd := range s.Commands {
			for _, from := range mountFroms(cmd) {
				src, err := p.lookupStage(from, s)
				if err != nil {
					return nil, wrapError(d.File, cmd.Location(), fmt.Errorf("RUN --mount=from=%s: %w", from, err))
				}
				if src != nil && !slices.Contains(s.Deps, src) {
					s.Deps = append(s.Deps, src)
				}
			}
		}
	}

	if opts.Target == "" {
		p.Target = p.All[len(p.All)-1]
	} else {
		t, ok := byName[strings.ToLower(opts.Target)]
		if !ok {
			names := make([]string, 0, len(byName))
			for _, s := range p.All {
				if s.Name != "" {
					names = append(names, s.Name)
				}
			}
			have := "no stage has a name"
			if len(names) > 0 {
				have = "stages: " + strings.Join(names, ", ")
			}
			return nil, &Error{File: d.File, Err: fmt.Errorf("target stage %q could not be found (%s)", opts.Target, have)}
		}
		p.Target = t
	}
	seen := map[*Stage]bool{}
	var visit func(*Stage)
	visit = func(s *Stage) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, dep := range s.Deps {
			visit(dep)
		}
		p.Stages = append(p.Stages, s)
	}
	visit(p.Target)
	return p, nil
}

// lookupStage finds the stage that a --from value names, from within
// stage cur. It returns nil, nil when the value names no stage (then it is
// an image reference).
func (p *Plan) lookupStage(from string, cur *Stage) (*Stage, error) {
	if n, err := strconv.Atoi(from); err == nil {
		if cur.Index == 0 {
			return nil, fmt.Errorf("invalid stage index %d in --from: there is no stage before this one", n)
		}
		if n < 0 || n >= cur.Index {
			return nil, fmt.Errorf("invalid stage index %d in --from: it must name an earlier stage (0 to %d)", n, cur.Index-1)
		}
		return p.All[n], nil
	}
	name := strings.ToLower(from)
	for _, s := range p.All {
		if s.Name != name {
			continue
		}
		if s.Index >= cur.Index {
			return nil, fmt.Errorf("cannot copy from stage %q, it needs to be defined before current stage %q", from, cur.DisplayName())
		}
		return s, nil
	}
	return nil, nil
}

// StageNames lists the named stages, for error messages.
func (p *Plan) StageNames() []string {
	var names []string
	for _, s := range p.All {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	return names
}

// FromStage resolves a --from value used in stage cur: a stage, or nil
// when it names an image.
func (p *Plan) FromStage(from string, cur *Stage) (*Stage, error) {
	return p.lookupStage(from, cur)
}

// ArgValue gives the value an ARG instruction declares for key inside a
// stage when the ARG has no default of its own: the --build-arg value, else
// the global ARG's value.
func (p *Plan) ArgValue(key string) (string, bool) {
	if v, ok := p.BuildArgs[key]; ok {
		return v, true
	}
	return shell.EnvsFromSlice(p.Global).Get(key)
}

func copyFrom(cmd instructions.Command) (string, bool) {
	c, ok := cmd.(*instructions.CopyCommand)
	if !ok || c.From == "" {
		return "", false
	}
	return c.From, true
}

// mountFroms lists the from= values of a RUN's --mount flags. They are
// known before expansion: BuildKit does not expand from either.
func mountFroms(cmd instructions.Command) []string {
	c, ok := cmd.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	var froms []string
	for _, m := range instructions.GetMounts(c) {
		if m.From != "" {
			froms = append(froms, m.From)
		}
	}
	return froms
}

// setEnv sets k=v in a "K=V" list, replacing an existing k.
func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if key, _, _ := strings.Cut(kv, "="); shell.EqualEnvKeys(key, k) {
			env = slices.Clone(env)
			env[i] = k + "=" + v
			return env
		}
	}
	return append(slices.Clone(env), k+"="+v)
}

// SetEnv sets k=v in a "K=V" list as ENV does: an existing k is replaced in
// place, a new one is appended. The input is not modified.
func SetEnv(env []string, k, v string) []string { return setEnv(env, k, v) }
