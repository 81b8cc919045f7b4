package solver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file explains cache misses. Next to its cache key (which it does not
// change), each filesystem step gets a list of named inputs: the
// instruction as written, the variables it reads, the files it copies
// (path, content digest, mode), its settings (user, working directory,
// ...), the source of COPY --from, and what it stands on (the base image
// or the earlier step). After a step is built or found in the cache, its
// key and inputs are stored under the step's identity (context,
// Dockerfile, platform, stage, step number). On a miss, the inputs of the last build
// of the same step are compared with the current ones in a fixed order of
// kinds (see kindOrder), and the first difference is the explanation.
//
// On disk, under the cache directory, one record per step identity:
//
//	explain/<identity hex>.json   the key and named inputs the step last had
//	explain/<identity hex>.key    that key alone (read on every cache hit)
//
// Variables: a RUN reads the whole environment; other steps read the
// variables their instruction names. A variable is a build arg when an
// ARG of the stage sets it (ENV V=$V keeps it a build arg, since its value
// is the ARG's), else an env (set by ENV or by the base image). Values of
// names that look secret are stored as digests and never printed.

// CacheMiss says why a step was not found in the cache: the first input
// that differs from the last build of the step.
type CacheMiss struct {
	// Kind is what changed: "base" (the base image's digest), "instruction"
	// (the Dockerfile text of the step), "arg" (a build arg), "env" (an
	// environment variable), "file" (a copied file's content, or a file
	// added or removed), "mode" (a copied file's mode), "from" (the source
	// of COPY --from), "setting" (user, workdir, command, mounts, ...),
	// "step" (an earlier step: the step's own inputs are unchanged), "new"
	// (no earlier build of the step is recorded), "evicted" (the same
	// inputs were built before but the result is gone), "not-exported"
	// (the build that exported the imported cache had the same inputs,
	// but the cache lacks the result, as mode=min leaves out), "other", or
	// "no-cache" (--no-cache).
	Kind string `json:"kind"`
	// Name is the file's path, the variable's or setting's name, the base
	// image reference or the earlier step.
	Name string `json:"name,omitempty"`
	// Old and New are the values before and now: digests for files and
	// base images, modes in octal, the text for instructions and values.
	// Empty when absent or hidden.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Text is the explanation in words.
	Text string `json:"text"`
}

func (m *CacheMiss) String() string { return m.Text }

// StepReport is one step of a build: whether it came from the cache, and
// if not, why.
type StepReport struct {
	Stage      string `json:"stage"`
	StageIndex int    `json:"-"`
	Step       int    `json:"step"`
	Total      int    `json:"total"`
	Name       string `json:"name"`
	// Base is, for a FROM step, the digest of the base image's manifest;
	// such steps are not cache decisions.
	Base   string     `json:"base,omitempty"`
	Cached bool       `json:"cached"`
	Miss   *CacheMiss `json:"reason,omitempty"`
}

// input is one named input of a step.
type input struct {
	Kind  string `json:"k"`
	Name  string `json:"n,omitempty"`
	Value string `json:"v,omitempty"`
	// Mode and Type describe a file input: "f" a file, "d" a directory,
	// "l" a symlink (Value is its target), "t" a tree too big to list
	// (Value is its digest).
	Mode fs.FileMode `json:"m,omitempty"`
	Type string      `json:"t,omitempty"`
	// Note is, for an instruction, its line; for a base, the manifest
	// digest; for an earlier step or a --from source, what it is.
	Note   string `json:"note,omitempty"`
	Unset  bool   `json:"u,omitempty"` // a variable the step names but nobody sets
	Hidden bool   `json:"h,omitempty"` // Value is the digest of a secret-looking value
}

// kindOrder is the order in which inputs are compared: what the stage
// stands on, the step's own text, the variables it reads, its files and
// sources, its settings, and last the earlier step it follows.
var kindOrder = []string{"base", "instruction", "arg", "env", "file", "from", "setting", "step"}

// maxExplainFiles bounds the files listed for one step; a step that
// copies more is explained per source tree.
const maxExplainFiles = 20000

// explainer keeps, for one Builder, what the keys of states are (for
// naming the earlier step of a step) and the steps of the build.
type explainer struct {
	mu    sync.Mutex
	desc  map[v1.Hash]input
	steps []StepReport
}

func (e *explainer) describe(key v1.Hash, in input) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.desc == nil {
		e.desc = map[v1.Hash]input{}
	}
	e.desc[key] = in
}

// parentOf is the input that names the state key stands for.
func (e *explainer) parentOf(key v1.Hash) input {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.desc[key]
	if !ok {
		in = input{Kind: "step", Name: "an earlier step"}
	}
	in.Value = key.String()
	return in
}

func (e *explainer) report(s StepReport) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.steps = append(e.steps, s)
}

// take returns the steps reported since the last take, in stage and step
// order.
func (e *explainer) take() []StepReport {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.steps
	e.steps = nil
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].StageIndex != s[j].StageIndex {
			return s[i].StageIndex < s[j].StageIndex
		}
		return s[i].Step < s[j].Step
	})
	return s
}

// stepDesc is how progress names the current step: "[build 3/5] RUN make".
func (r *stageRun) stepDesc() string {
	return fmt.Sprintf("[%s %d/%d] %s", r.stage.DisplayName(), r.step, r.total, r.name)
}

// noteBase names the state key as the stage's base: an image (with its
// manifest digest), scratch or a named context.
func (r *stageRun) noteBase(key v1.Hash, name, digest string) {
	r.b.ex.describe(key, input{Kind: "base", Name: name, Note: digest})
	if digest != "" {
		r.b.ex.report(StepReport{Stage: r.stage.DisplayName(), StageIndex: r.stage.Index, Step: r.step, Total: r.total, Name: r.name, Base: digest})
	}
}

// stepInputs are the inputs every step has: its instruction, the
// variables it reads (all of the environment for RUN), the settings given
// as name, value pairs, and the state it stands on.
func (r *stageRun) stepInputs(cmd instructions.Command, allVars bool, settings ...string) []input {
	line := ""
	if loc := cmd.Location(); len(loc) > 0 {
		line = strconv.Itoa(loc[0].Start.Line)
	}
	in := []input{{Kind: "instruction", Value: cmdString(cmd), Note: line}}
	var names []string
	if allVars {
		for _, kv := range r.st.env {
			k, _, _ := strings.Cut(kv, "=")
			names = append(names, k)
		}
	} else {
		seen := map[string]bool{}
		for _, m := range varRE.FindAllStringSubmatch(cmdString(cmd), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	for _, n := range names {
		in = append(in, r.varInput(n))
	}
	for i := 0; i+1 < len(settings); i += 2 {
		in = append(in, input{Kind: "setting", Name: settings[i], Value: settings[i+1]})
	}
	if e := r.b.opts.SourceDateEpoch; !e.IsZero() {
		in = append(in, input{Kind: "setting", Name: "SOURCE_DATE_EPOCH", Value: e.UTC().Format(time.RFC3339Nano)})
	}
	return append(in, r.b.ex.parentOf(r.st.key))
}

var varRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// varInput is the variable name as the current step sees it.
func (r *stageRun) varInput(name string) input {
	v, set := lookupEnv(r.st.env, name)
	in := input{Kind: "env", Name: name, Value: v, Unset: !set}
	for i := len(r.st.args) - 1; i >= 0; i-- {
		a := r.st.args[i]
		if a.Key != name {
			continue
		}
		if cv, inCfg := lookupEnv(r.st.cfg.Config.Env, name); !inCfg || a.Value != nil && cv == *a.Value {
			in.Kind = "arg"
		}
		break
	}
	if set && looksSecret(name) {
		sum := sha256.Sum256([]byte(v))
		in.Value, in.Hidden = "sha256:"+hex.EncodeToString(sum[:]), true
	}
	return in
}

// looksSecret reports whether a variable's name suggests its value is a
// credential, as BuildKit's SecretsUsedInArgOrEnv check decides it.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"apikey", "auth", "credential", "key", "pass", "pwd", "secret", "token"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// dropParent removes the state a step stands on from its inputs (COPY
// --link does not depend on it).
func dropParent(in []input) []input {
	out := in[:0:0]
	for _, i := range in {
		if i.Kind != "base" && i.Kind != "step" {
			out = append(out, i)
		}
	}
	return out
}

// treeLines records the lines digestTree and digestMatching write: one
// Write per line.
type treeLines struct {
	lines     []string
	truncated bool
}

func (t *treeLines) Write(p []byte) (int, error) {
	if len(t.lines) >= maxExplainFiles {
		t.truncated = true
	} else {
		t.lines = append(t.lines, string(p))
	}
	return len(p), nil
}

// treeInputs turns the description of the tree copied from rel (see
// digestTree) into file inputs named by their path in the context.
func treeInputs(rel string, t *treeLines, digest string) []input {
	if t.truncated {
		return []input{{Kind: "file", Name: rel, Type: "t", Value: "sha256:" + digest}}
	}
	var in []input
	for _, l := range t.lines {
		f, ok := parseTreeLine(rel, strings.TrimSuffix(l, "\n"))
		if ok {
			in = append(in, f)
		}
	}
	return in
}

// parseTreeLine reads one line of digestTree: "f MODE DIGEST" (rel itself
// is a file), "d . MODE", "d NAME MODE", "l NAME TARGET", "f NAME MODE
// DIGEST", names and targets quoted.
func parseTreeLine(rel, l string) (input, bool) {
	typ, rest, ok := strings.Cut(l, " ")
	if !ok {
		return input{}, false
	}
	in := input{Kind: "file", Type: typ, Name: rel}
	switch {
	case typ == "f" && !strings.HasPrefix(rest, `"`):
	case strings.HasPrefix(rest, ". "):
		rest = rest[2:]
	default:
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return input{}, false
		}
		name, _ := strconv.Unquote(q)
		in.Name = path.Join(rel, name)
		rest = strings.TrimPrefix(rest[len(q):], " ")
	}
	switch typ {
	case "l":
		t, err := strconv.Unquote(rest)
		if err != nil {
			return input{}, false
		}
		in.Value = t
	case "d", "f":
		mode, digest, _ := strings.Cut(rest, " ")
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil {
			return input{}, false
		}
		in.Mode, in.Value = fs.FileMode(m), digest
	default:
		return input{}, false
	}
	return in, true
}

// stepIdentity names a step across builds: the same Dockerfile of the same
// context, stage and step number, for the same platform.
func (r *stageRun) stepIdentity() string {
	dir := ""
	if c := r.b.opts.Context; c != nil {
		dir, _ = filepath.Abs(c.Dir)
	}
	return r.identity(dir)
}

// portableIdentity is stepIdentity without the context's folder, which
// differs from runner to runner: it names the step in an exported cache,
// which is itself the cache of one project.
func (r *stageRun) portableIdentity() string { return r.identity("") }

func (r *stageRun) identity(dir string) string {
	stage := r.stage.Name
	if stage == "" {
		stage = "#" + strconv.Itoa(r.stage.Index)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{dir, r.plan.File, stagePlatform(r.plan, r.stage), stage, strconv.Itoa(r.step)}, "\x00")))
	return hex.EncodeToString(sum[:])
}

// explainRecord is what the last build of a step left: its key and inputs.
type explainRecord struct {
	Key    string  `json:"key"`
	Inputs []input `json:"inputs"`
}

// explainPaths are the files of the step identity: its record, and its
// key alone, which a cache hit reads to see whether the record is current.
func (s *store) explainPaths(identity string) (record, key string) {
	p := filepath.Join(s.dir, "explain", identity)
	return p + ".json", p + ".key"
}

// explainMiss says why the step with cache key key missed.
func (r *stageRun) explainMiss(key v1.Hash) *CacheMiss {
	if r.b.opts.NoCache {
		return &CacheMiss{Kind: "no-cache", Text: "--no-cache is set"}
	}
	record, _ := r.b.store.explainPaths(r.stepIdentity())
	var old explainRecord
	imported := false
	if readJSON(record, &old) != nil {
		// A runner that starts empty compares with the build that
		// exported the cache it imported.
		r.b.mu.Lock()
		rec, ok := r.b.importedExplains[r.portableIdentity()]
		r.b.mu.Unlock()
		// The import is read before any step, so it is there by now.
		if !ok {
			return &CacheMiss{Kind: "new", Text: "no earlier build of this step is recorded"}
		}
		old, imported = rec, true
	}
	if old.Key == key.String() && imported {
		return &CacheMiss{Kind: "not-exported", Text: "the build that exported the imported cache had the same inputs, but the cache does not hold this step's result (mode=min exports only the final image's steps)"}
	}
	if old.Key == key.String() {
		return &CacheMiss{Kind: "evicted", Text: "this step was built with the same inputs before, but its result is no longer in the cache"}
	}
	if m := diffInputs(old.Inputs, r.in); m != nil {
		return m
	}
	return &CacheMiss{Kind: "other", Text: "an input of the step that has no name here changed"}
}

// recordStep notes a step that was found in the cache or has been built:
// for the next build, its inputs and key; for this one, what its state key
// stands for. A dry run writes nothing. Explanations are advice: a record
// that cannot be written leaves the next build with an older one.
func (r *stageRun) recordStep(key v1.Hash) {
	r.b.ex.describe(r.st.key, input{Kind: "step", Name: r.stepDesc()})
	if r.b.opts.DryRun {
		return
	}
	in := r.in
	if in == nil {
		in = []input{}
	}
	rec := explainRecord{Key: key.String(), Inputs: in}
	r.b.mu.Lock()
	if r.b.explains == nil {
		r.b.explains = map[string]explainRecord{}
	}
	r.b.explains[r.portableIdentity()] = rec // for an exported cache
	r.b.mu.Unlock()
	record, keyFile := r.b.store.explainPaths(r.stepIdentity())
	if data, err := os.ReadFile(keyFile); err == nil && strings.TrimSpace(string(data)) == key.String() {
		return
	}
	if os.MkdirAll(filepath.Dir(record), 0o700) != nil {
		return
	}
	if writeJSON(r.b.store, record, rec) != nil {
		return
	}
	_ = writeBytes(r.b.store, keyFile, []byte(key.String()+"\n"))
}

// reportStep adds the step to the build's list of steps.
func (r *stageRun) reportStep(cached bool, miss *CacheMiss) {
	r.b.ex.report(StepReport{Stage: r.stage.DisplayName(), StageIndex: r.stage.Index, Step: r.step, Total: r.total, Name: r.name, Cached: cached, Miss: miss})
}

func writeBytes(s *store, p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "explain-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// diffInputs returns the first difference between the inputs of the last
// build of a step and the current ones, or nil if there is none.
func diffInputs(old, cur []input) *CacheMiss {
	for _, k := range kindOrder {
		if m := diffKind(k, old, cur); m != nil {
			return m
		}
	}
	return nil
}

// group is the kinds matched with each other: a variable that turns from
// a build arg into an env changed rather than went, and so does a stage
// that now stands on a step instead of a base.
func group(kind string) string {
	switch kind {
	case "arg", "env":
		return "var"
	case "base", "step":
		return "parent"
	}
	return kind
}

// matchKey is what an input is matched by across builds.
func matchKey(in input) string {
	switch group(in.Kind) {
	case "parent", "instruction":
		return group(in.Kind)
	}
	return group(in.Kind) + "\x00" + in.Name
}

func diffKind(kind string, old, cur []input) *CacheMiss {
	olds := map[string]input{}
	for _, o := range old {
		olds[matchKey(o)] = o
	}
	curs := map[string]bool{}
	for _, c := range cur {
		curs[matchKey(c)] = true
	}
	for _, c := range cur {
		if c.Kind != kind {
			continue
		}
		o, ok := olds[matchKey(c)]
		if !ok {
			return describeMiss(nil, &c)
		}
		if o.Value != c.Value || o.Unset != c.Unset || o.Type != c.Type || o.Mode != c.Mode {
			return describeMiss(&o, &c)
		}
	}
	for _, o := range old {
		if o.Kind == kind && !curs[matchKey(o)] {
			return describeMiss(&o, nil)
		}
	}
	return nil
}

// describeMiss words the difference between o and c (either may be nil:
// added or removed).
func describeMiss(o, c *input) *CacheMiss {
	in := c
	if in == nil {
		in = o
	}
	val := func(i *input) string {
		if i == nil || i.Hidden {
			return ""
		}
		return i.Value
	}
	m := &CacheMiss{Kind: in.Kind, Name: in.Name, Old: val(o), New: val(c)}
	switch in.Kind {
	case "base":
		m.Old, m.New = "", ""
		if o != nil && o.Kind == "base" {
			m.Old = o.Note
		}
		if c != nil {
			m.New = c.Note
		}
		if m.Old != "" && m.New != "" {
			m.Text = fmt.Sprintf("base image %s changed (%s → %s)", m.Name, m.Old, m.New)
		} else {
			m.Text = fmt.Sprintf("the stage now starts from %s", m.Name)
		}
	case "instruction":
		m.Text = fmt.Sprintf("instruction changed: %q → %q", m.Old, m.New)
		if c != nil && c.Note != "" {
			m.Text += " (line " + c.Note + ")"
		}
	case "arg", "env":
		what := map[string]string{"arg": "build arg", "env": "env"}[in.Kind]
		q := func(i *input) string {
			if i == nil || i.Unset {
				return "unset"
			}
			return strconv.Quote(i.Value)
		}
		if o != nil && o.Unset {
			m.Old = ""
		}
		if c != nil && c.Unset {
			m.New = ""
		}
		if (o != nil && o.Hidden) || (c != nil && c.Hidden) {
			m.Old, m.New = "", ""
			m.Text = fmt.Sprintf("%s %s changed (value hidden)", what, m.Name)
		} else {
			m.Text = fmt.Sprintf("%s %s changed (%s → %s)", what, m.Name, q(o), q(c))
		}
	case "file":
		noun := map[string]string{"f": "file", "d": "directory", "l": "symlink", "t": "files under"}[in.Type]
		if noun == "" {
			noun = "source"
		}
		switch {
		case o == nil:
			m.Text = fmt.Sprintf("%s %s added", noun, m.Name)
		case c == nil:
			m.Text = fmt.Sprintf("%s %s removed", noun, m.Name)
		case o.Type != c.Type:
			m.Text = fmt.Sprintf("%s %s is now a %s", map[string]string{"f": "file", "d": "directory", "l": "symlink", "t": "tree"}[o.Type], m.Name, noun)
		case o.Value == c.Value && o.Mode != c.Mode:
			m.Kind, m.Old, m.New = "mode", octalMode(o.Mode), octalMode(c.Mode)
			m.Text = fmt.Sprintf("%s %s mode changed (%s → %s)", noun, m.Name, m.Old, m.New)
		case c.Type == "l":
			m.Text = fmt.Sprintf("symlink %s changed (%q → %q)", m.Name, m.Old, m.New)
		default:
			m.Text = fmt.Sprintf("%s %s changed (%s → %s)", noun, m.Name, m.Old, m.New)
		}
	case "from":
		m.Old, m.New = "", ""
		m.Text = fmt.Sprintf("the source of %s changed", m.Name)
		if c != nil && c.Note != "" {
			m.Text += " (" + c.Note + ")"
		}
	case "setting":
		m.Text = fmt.Sprintf("%s changed (%q → %q)", m.Name, m.Old, m.New)
	case "step":
		m.Old, m.New = "", ""
		m.Text = fmt.Sprintf("earlier step %s changed", m.Name)
	}
	return m
}

// octalMode writes a mode as chmod takes it: 0644, 4755.
func octalMode(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}

// fromInput is the source of COPY --from, with the key of its state.
func (r *stageRun) fromInput(from string, key v1.Hash) input {
	p := r.b.ex.parentOf(key)
	note := p.Name
	if p.Kind == "base" && p.Note != "" {
		note += " " + p.Note
	}
	return input{Kind: "from", Name: "--from=" + from, Value: key.String(), Note: note}
}

// inlineInput is a heredoc source of COPY.
func inlineInput(name, data string) input {
	sum := sha256.Sum256([]byte(data))
	return input{Kind: "file", Type: "f", Name: "<<" + name, Value: "sha256:" + hex.EncodeToString(sum[:])}
}
