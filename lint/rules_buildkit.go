package lint

import (
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/util/suggest"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/go-csvvalue"
)

// BuildKit's build checks, under BuildKit's names and with the wording,
// descriptions and documentation links its linter package exports.
//
// Four of them BuildKit's instruction parser runs itself while Parse reads
// the file (Document.BuildKitWarnings): MaintainerDeprecated,
// StageNameCasing, FromAsCasing and InvalidDefinitionDescription; and one
// its line parser (Document.ParserWarnings): NoEmptyContinuation. The rest
// BuildKit runs while it converts the file to LLB; here a small model of its
// dispatcher (bkModel) walks the stages the same way, without a daemon and
// without base images.
//
// Without the base image's configuration the model does not know the
// environment an image brings. It knows it exactly for stages built FROM
// scratch (only PATH) and for stages built from earlier stages of the file;
// for other stages UndefinedVar stays quiet on names an image commonly
// defines (PATH, HOME, LANG, GOPATH, JAVA_HOME, *_VERSION, *_HOME, ...; see
// imageEnv), where `docker build --check` would consult the image.
//
// Duplicates of hadolint rules: MaintainerDeprecated is DL4000,
// JSONArgsRecommended is DL3025, WorkdirRelativePath is DL3000,
// DuplicateStageName is DL3024 and RedundantTargetPlatform is DL3065
// (Rule.SameAs: one finding, under the hadolint code). MultipleInstructionsDisallowed covers CMD, ENTRYPOINT and
// HEALTHCHECK, which hadolint splits into DL4003, DL4004 and DL3012: it
// keeps its own code but leaves each instruction type to its hadolint rule
// when that rule is registered (ignoring the hadolint code silences both,
// as with SameAs).

func init() {
	registerRules(
		bkRule(linter.RuleStageNameCasing, checkParsedBy(linter.RuleStageNameCasing.Name), docStageNameCasing),
		bkRule(linter.RuleFromAsCasing, checkFromAsCasing, docFromAsCasing),
		bkRule(linter.RuleNoEmptyContinuation, checkNoEmptyContinuation, docNoEmptyContinuation),
		bkRule(linter.RuleConsistentInstructionCasing, checkInstructionCasing, docConsistentInstructionCasing),
		sameAs("DL3024", bkRule(linter.RuleDuplicateStageName, checkStageNames(true), docDuplicateStageName)),
		overlaps("DL3063", bkRule(linter.RuleReservedStageName, checkStageNames(false), docReservedStageName)),
		sameAs("DL3025", bkRule(linter.RuleJSONArgsRecommended, checkJSONArgs, docJSONArgsRecommended)),
		sameAs("DL4000", bkRule(linter.RuleMaintainerDeprecated, checkMaintainer, docMaintainerDeprecated)),
		bkRule(linter.RuleUndefinedArgInFrom, checkModel(linter.RuleUndefinedArgInFrom.Name), docUndefinedArgInFrom),
		sameAs("DL3000", bkRule(linter.RuleWorkdirRelativePath, checkModel(linter.RuleWorkdirRelativePath.Name), docWorkdirRelativePath)),
		bkRule(linter.RuleUndefinedVar, checkModel(linter.RuleUndefinedVar.Name), docUndefinedVar),
		bkRule(linter.RuleMultipleInstructionsDisallowed, checkMultipleInstructions, docMultipleInstructionsDisallowed),
		bkRule(linter.RuleLegacyKeyValueFormat, checkLegacyKeyValue, docLegacyKeyValueFormat),
		sameAs("DL3065", bkRule(linter.RuleRedundantTargetPlatform, checkModel(linter.RuleRedundantTargetPlatform.Name), docRedundantTargetPlatform)),
		overlaps("DL3064", bkRule(linter.RuleSecretsUsedInArgOrEnv, checkModel(linter.RuleSecretsUsedInArgOrEnv.Name), docSecretsUsedInArgOrEnv)),
		bkRule(linter.RuleInvalidDefaultArgInFrom, checkModel(linter.RuleInvalidDefaultArgInFrom.Name), docInvalidDefaultArgInFrom),
		overlaps("DL3029", bkRule(linter.RuleFromPlatformFlagConstDisallowed, checkModel(linter.RuleFromPlatformFlagConstDisallowed.Name), docFromPlatformFlagConstDisallowed)),
		bkRule(linter.RuleCopyIgnoredFile, checkCopyIgnored, docCopyIgnoredFile),
		bkRule(linter.RuleExposeProtoCasing, checkExposeProtoCasing, docExposeProtoCasing),
		bkRule(linter.RuleExposeInvalidFormat, checkModel(linter.RuleExposeInvalidFormat.Name), docExposeInvalidFormat),
		bkRule(linter.RuleInvalidDefinitionDescription, checkParsedBy(linter.RuleInvalidDefinitionDescription.Name), docInvalidDefinitionDescription),
	)
}

// bkRule makes a Rule of one of BuildKit's checks, with BuildKit's name,
// description, documentation link and experimental flag.
func bkRule[F any](lr linter.LinterRule[F], check func(*Document, *Reporter), doc string) *Rule {
	return &Rule{
		Code:         lr.Name,
		Severity:     Warning,
		Message:      lr.Description,
		Doc:          doc,
		URL:          lr.URL,
		Experimental: lr.Experimental,
		Check:        check,
	}
}

// overlaps marks r as reporting some of the same problems as the hadolint
// rule code, with different cases: on a line where both fire, only code's
// finding is kept.
func overlaps(code string, r *Rule) *Rule {
	r.Overlaps = code
	return r
}

func sameAs(code string, r *Rule) *Rule {
	r.SameAs = code
	return r
}

// instructionAt is the instruction that starts on line, or nil.
func instructionAt(d *Document, line int) *Instruction {
	for _, in := range d.All {
		if in.Line == line {
			return in
		}
	}
	return nil
}

// checkParsedBy reports the warnings BuildKit's instruction parser gave
// for the rule while Parse read the file.
func checkParsedBy(rule string) func(*Document, *Reporter) {
	return func(d *Document, r *Reporter) {
		for _, w := range d.BuildKitWarnings {
			if w.Rule != rule {
				continue
			}
			if in := instructionAt(d, w.Line); in != nil {
				r.Reportf(in, "%s", w.Message)
			} else {
				r.ReportAt(w.Line, 0, "%s", w.Message)
			}
		}
	}
}

func checkFromAsCasing(d *Document, r *Reporter) {
	for _, w := range d.BuildKitWarnings {
		if w.Rule != linter.RuleFromAsCasing.Name {
			continue
		}
		in := instructionAt(d, w.Line)
		if in == nil {
			r.ReportAt(w.Line, 0, "%s", w.Message)
			continue
		}
		if fix, ok := casingFix(d, in, !majorityLower(d)); ok {
			r.ReportFix(in, fix, "%s", w.Message)
		} else {
			r.Reportf(in, "%s", w.Message)
		}
	}
}

func checkMaintainer(d *Document, r *Reporter) {
	for _, w := range d.BuildKitWarnings {
		if w.Rule != linter.RuleMaintainerDeprecated.Name {
			continue
		}
		in := instructionAt(d, w.Line)
		if in == nil {
			r.ReportAt(w.Line, 0, "%s", w.Message)
			continue
		}
		if fix, ok := maintainerFix(d, in); ok {
			r.ReportFix(in, fix, "%s", w.Message)
		} else {
			r.Reportf(in, "%s", w.Message)
		}
	}
}

func checkNoEmptyContinuation(d *Document, r *Reporter) {
	for _, w := range d.ParserWarnings {
		if w.URL != linter.RuleNoEmptyContinuation.URL || w.Location == nil {
			continue
		}
		r.ReportAt(w.Location.Start.Line, 0, "%s", linter.RuleNoEmptyContinuation.Format())
	}
}

// casedInstructions are the instructions BuildKit compares the casing of:
// every FROM and the instructions of the stages, not the ARGs before the
// first FROM nor ONBUILD triggers.
func casedInstructions(d *Document) []*Instruction {
	var out []*Instruction
	for _, st := range d.Stages {
		for _, in := range append([]*Instruction{st.From}, st.Instructions...) {
			if in.ParseErr == nil && in.Cmd != nil {
				out = append(out, in)
			}
		}
	}
	return out
}

func selfConsistentCase(s string) bool { return s == strings.ToLower(s) || s == strings.ToUpper(s) }

// majorityLower reports whether most instructions are written in lower
// case; a tie counts as upper case, as in BuildKit.
func majorityLower(d *Document) bool {
	lower, upper := 0, 0
	for _, in := range casedInstructions(d) {
		switch name := in.Node.Value; {
		case !selfConsistentCase(name):
		case name == strings.ToLower(name):
			lower++
		default:
			upper++
		}
	}
	return lower > upper
}

func checkInstructionCasing(d *Document, r *Reporter) {
	lower := majorityLower(d)
	for _, in := range casedInstructions(d) {
		name := in.Node.Value
		var want string
		if lower && strings.ToLower(name) != name {
			want = "lowercase"
		} else if !lower && strings.ToUpper(name) != name {
			want = "uppercase"
		}
		if want == "" {
			continue
		}
		msg := linter.RuleConsistentInstructionCasing.Format(name, want)
		if fix, ok := casingFix(d, in, !lower); ok {
			r.ReportFix(in, fix, "%s", msg)
		} else {
			r.Reportf(in, "%s", msg)
		}
	}
}

// reservedStageNames are names a stage cannot take: FROM and COPY --from
// give them another meaning.
var reservedStageNames = map[string]bool{"context": true, "scratch": true}

// checkStageNames reports duplicate stage names (dup) or reserved ones.
// BuildKit compares the names lower-cased.
func checkStageNames(dup bool) func(*Document, *Reporter) {
	return func(d *Document, r *Reporter) {
		seen := map[string]bool{}
		for _, st := range d.Stages {
			s, ok := st.From.Cmd.(*instructions.Stage)
			if !ok || s.Name == "" {
				continue
			}
			switch {
			case !dup && reservedStageNames[s.Name]:
				r.Reportf(st.From, "%s", linter.RuleReservedStageName.Format(s.Name))
			case dup && seen[s.Name]:
				r.Reportf(st.From, "%s", linter.RuleDuplicateStageName.Format(s.Name))
			}
			seen[s.Name] = true
		}
	}
}

// checkModel reports what the dispatcher model found for the rule.
func checkModel(rule string) func(*Document, *Reporter) {
	return func(d *Document, r *Reporter) {
		for _, rep := range modelOf(d).reports {
			if rep.rule == rule {
				r.Reportf(rep.at, "%s", rep.msg)
			}
		}
	}
}

func checkJSONArgs(d *Document, r *Reporter) {
	for _, rep := range modelOf(d).reports {
		if rep.rule != linter.RuleJSONArgsRecommended.Name {
			continue
		}
		if fix, ok := jsonFormFix(d, rep.in); ok && rep.at == rep.in {
			r.ReportFix(rep.at, fix, "%s", rep.msg)
		} else {
			r.Reportf(rep.at, "%s", rep.msg)
		}
	}
}

func checkLegacyKeyValue(d *Document, r *Reporter) {
	for _, rep := range modelOf(d).reports {
		if rep.rule != linter.RuleLegacyKeyValueFormat.Name {
			continue
		}
		if fix, ok := keyValueFix(d, rep.in); ok && rep.at == rep.in {
			r.ReportFix(rep.at, fix, "%s", rep.msg)
		} else {
			r.Reportf(rep.at, "%s", rep.msg)
		}
	}
}

func checkExposeProtoCasing(d *Document, r *Reporter) {
	for _, rep := range modelOf(d).reports {
		if rep.rule != linter.RuleExposeProtoCasing.Name {
			continue
		}
		if fix, ok := exposeFix(d, rep.in); ok && rep.at == rep.in {
			r.ReportFix(rep.at, fix, "%s", rep.msg)
		} else {
			r.Reportf(rep.at, "%s", rep.msg)
		}
	}
}

// usedOnceOwners are the hadolint rules that report a second CMD,
// ENTRYPOINT or HEALTHCHECK in a stage; when one is registered it reports
// that instruction type and MultipleInstructionsDisallowed leaves it alone.
var usedOnceOwners = map[string]string{"cmd": "DL4003", "entrypoint": "DL4004", "healthcheck": "DL3012"}

func checkMultipleInstructions(d *Document, r *Reporter) {
	reportUsedOnce(d, r, func(kind string) bool {
		_, ok := RuleByCode(usedOnceOwners[kind])
		return ok
	})
}

// reportUsedOnce reports MultipleInstructionsDisallowed but for the
// instruction kinds ("cmd", "entrypoint", "healthcheck") owned reports as
// another rule's.
func reportUsedOnce(d *Document, r *Reporter, owned func(kind string) bool) {
	for _, rep := range modelOf(d).reports {
		if rep.rule == linter.RuleMultipleInstructionsDisallowed.Name && !owned(rep.kind) {
			r.Reportf(rep.at, "%s", rep.msg)
		}
	}
}

// ReadDockerIgnore reads a .dockerignore file into the patterns
// Config.DockerIgnore takes, as BuildKit reads it (comments dropped,
// patterns cleaned, leading slashes removed).
func ReadDockerIgnore(r io.Reader) ([]string, error) { return ignorefile.ReadAll(r) }

// checkCopyIgnored reports COPY and ADD sources that Config.DockerIgnore
// leaves out of the build context. Like BuildKit it stays quiet when the
// patterns have exclusions (`!pattern`): a file inside an ignored folder may
// be brought back, which cannot be told without the context.
func checkCopyIgnored(d *Document, r *Reporter) {
	cfg := r.Config()
	if cfg == nil || len(cfg.DockerIgnore) == 0 {
		return
	}
	pm, err := patternmatcher.New(cfg.DockerIgnore)
	if err != nil || pm.Exclusions() {
		return
	}
	for _, c := range modelOf(d).copies {
		for _, src := range c.sources {
			if remoteSource(src) {
				continue
			}
			src = filepath.ToSlash(filepath.Clean(src))
			if (src == "." || src == "/") && !rootIgnored(pm) {
				continue
			}
			if ok, err := pm.MatchesOrParentMatches(src); err == nil && ok {
				r.Reportf(c.at, "%s", linter.RuleCopyIgnoredFile.Format(c.cmd, src))
			}
		}
	}
}

// rootIgnored reports whether the patterns leave out everything at the
// root of the context.
func rootIgnored(pm *patternmatcher.PatternMatcher) bool {
	for _, p := range pm.Patterns() {
		if !p.Exclusion() && (p.String() == "*" || p.String() == "**" || p.String() == "**/*") {
			return true
		}
	}
	return false
}

// remoteSource reports whether an ADD source is a URL or a Git remote
// rather than a path in the context.
func remoteSource(src string) bool {
	for _, p := range []string{"http://", "https://", "git://", "git@", "ssh://"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

// bkModel is what a walk through the stages in the manner of BuildKit's
// dispatcher finds: the checks BuildKit runs while it converts a file.
type bkModel struct {
	reports []bkReport
	copies  []bkCopy
	// scope lists, for each RUN and ONBUILD instruction, the names its
	// shell gets from the Dockerfile: the stage's ARGs and ENVs so far.
	scope map[*Instruction][]string
}

// bkReport is one warning. at is where BuildKit reports it; in is the
// instruction that has the problem (they differ for ONBUILD triggers run
// in a child stage, which BuildKit reports on the child's FROM).
type bkReport struct {
	rule, msg string
	at, in    *Instruction
	kind      string // MultipleInstructionsDisallowed: the instruction name, lower case
}

// bkCopy is a COPY or ADD from the build context, with its sources
// expanded.
type bkCopy struct {
	at      *Instruction
	cmd     string // "Copy" or "Add"
	sources []string
}

// bkEnv is an ordered environment, a shell.EnvGetter.
type bkEnv struct {
	keys []string
	vals map[string]string
}

func newBKEnv() *bkEnv { return &bkEnv{vals: map[string]string{}} }

func (e *bkEnv) Get(k string) (string, bool) {
	v, ok := e.vals[k]
	return v, ok
}

func (e *bkEnv) Keys() []string { return e.keys }

func (e *bkEnv) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *bkEnv) clone() *bkEnv {
	c := &bkEnv{keys: slices.Clone(e.keys), vals: make(map[string]string, len(e.vals))}
	for k, v := range e.vals {
		c.vals[k] = v
	}
	return c
}

var _ shell.EnvGetter = (*bkEnv)(nil)

// defaultPath is the PATH BuildKit gives a Linux stage whose image has
// none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nonEnvArgs are build arguments BuildKit never puts in the environment.
var nonEnvArgs = map[string]bool{"BUILDKIT_SBOM_SCAN_CONTEXT": true, "BUILDKIT_SBOM_SCAN_STAGE": true}

// imageEnv reports whether a variable is one that base images commonly
// define, so that UndefinedVar cannot tell it is undefined without the
// image's configuration.
func imageEnv(name string) bool {
	return imageEnvNames[name] || strings.HasSuffix(name, "_VERSION") || strings.HasSuffix(name, "_HOME")
}

var imageEnvNames = map[string]bool{
	"PATH": true, "HOME": true, "HOSTNAME": true, "USER": true, "SHELL": true, "TERM": true, "PWD": true,
	"LANG": true, "LANGUAGE": true, "LC_ALL": true, "TZ": true, "LD_LIBRARY_PATH": true, "SSL_CERT_FILE": true,
	"GOPATH": true, "GOROOT": true, "GOTOOLCHAIN": true, "GOFLAGS": true, "CGO_ENABLED": true,
	"NODE_ENV": true, "NPM_CONFIG_PREFIX": true, "PYTHONPATH": true, "PYTHONUNBUFFERED": true,
	"PYTHONDONTWRITEBYTECODE": true, "PYTHON_SHA256": true, "PYTHON_GET_PIP_URL": true, "GPG_KEY": true,
	"PIP_NO_CACHE_DIR": true, "VIRTUAL_ENV": true, "CONDA_DIR": true, "RUBY_MAJOR": true,
	"BUNDLE_APP_CONFIG": true, "BUNDLE_SILENCE_ROOT_WARNING": true, "BUNDLE_PATH": true, "PHP_INI_DIR": true,
	"PHPIZE_DEPS": true, "PHP_CFLAGS": true, "PHP_CPPFLAGS": true, "PHP_LDFLAGS": true, "MAVEN_CONFIG": true,
	"ASPNETCORE_URLS": true, "ASPNETCORE_HTTP_PORTS": true, "DOTNET_RUNNING_IN_CONTAINER": true, "APP_UID": true,
	"PGDATA": true, "PG_MAJOR": true, "MYSQL_MAJOR": true, "HTTPD_PREFIX": true, "NVIDIA_VISIBLE_DEVICES": true,
	"NVIDIA_DRIVER_CAPABILITIES": true, "NVIDIA_REQUIRE_CUDA": true, "CUDA_PKG_VERSION": true,
	"MAMBA_USER": true, "MAMBA_USER_ID": true, "MAMBA_USER_GID": true, "MAMBA_ROOT_PREFIX": true,
	"MAMBA_EXE": true, "CONDA_PREFIX": true, "NB_USER": true, "NB_UID": true, "NB_GID": true,
	"CATALINA_BASE": true, "APP_ROOT": true,
}

// bkStage is the state of one stage while the model walks it.
type bkStage struct {
	name string // lower case, "" if none
	from *Instruction
	env  *bkEnv
	// args are the stage's ARG names (BuildKit's buildArgs): a name
	// declared without a value is not in env but is not undefined either.
	args []string
	// knownEnv is set when the stage's environment is known whole: its
	// base is scratch, itself or through earlier stages.
	knownEnv   bool
	workdirSet bool
	shellSet   bool
	// onbuild are the stage's ONBUILD triggers, run by stages built FROM it.
	onbuild []*Instruction
	// used tracks CMD, ENTRYPOINT and HEALTHCHECK for
	// MultipleInstructionsDisallowed.
	used map[string]*Instruction
}

// names lists the names the stage has declared, sorted.
func (st *bkStage) names() []string {
	set := map[string]bool{}
	for _, k := range st.env.keys {
		set[k] = true
	}
	for _, k := range st.args {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// models keeps the models of the last few documents: a dozen rules read
// the model of the document being checked. A document is read-only once
// parsed, so its model never goes stale; holding a few documents a little
// longer than needed is the price.
var models struct {
	sync.Mutex
	next    int
	entries [16]struct {
		d *Document
		m *bkModel
	}
}

// modelOf returns the dispatcher model of d.
func modelOf(d *Document) *bkModel {
	models.Lock()
	for _, e := range models.entries {
		if e.d == d {
			models.Unlock()
			return e.m
		}
	}
	models.Unlock()
	m := buildModel(d)
	models.Lock()
	models.entries[models.next].d, models.entries[models.next].m = d, m
	models.next = (models.next + 1) % len(models.entries)
	models.Unlock()
	return m
}

// buildModel walks d's stages as BuildKit's dispatcher would.
func buildModel(d *Document) *bkModel {
	m := &bkModel{scope: map[*Instruction][]string{}}
	w := &bkWalk{d: d, m: m, lex: shell.NewLex(d.Escape)}
	w.raw = shell.NewLex('\\')
	w.raw.SkipProcessQuotes = true
	w.run()
	return m
}

type bkWalk struct {
	d        *Document
	m        *bkModel
	lex, raw *shell.Lex
	global   *bkEnv
	metaArgs []string
	stages   map[string]*bkStage
}

func (w *bkWalk) report(rule string, at, in *Instruction, msg string) {
	w.m.reports = append(w.m.reports, bkReport{rule: rule, at: at, in: in, msg: msg})
}

// predefinedArgs are the build arguments BuildKit defines, for a build on
// and for linux/amd64 (a fixed platform, so lint results do not depend on
// the machine).
func predefinedArgs(target string) [][2]string {
	return [][2]string{
		{"BUILDPLATFORM", "linux/amd64"}, {"BUILDOS", "linux"}, {"BUILDOSVERSION", ""},
		{"BUILDARCH", "amd64"}, {"BUILDVARIANT", ""},
		{"TARGETPLATFORM", "linux/amd64"}, {"TARGETOS", "linux"}, {"TARGETOSVERSION", ""},
		{"TARGETARCH", "amd64"}, {"TARGETVARIANT", ""}, {"TARGETSTAGE", target},
	}
}

func (w *bkWalk) run() {
	d := w.d
	target := "default"
	if n := len(d.Stages); n > 0 {
		if s, ok := d.Stages[n-1].From.Cmd.(*instructions.Stage); ok && s.Name != "" {
			target = s.Name
		}
	}
	w.global = newBKEnv()
	for _, kv := range predefinedArgs(target) {
		w.global.set(kv[0], kv[1])
	}
	for _, in := range d.MetaArgs {
		arg, ok := in.Cmd.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range arg.Args {
			w.metaArgs = append(w.metaArgs, kv.Key)
			if kv.Value != nil {
				res, _ := w.lex.ProcessWordWithMatches(*kv.Value, w.global)
				w.global.set(kv.Key, res.Result)
			}
		}
	}
	w.checkDefaultBaseNames()
	w.stages = map[string]*bkStage{}
	for _, st := range d.Stages {
		w.stage(st)
	}
}

// checkDefaultBaseNames is InvalidDefaultArgInFrom: with the ARGs'
// defaults, every FROM must name a valid image reference. Like BuildKit it
// gives up on the first base name it cannot expand.
func (w *bkWalk) checkDefaultBaseNames() {
	for _, st := range w.d.Stages {
		s, ok := st.From.Cmd.(*instructions.Stage)
		if !ok {
			continue
		}
		res, err := w.lex.ProcessWordWithMatches(s.BaseName, w.global)
		if err != nil {
			return
		}
		if !validReference(res.Result) {
			w.report(linter.RuleInvalidDefaultArgInFrom.Name, st.From, st.From, linter.RuleInvalidDefaultArgInFrom.Format(s.BaseName))
		}
	}
}

// fromArgs is UndefinedArgInFrom: names FROM uses that no ARG before the
// first FROM declares and BuildKit does not predefine.
func (w *bkWalk) fromArgs(at *Instruction, unmatched map[string]struct{}) {
	known := map[string]bool{}
	var options []string
	for _, k := range append(slices.Clone(w.metaArgs), w.global.keys...) {
		if !known[k] {
			known[k] = true
			options = append(options, k)
		}
	}
	sort.Strings(options)
	for _, name := range sortedKeys(unmatched) {
		if known[name] {
			continue
		}
		s, _ := suggest.Search(name, options, true)
		w.report(linter.RuleUndefinedArgInFrom.Name, at, at, linter.RuleUndefinedArgInFrom.Format(name, s))
	}
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (w *bkWalk) stage(st *Stage) {
	s, ok := st.From.Cmd.(*instructions.Stage)
	if !ok {
		return
	}
	bs := &bkStage{name: s.Name, from: st.From, used: map[string]*Instruction{}}
	base, _ := w.lex.ProcessWordWithMatches(s.BaseName, w.global)
	w.fromArgs(st.From, base.Unmatched)
	if s.Platform != "" {
		plat, _ := w.lex.ProcessWordWithMatches(s.Platform, w.global)
		w.fromArgs(st.From, plat.Unmatched)
		w.platform(st.From, s, plat)
	}
	var triggers []*Instruction
	if parent, ok := w.stages[strings.ToLower(base.Result)]; ok {
		bs.env = parent.env.clone()
		bs.args = slices.Clone(parent.args)
		bs.knownEnv = parent.knownEnv
		bs.workdirSet = parent.workdirSet
		bs.shellSet = parent.shellSet
		triggers = parent.onbuild
	} else {
		bs.env = newBKEnv()
		bs.env.set("PATH", defaultPath)
		bs.knownEnv = base.Result == "scratch"
	}
	if s.Name != "" {
		w.stages[s.Name] = bs
	}
	// The parent's ONBUILD triggers run first, reported on this FROM.
	for _, t := range triggers {
		w.dispatch(bs, st.From, t)
	}
	for _, in := range st.Instructions {
		w.dispatch(bs, in, in)
	}
}

// platform is RedundantTargetPlatform and FromPlatformFlagConstDisallowed.
func (w *bkWalk) platform(at *Instruction, s *instructions.Stage, plat shell.ProcessWordResult) {
	if len(plat.Matched) == 1 && len(plat.Unmatched) == 0 {
		if _, ok := plat.Matched["TARGETPLATFORM"]; ok {
			if v, _ := w.global.Get("TARGETPLATFORM"); plat.Result == v {
				w.report(linter.RuleRedundantTargetPlatform.Name, at, at, linter.RuleRedundantTargetPlatform.Format(s.Platform))
			}
		}
	}
	if len(plat.Matched) > 0 || len(plat.Unmatched) > 0 {
		return // not a constant
	}
	os, arch, ok := parsePlatform(plat.Result)
	if !ok || strings.Contains(s.Name, os) || strings.Contains(s.Name, arch) {
		return
	}
	w.report(linter.RuleFromPlatformFlagConstDisallowed.Name, at, at, linter.RuleFromPlatformFlagConstDisallowed.Format(plat.Result))
}

// undefined is UndefinedVar for the names an expansion did not find.
func (w *bkWalk) undefined(bs *bkStage, at, in *Instruction, unmatched map[string]struct{}, seen map[string]bool) {
	for _, name := range sortedKeys(unmatched) {
		if seen[name] || nonEnvArgs[name] || slices.Contains(bs.args, name) || (!bs.knownEnv && imageEnv(name)) {
			continue
		}
		seen[name] = true
		s, _ := suggest.Search(name, bs.env.keys, true)
		w.report(linter.RuleUndefinedVar.Name, at, in, linter.RuleUndefinedVar.Format(name, s))
	}
}

// dispatch walks one instruction as BuildKit's dispatcher would; at is
// where to report.
func (w *bkWalk) dispatch(bs *bkStage, at, in *Instruction) {
	if in.Cmd == nil {
		return
	}
	seen := map[string]bool{}
	expand := func(word string) string {
		res, _ := w.lex.ProcessWordWithMatches(word, bs.env)
		w.undefined(bs, at, in, res.Unmatched, seen)
		return res.Result
	}
	expandAll := func(words []string) []string {
		out := make([]string, len(words))
		for i, s := range words {
			out[i] = expand(s)
		}
		return out
	}
	// Heredoc files of COPY and ADD expand with quotes left alone.
	expandContents := func(sd instructions.SourcesAndDest) {
		for _, c := range sd.SourceContents {
			if c.Expand {
				res, _ := w.raw.ProcessWordWithMatches(c.Data, bs.env)
				w.undefined(bs, at, in, res.Unmatched, seen)
			}
		}
	}
	switch c := in.Cmd.(type) {
	case *instructions.EnvCommand:
		type kv struct{ k, v string }
		var pairs []kv
		for _, e := range c.Env {
			pairs = append(pairs, kv{expand(e.Key), expand(e.Value)})
		}
		for i, e := range c.Env {
			if e.NoDelim {
				w.report(linter.RuleLegacyKeyValueFormat.Name, at, in, linter.RuleLegacyKeyValueFormat.Format(c.Name()))
			}
			w.secret(at, in, "ENV", pairs[i].k)
			bs.env.set(pairs[i].k, pairs[i].v)
		}
	case *instructions.LabelCommand:
		for _, l := range c.Labels {
			expand(l.Key)
			expand(l.Value)
		}
		for _, l := range c.Labels {
			if l.NoDelim {
				w.report(linter.RuleLegacyKeyValueFormat.Name, at, in, linter.RuleLegacyKeyValueFormat.Format(c.Name()))
			}
		}
	case *instructions.AddCommand:
		expand(c.Chown)
		expand(c.Chmod)
		expand(c.Checksum)
		srcs := expandAll(c.SourcePaths)
		expand(c.DestPath)
		expandContents(c.SourcesAndDest)
		w.m.copies = append(w.m.copies, bkCopy{at: at, cmd: "Add", sources: srcs})
	case *instructions.CopyCommand:
		expand(c.Chown)
		expand(c.Chmod)
		srcs := expandAll(c.SourcePaths)
		expand(c.DestPath)
		expandContents(c.SourcesAndDest)
		if c.From == "" {
			w.m.copies = append(w.m.copies, bkCopy{at: at, cmd: "Copy", sources: srcs})
		}
	case *instructions.WorkdirCommand:
		p := expand(c.Path)
		if !bs.workdirSet && !absPath(p) {
			w.report(linter.RuleWorkdirRelativePath.Name, at, in, linter.RuleWorkdirRelativePath.Format(p))
		}
		bs.workdirSet = true
	case *instructions.RunCommand:
		w.expandMounts(in, expand)
		if at == in {
			w.m.scope[in] = bs.names()
		}
	case *instructions.UserCommand:
		expand(c.User)
	case *instructions.VolumeCommand:
		expandAll(c.Volumes)
	case *instructions.StopSignalCommand:
		expand(c.Signal)
	case *instructions.ExposeCommand:
		for _, p := range c.Ports {
			ports, err := w.lex.ProcessWords(p, bs.env)
			if err != nil {
				continue
			}
			for _, port := range ports {
				w.expose(at, in, port)
			}
		}
	case *instructions.CmdCommand:
		w.usedOnce(bs, at, c.Name())
		if c.PrependShell && !bs.shellSet {
			w.report(linter.RuleJSONArgsRecommended.Name, at, in, linter.RuleJSONArgsRecommended.Format(c.Name()))
		}
	case *instructions.EntrypointCommand:
		w.usedOnce(bs, at, c.Name())
		if c.PrependShell && !bs.shellSet {
			w.report(linter.RuleJSONArgsRecommended.Name, at, in, linter.RuleJSONArgsRecommended.Format(c.Name()))
		}
	case *instructions.HealthCheckCommand:
		w.usedOnce(bs, at, c.Name())
	case *instructions.ShellCommand:
		bs.shellSet = len(c.Shell) > 0
	case *instructions.ArgCommand:
		for _, a := range c.Args {
			w.secret(at, in, "ARG", a.Key)
			var value *string
			if a.Value != nil {
				res, _ := w.lex.ProcessWordWithMatches(*a.Value, bs.env)
				w.undefined(bs, at, in, res.Unmatched, seen)
				value = &res.Result
			} else if v, ok := w.global.Get(a.Key); ok {
				value = &v
			}
			if value != nil && !nonEnvArgs[a.Key] {
				bs.env.set(a.Key, *value)
			}
			bs.args = append(bs.args, a.Key)
		}
	case *instructions.OnbuildCommand:
		if in.Trigger != nil {
			bs.onbuild = append(bs.onbuild, in.Trigger)
			if at == in {
				w.m.scope[in] = bs.names()
			}
		}
	}
}

// expandMounts expands the values of RUN --mount options, as BuildKit
// does before it runs the command.
func (w *bkWalk) expandMounts(in *Instruction, expand func(string) string) {
	for _, f := range in.Flags() {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		fields, err := csvvalue.Fields(v, nil)
		if err != nil {
			continue
		}
		for _, field := range fields {
			if _, val, ok := strings.Cut(field, "="); ok {
				expand(val)
			}
		}
	}
}

// usedOnce is MultipleInstructionsDisallowed: a second CMD, ENTRYPOINT or
// HEALTHCHECK in a stage makes the first one dead; BuildKit reports the
// first.
func (w *bkWalk) usedOnce(bs *bkStage, at *Instruction, name string) {
	kind := strings.ToLower(name)
	if prev := bs.used[kind]; prev != nil {
		w.m.reports = append(w.m.reports, bkReport{
			rule: linter.RuleMultipleInstructionsDisallowed.Name, at: prev, in: prev, kind: kind,
			msg: linter.RuleMultipleInstructionsDisallowed.Format(name),
		})
	}
	bs.used[kind] = at
}

var (
	secretWords = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	secretAllow = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
)

// secret is SecretsUsedInArgOrEnv: a name with a word like TOKEN or
// PASSWORD as its first or last part (or between underscores), unless it
// also has PUBLIC, FILE or VERSION.
func (w *bkWalk) secret(at, in *Instruction, instruction, key string) {
	if secretWords.MatchString(key) && !secretAllow.MatchString(key) {
		w.report(linter.RuleSecretsUsedInArgOrEnv.Name, at, in, linter.RuleSecretsUsedInArgOrEnv.Format(instruction, key))
	}
}

// expose is ExposeProtoCasing and ExposeInvalidFormat for one port
// ([ip:][hostport:]port[/proto]). A port BuildKit rejects (an unknown
// protocol) is an error, not a warning, and is left alone.
func (w *bkWalk) expose(at, in *Instruction, raw string) {
	parts := strings.Split(raw, ":")
	var ip, hostPort string
	container := parts[len(parts)-1]
	if n := len(parts); n >= 2 {
		hostPort = parts[n-2]
		ip = strings.Join(parts[:n-2], ":")
	}
	port, proto, _ := strings.Cut(container, "/")
	if port == "" {
		return
	}
	switch strings.ToLower(proto) {
	case "", "tcp", "udp", "sctp":
	default:
		return
	}
	if proto != strings.ToLower(proto) {
		w.report(linter.RuleExposeProtoCasing.Name, at, in, linter.RuleExposeProtoCasing.Format(raw))
	}
	if ip != "" || hostPort != "" {
		w.report(linter.RuleExposeInvalidFormat.Name, at, in, linter.RuleExposeInvalidFormat.Format(raw))
	}
}

var windowsAbs = regexp.MustCompile(`^(?:[A-Za-z]:)?[\\/]`)

// absPath reports whether a WORKDIR is absolute, for Linux or Windows
// (the model does not know the base image's platform).
func absPath(p string) bool { return strings.HasPrefix(p, "/") || windowsAbs.MatchString(p) }

// The image reference grammar of github.com/distribution/reference, which
// BuildKit checks FROM against.
var referenceRe = func() *regexp.Regexp {
	const (
		domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		host            = `(?:` + domainComponent + `(?:\.` + domainComponent + `)*|\[[a-fA-F0-9:]+\])`
		domain          = host + `(?::[0-9]+)?`
		component       = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
		name            = `(?:` + domain + `/)?` + component + `(?:/` + component + `)*`
		tag             = `[\w][\w.-]{0,127}`
		digest          = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`
	)
	return regexp.MustCompile(`^(` + name + `)(?::` + tag + `)?(?:@` + digest + `)?$`)
}()

var hexID = regexp.MustCompile(`^[a-f0-9]{64}$`)

// validReference reports whether s parses as a normalized image reference.
func validReference(s string) bool {
	m := referenceRe.FindStringSubmatch(s)
	return m != nil && len(m[1]) <= 255 && !hexID.MatchString(s)
}

var platformComponent = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

var knownOS = map[string]bool{
	"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true, "hurd": true,
	"illumos": true, "ios": true, "js": true, "linux": true, "nacl": true, "netbsd": true, "openbsd": true,
	"plan9": true, "solaris": true, "wasip1": true, "windows": true, "zos": true,
}

var knownArch = map[string]bool{
	"386": true, "amd64": true, "amd64p32": true, "arm": true, "armbe": true, "arm64": true, "arm64be": true,
	"loong64": true, "mips": true, "mipsle": true, "mips64": true, "mips64le": true, "mips64p32": true,
	"mips64p32le": true, "ppc": true, "ppc64": true, "ppc64le": true, "riscv": true, "riscv64": true,
	"s390": true, "s390x": true, "sparc": true, "sparc64": true, "wasm": true,
}

// parsePlatform reads an os[/arch[/variant]] specifier as containerd's
// platforms.Parse does, normalizing the names (x86_64 is amd64, aarch64 is
// arm64, macos is darwin). A lone architecture gets OS linux, a lone OS
// architecture amd64.
func parsePlatform(spec string) (os, arch string, ok bool) {
	if strings.Contains(spec, "*") {
		return "", "", false
	}
	if i := strings.IndexByte(spec, '('); i >= 0 {
		j := strings.IndexByte(spec[i:], ')')
		if j < 0 {
			return "", "", false
		}
		spec = spec[:i] + spec[i+j+1:]
	}
	parts := strings.Split(spec, "/")
	for _, p := range parts {
		if !platformComponent.MatchString(p) {
			return "", "", false
		}
	}
	switch len(parts) {
	case 1:
		if os := normalizeOS(parts[0]); knownOS[os] {
			return os, "amd64", true
		}
		if arch := normalizeArch(parts[0]); knownArch[arch] {
			return "linux", arch, true
		}
		return "", "", false
	case 2, 3:
		return normalizeOS(parts[0]), normalizeArch(parts[1]), true
	}
	return "", "", false
}

func normalizeOS(os string) string {
	os = strings.ToLower(os)
	if os == "macos" {
		return "darwin"
	}
	return os
}

func normalizeArch(arch string) string {
	switch arch = strings.ToLower(arch); arch {
	case "i386":
		return "386"
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "armhf", "armel":
		return "arm"
	}
	return arch
}

// Documentation for `strata lint --explain`.
const (
	docStageNameCasing = `A stage name is matched without regard to case, so "Builder" and "builder"
are the same stage; writing it in lower case avoids the confusion.

Bad:
    FROM golang:1.22 AS Builder
Good:
    FROM golang:1.22 AS builder`

	docFromAsCasing = `The AS of a FROM should be written in the same case as FROM itself: both
upper case or both lower case. strata lint --fix rewrites it.

Bad:
    FROM debian:12 as build
Good:
    FROM debian:12 AS build`

	docNoEmptyContinuation = `An empty line inside an instruction continued with a backslash is accepted
today but will become an error. Remove the empty line, or end the
instruction before it.

Bad:
    RUN apt-get update && \

        apt-get install -y curl
Good:
    RUN apt-get update && \
        apt-get install -y curl`

	docConsistentInstructionCasing = `Instructions should all be written in one case. The case most instructions
of the file use is the expected one; an instruction in the other case, or in
mixed case ("Run"), is reported. strata lint --fix rewrites it.

Bad:
    FROM alpine
    run echo hello
Good:
    FROM alpine
    RUN echo hello`

	docDuplicateStageName = `Two stages with the same name (compared lower-cased) make COPY --from and
--target ambiguous. Give each stage its own name.

Bad:
    FROM alpine AS build
    FROM debian AS build
Good:
    FROM alpine AS build-alpine
    FROM debian AS build-debian`

	docReservedStageName = `"scratch" and "context" mean the empty image and the build context; a stage
cannot take those names.

Bad:
    FROM alpine AS scratch
Good:
    FROM alpine AS base`

	docJSONArgsRecommended = `CMD and ENTRYPOINT in shell form run under /bin/sh -c: the shell, not your
program, is process 1 and gets the signals, so the container does not stop
cleanly. Use the JSON (exec) form, or declare the shell with SHELL when you
want one. strata lint --fix rewrites a command that is a plain list of
words.

Bad:
    ENTRYPOINT my-server --port 8080
Good:
    ENTRYPOINT ["my-server", "--port", "8080"]`

	docMaintainerDeprecated = `MAINTAINER is deprecated. Record the author in the
org.opencontainers.image.authors label instead; strata lint --fix rewrites
it.

Bad:
    MAINTAINER Jane Doe <jane@example.com>
Good:
    LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"`

	docUndefinedArgInFrom = `A variable in FROM (the image or --platform) must be an ARG declared before
the first FROM, or one of BuildKit's predefined arguments (TARGETPLATFORM,
BUILDPLATFORM, TARGETARCH, ...). Otherwise it expands to nothing.

Bad:
    FROM node:${NODE_VERSION}
Good:
    ARG NODE_VERSION=20
    FROM node:${NODE_VERSION}`

	docWorkdirRelativePath = `A relative WORKDIR is relative to the base image's working directory, which
can change under you. Make the first WORKDIR of a stage absolute.

Bad:
    FROM nginx
    WORKDIR usr/share/nginx/html
Good:
    FROM nginx
    WORKDIR /usr/share/nginx/html`

	docUndefinedVar = `A variable used in an instruction BuildKit expands (ENV, ARG, LABEL, COPY,
ADD, WORKDIR, USER, VOLUME, STOPSIGNAL, RUN --mount) must be declared before
it by ARG or ENV in the stage (or a stage it is built from), or come from
the base image; otherwise it expands to nothing, often from a typo. Shell
variables in RUN, CMD and ENTRYPOINT are the shell's business and are not
checked.

strata does not read base images. For a stage built FROM scratch (directly
or through earlier stages) the environment is known exactly; for other
stages names that images commonly set (PATH, HOME, LANG, GOPATH, JAVA_HOME,
anything ending in _VERSION or _HOME, ...) are assumed to come from the
image.

Bad:
    FROM alpine
    ARG APP_DIR=/app
    WORKDIR $APPDIR
Good:
    FROM alpine
    ARG APP_DIR=/app
    WORKDIR $APP_DIR`

	docMultipleInstructionsDisallowed = `Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect; the
earlier one is dead code. The finding is on the instruction that is ignored.
When the hadolint rules for these (DL4003 for CMD, DL4004 for ENTRYPOINT,
DL3012 for HEALTHCHECK) are present, they report it instead.

Bad:
    FROM alpine
    CMD ["echo", "one"]
    CMD ["echo", "two"]
Good:
    FROM alpine
    CMD ["echo", "two"]`

	docLegacyKeyValueFormat = `ENV and LABEL accept "key value" (one pair, the value being the rest of the
line) for compatibility. Write key=value: it is unambiguous and allows
several pairs. strata lint --fix rewrites it.

Bad:
    ENV APP_HOME /srv/app
Good:
    ENV APP_HOME=/srv/app`

	docRedundantTargetPlatform = `A stage is built for $TARGETPLATFORM unless told otherwise, so
--platform=$TARGETPLATFORM says nothing. Leave it out.

Bad:
    FROM --platform=$TARGETPLATFORM alpine
Good:
    FROM alpine`

	docSecretsUsedInArgOrEnv = `ARG and ENV values end up in the image's history or configuration, where
anyone with the image can read them. Pass secrets with RUN --mount=type=secret.
Names with a part like PASSWORD, TOKEN, SECRET, KEY, AUTH or CREDENTIALS are
reported, unless they also have PUBLIC, FILE or VERSION.

Bad:
    ARG GITHUB_TOKEN
    RUN git clone https://$GITHUB_TOKEN@github.com/acme/app
Good:
    RUN --mount=type=secret,id=github_token,env=GITHUB_TOKEN \
        git clone https://$GITHUB_TOKEN@github.com/acme/app`

	docInvalidDefaultArgInFrom = `With the default values of the ARGs before the first FROM, the image name
of a FROM must be valid; an ARG without a default leaves it empty or
malformed unless every build passes --build-arg. Give the ARG a default.

Bad:
    ARG TAG
    FROM alpine:$TAG
Good:
    ARG TAG=3.20
    FROM alpine:$TAG`

	docFromPlatformFlagConstDisallowed = `FROM --platform with a constant pins the stage to one platform whatever the
build asks for, which is rarely intended; use a variable such as
$BUILDPLATFORM. A stage whose name mentions the OS or architecture it pins
(build-amd64) is taken as intentional.

Bad:
    FROM --platform=linux/amd64 golang AS build
Good:
    FROM --platform=$BUILDPLATFORM golang AS build`

	docCopyIgnoredFile = `A COPY or ADD source that .dockerignore excludes is not in the build
context, so the instruction fails or copies less than it says. The CLI
passes the context's .dockerignore patterns (Config.DockerIgnore); with
exclusion patterns ("!pattern") the check stays quiet, as in BuildKit.

Bad (.dockerignore has "*.md"):
    COPY README.md /docs/
Good:
    COPY docs/ /docs/`

	docExposeProtoCasing = `The protocol of an EXPOSE port should be lower case (tcp, udp, sctp).
strata lint --fix rewrites it.

Bad:
    EXPOSE 53/UDP
Good:
    EXPOSE 53/udp`

	docExposeInvalidFormat = `EXPOSE declares a container port. An IP address or a host port mapping
(ip:host:container) belongs to docker run -p, not to the image, and will
become an error.

Bad:
    EXPOSE 127.0.0.1:8080:80
Good:
    EXPOSE 80`

	docInvalidDefinitionDescription = `A comment right above an ARG or a named FROM is taken as its description,
and must start with the name it describes. If the comment is not meant as a
description, separate it with an empty line. (Experimental.)

Bad:
    # the Go release to build with
    ARG GO_VERSION=1.22
Good:
    # GO_VERSION the Go release to build with
    ARG GO_VERSION=1.22`
)
