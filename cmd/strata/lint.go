package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/moby/buildkit/util/suggest"
	"github.com/moby/patternmatcher"
	"github.com/spf13/cobra"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/lint"
)

type lintFlags struct {
	config              string
	format              string
	threshold           string
	noFail              bool
	ignore              []string
	severity            [4][]string // --error, --warning, --info, --style
	trusted             []string
	requireLabels       []string
	strictLabels        bool
	disableIgnorePragma bool
	noColor             bool
	experimental        bool
	noShellcheck        bool
	verbose             bool
	exclude             []string
	explain             string
	listRules           bool
	fix                 bool
	diff                bool
}

func newLintCommand() *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint [flags] [PATH...]",
		Short: "Lint Dockerfiles: hadolint's rules and BuildKit's checks",
		Long: "Lint Dockerfiles with hadolint's rules and BuildKit's build checks, on Docker's own parser.\n" +
			"PATH is a Dockerfile, - for standard input, or a directory searched for Dockerfile,\n" +
			"*.Dockerfile, Dockerfile.*, Containerfile and *.containerfile (default ./Dockerfile).\n" +
			"Configuration comes from .hadolint.yaml (from the Dockerfile's folder up, then the\n" +
			"user's), HADOLINT_* variables and these flags, in increasing precedence.\n" +
			"Findings go to stdout. Exit status: 0 clean, 1 findings at or above the failure\n" +
			"threshold, 2 usage or configuration error.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "configuration file (default: .hadolint.yaml looked up from the Dockerfile's folder)")
	fl.StringVarP(&f.format, "format", "f", "", "output format: "+strings.Join(lint.FormatNames(), ", ")+" (default tty)")
	fl.StringVarP(&f.threshold, "failure-threshold", "t", "", "fail on findings of this severity or worse: error, warning, info, style or none (default info)")
	fl.BoolVar(&f.noFail, "no-fail", false, "exit 0 whatever is found")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "rule `CODE` to ignore (repeatable)")
	fl.StringArrayVar(&f.severity[lint.Error], "error", nil, "make rule `CODE` an error (repeatable)")
	fl.StringArrayVar(&f.severity[lint.Warning], "warning", nil, "make rule `CODE` a warning (repeatable)")
	fl.StringArrayVar(&f.severity[lint.Info], "info", nil, "make rule `CODE` info (repeatable)")
	fl.StringArrayVar(&f.severity[lint.Style], "style", nil, "make rule `CODE` style (repeatable)")
	fl.StringArrayVar(&f.trusted, "trusted-registry", nil, "`REGISTRY` FROM may use, e.g. docker.io (repeatable; DL3026)")
	fl.StringArrayVar(&f.requireLabels, "require-label", nil, "required label and its type, `LABEL:TYPE` (repeatable; types: "+strings.Join(lint.LabelTypes, ", ")+")")
	fl.BoolVar(&f.strictLabels, "strict-labels", false, "report labels that the label schema does not name")
	fl.BoolVar(&f.disableIgnorePragma, "disable-ignore-pragma", false, "make \"# hadolint ignore=\" and \"# check=skip=\" comments inert")
	fl.BoolVar(&f.noColor, "no-color", false, "no colour in tty output (also NO_COLOR)")
	fl.BoolVar(&f.experimental, "experimental", false, "run experimental rules too")
	fl.BoolVar(&f.noShellcheck, "no-shellcheck", false, "do not run shellcheck on RUN scripts")
	fl.BoolVarP(&f.verbose, "verbose", "V", false, "say on stderr which configuration each file uses")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "skip paths matching this gitignore-style `PATTERN` (repeatable)")
	fl.StringVar(&f.explain, "explain", "", "print the documentation of rule `CODE` and exit")
	fl.BoolVar(&f.listRules, "list-rules", false, "list the rules and exit")
	fl.BoolVar(&f.fix, "fix", false, "rewrite the files with the safe fixes, then report what is left")
	fl.BoolVar(&f.diff, "diff", false, "with --fix: print the fixes as a unified diff and change nothing")
	return cmd
}

// errLintFailed is lint finding problems at or above the threshold: exit 1.
var errLintFailed = errors.New("lint failed")

func runLint(cmd *cobra.Command, f *lintFlags, args []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if f.explain != "" {
		return explainRule(stdout, f.explain)
	}
	if f.listRules {
		return listRules(stdout)
	}
	cli, err := f.layer(cmd)
	if err != nil {
		return err
	}
	if f.diff && !f.fix {
		return usagef("--diff shows what --fix would change: give both")
	}
	targets, err := lintTargets(args, f.exclude)
	if err != nil {
		return err
	}

	// Configuration, loaded once per folder (or once, with --config).
	configs := map[string]*lint.Config{}
	configFor := func(path string) (*lint.Config, error) {
		key := f.config
		if key == "" {
			key = filepath.Dir(path)
			if path == "-" {
				key = "-"
			}
		}
		if c, ok := configs[key]; ok {
			return c, nil
		}
		c, err := lint.LoadConfig(path, f.config, os.Getenv)
		if err != nil {
			return nil, usageError{err}
		}
		cli(c)
		if c.Verbose {
			if c.File == "" {
				fmt.Fprintf(stderr, "%s: no configuration file\n", path)
			} else {
				fmt.Fprintf(stderr, "%s: configuration %s\n", path, c.File)
			}
		}
		configs[key] = c
		return c, nil
	}

	if f.fix && slices.Contains(targets, "-") && len(targets) > 1 {
		return usagef("--fix with standard input (-) prints the fixed Dockerfile: give no other path")
	}

	var report lint.Report
	var first *lint.Config
	failing := 0
	var threshold lint.Severity
	var diffs strings.Builder
	for _, path := range targets {
		cfg, err := configFor(path)
		if err != nil {
			return err
		}
		if first == nil {
			first = cfg
		}
		src, err := readDockerfile(cmd, path)
		if err != nil {
			return err
		}
		if f.fix {
			fixed := lint.Fix(path, src, cfg)
			switch {
			case f.diff:
				if !bytes.Equal(fixed, src) {
					diffs.WriteString(unifiedDiff(path, src, fixed))
				}
				continue
			case path == "-":
				// The fixed Dockerfile is the output; what the fixes
				// could not remove goes to stderr and sets the exit code.
				if _, err := stdout.Write(fixed); err != nil {
					return err
				}
				left := lint.Lint(path, fixed, cfg)
				if err := lint.Format(stderr, "tty", lint.Report{Files: []string{path}, Findings: left}, lint.FormatOptions{Version: version}); err != nil {
					return err
				}
				failing := 0
				for _, x := range left {
					if x.Severity.AtLeast(cfg.FailureThreshold) {
						failing++
					}
				}
				if failing > 0 && !cfg.NoFail {
					return fmt.Errorf("lint failed: %d finding(s) at or above %s remain after --fix", failing, cfg.FailureThreshold)
				}
				return nil
			case !bytes.Equal(fixed, src):
				if err := writeFileAtomic(path, fixed); err != nil {
					return fmt.Errorf("--fix: %w", err)
				}
				src = fixed
			}
		}
		fileCfg := *cfg
		fileCfg.DockerIgnore = dockerIgnoreFor(path)
		findings := lint.Lint(path, src, &fileCfg)
		report.Files = append(report.Files, path)
		report.Findings = append(report.Findings, findings...)
		if !cfg.NoFail {
			for _, x := range findings {
				if x.Severity.AtLeast(cfg.FailureThreshold) {
					failing++
					threshold = cfg.FailureThreshold
				}
			}
		}
	}
	if f.diff {
		if _, err := io.WriteString(stdout, diffs.String()); err != nil {
			return err
		}
		if diffs.Len() > 0 {
			return fmt.Errorf("%w: --fix would change the files above", errLintFailed)
		}
		return nil
	}
	if first.Shellcheck {
		if _, err := lint.LookShellcheck(); err != nil {
			fmt.Fprintf(stderr, "note: %v (--no-shellcheck silences this note)\n", err)
		}
	}
	opts := lint.FormatOptions{Version: version, Color: first.Format == "tty" && !first.NoColor && isTerminal(stdout)}
	if err := lint.Format(stdout, first.Format, report, opts); err != nil {
		return err
	}
	if failing > 0 {
		return fmt.Errorf("%w: %d finding(s) at or above %s", errLintFailed, failing, threshold)
	}
	return nil
}

// layer checks the flags that set configuration and returns the function
// that lays them over a loaded configuration: flags win over the
// environment and files; lists add to theirs.
func (f *lintFlags) layer(cmd *cobra.Command) (func(*lint.Config), error) {
	changed := cmd.Flags().Changed
	var format string
	if changed("format") {
		var err error
		if format, err = lint.ParseFormat(f.format); err != nil {
			return nil, usagef("--format: %v", err)
		}
	}
	var threshold lint.Severity
	if changed("failure-threshold") {
		var err error
		if threshold, err = lint.ParseSeverity(f.threshold); err != nil {
			return nil, usagef("--failure-threshold: %v", err)
		}
	}
	labels := map[string]string{}
	for _, item := range f.requireLabels {
		name, typ, err := lint.ParseLabelSchema(item)
		if err != nil {
			return nil, usagef("--require-label: %v", err)
		}
		labels[name] = typ
	}
	for _, list := range append([][]string{f.ignore}, f.severity[:]...) {
		for _, code := range list {
			if strings.TrimSpace(code) == "" || strings.ContainsAny(code, " ,\t") {
				return nil, usagef("%q is not a rule code", code)
			}
		}
	}
	return func(c *lint.Config) {
		if changed("format") {
			c.Format = format
		}
		if changed("failure-threshold") {
			c.FailureThreshold = threshold
		}
		c.NoFail = c.NoFail || f.noFail
		c.NoColor = c.NoColor || f.noColor
		c.StrictLabels = c.StrictLabels || f.strictLabels
		c.DisableIgnorePragma = c.DisableIgnorePragma || f.disableIgnorePragma
		c.Experimental = c.Experimental || f.experimental
		c.Verbose = c.Verbose || f.verbose
		if f.noShellcheck {
			c.Shellcheck = false
		}
		c.Ignored = append(c.Ignored, f.ignore...)
		for sev, codes := range f.severity {
			for _, code := range codes {
				if c.Override == nil {
					c.Override = map[string]lint.Severity{}
				}
				c.Override[code] = lint.Severity(sev)
			}
		}
		c.TrustedRegistries = append(c.TrustedRegistries, f.trusted...)
		for name, typ := range labels {
			if c.LabelSchema == nil {
				c.LabelSchema = map[string]string{}
			}
			c.LabelSchema[name] = typ
		}
	}, nil
}

// readDockerfile reads a file, or standard input for "-".
func readDockerfile(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return data, nil
}

// lintTargets expands the command's paths: files as they are, "-" for
// standard input, directories to the Dockerfiles under them. No path is
// ./Dockerfile.
func lintTargets(args []string, exclude []string) ([]string, error) {
	if len(args) == 0 {
		if _, err := os.Stat("Dockerfile"); err != nil {
			return nil, usagef("no Dockerfile in the current directory: give a PATH (a file, a directory or - for standard input)")
		}
		args = []string{"Dockerfile"}
	}
	var pm *patternmatcher.PatternMatcher
	if len(exclude) > 0 {
		var err error
		if pm, err = patternmatcher.New(gitignorePatterns(exclude)); err != nil {
			return nil, usagef("--exclude: %v", err)
		}
	}
	cwd, _ := os.Getwd()
	// excluded matches a path, relative to the current directory when it
	// is under it, against the patterns.
	excluded := func(path string) bool {
		if pm == nil {
			return false
		}
		rel := filepath.Clean(path)
		if filepath.IsAbs(rel) && cwd != "" {
			if r, err := filepath.Rel(cwd, rel); err == nil && !strings.HasPrefix(r, "..") {
				rel = r
			}
		}
		m, _ := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		return m
	}
	var out []string
	stdin := false
	for _, arg := range args {
		if arg == "-" {
			if stdin {
				return nil, usagef("standard input (-) given twice")
			}
			stdin = true
			out = append(out, arg)
			continue
		}
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if !fi.IsDir() {
			if !excluded(arg) {
				out = append(out, arg)
			}
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != arg && (d.Name() == ".git" || excluded(path) && !pm.Exclusions()) {
					return filepath.SkipDir
				}
				return nil
			}
			if isDockerfileName(d.Name()) && !excluded(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
	}
	if len(out) == 0 {
		return nil, usagef("no Dockerfiles found in %s", strings.Join(args, ", "))
	}
	return out, nil
}

// isDockerfileName reports whether a file found in a directory is a
// Dockerfile: Dockerfile, Containerfile, *.Dockerfile, *.containerfile,
// Dockerfile.* (not a Dockerfile's own .dockerignore).
func isDockerfileName(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, ".dockerignore") {
		return false
	}
	return n == "dockerfile" || n == "containerfile" ||
		strings.HasSuffix(n, ".dockerfile") || strings.HasSuffix(n, ".containerfile") ||
		strings.HasPrefix(n, "dockerfile.") || strings.HasPrefix(n, "containerfile.")
}

// gitignorePatterns turns gitignore-style patterns into patternmatcher's
// (.dockerignore's): a pattern without a slash matches at any depth, one
// with a slash is relative to the current directory (a leading slash too),
// a trailing slash is dropped, ! re-includes.
func gitignorePatterns(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		p = strings.TrimSuffix(p, "/")
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "/") {
			p = strings.TrimLeft(p, "/")
		} else if !strings.Contains(p, "/") {
			p = "**/" + p
		}
		if neg {
			p = "!" + p
		}
		out = append(out, p)
	}
	return out
}

// isTerminal reports whether w is a terminal (colour makes sense there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// explainRule prints a rule's documentation.
func explainRule(w io.Writer, code string) error {
	rule, ok := lint.RuleByCode(code)
	if !ok {
		for _, r := range lint.Rules() {
			if strings.EqualFold(r.Code, code) {
				rule, ok = r, true
			}
		}
	}
	if !ok {
		var codes []string
		for _, r := range lint.Rules() {
			codes = append(codes, r.Code)
		}
		if s, found := suggest.Search(code, codes, false); found {
			for _, c := range codes {
				if strings.EqualFold(c, s) {
					s = c // the rule's own spelling
				}
			}
			return usagef("unknown rule %q (did you mean %s?)", code, s)
		}
		var near []string
		for _, c := range codes {
			if len(code) >= 3 && strings.HasPrefix(strings.ToLower(c), strings.ToLower(code[:3])) {
				near = append(near, c)
			}
		}
		if len(near) > 0 && len(near) <= 10 {
			return usagef("unknown rule %q (rules like it: %s; see --list-rules)", code, strings.Join(near, ", "))
		}
		return usagef("unknown rule %q (see --list-rules)", code)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)", rule.Code, severityName(rule.Severity))
	if rule.Experimental {
		b.WriteString(", experimental")
	}
	fmt.Fprintf(&b, "\n%s\n\n%s\n", rule.Message, strings.TrimSpace(rule.Doc))
	if rule.SameAs != "" {
		fmt.Fprintf(&b, "\nThe same as %s: with both, one finding, under %s; ignoring either silences it.\n", rule.SameAs, rule.SameAs)
	}
	if rule.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", rule.URL)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// severityName is a default severity as --explain and --list-rules show it.
func severityName(s lint.Severity) string {
	if s == lint.Ignore {
		return "off by default"
	}
	return s.String()
}

// listRules prints every rule, a line each.
func listRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range lint.Rules() {
		note := ""
		if r.Experimental {
			note = " (experimental)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", r.Code, severityName(r.Severity), r.Message, note)
	}
	return tw.Flush()
}

// writeFileAtomic replaces path with data: a temporary file in the same
// folder, renamed over it, with the old file's permissions. A symbolic
// link stays one: its target is replaced.
func writeFileAtomic(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".strata-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// unifiedDiff is the unified diff (three lines of context) from a to b,
// both the file at path; "" when they are equal.
func unifiedDiff(path string, a, b []byte) string {
	x, y := slices.Collect(strings.Lines(string(a))), slices.Collect(strings.Lines(string(b)))
	ops := lineOps(x, y)
	const context = 3
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", filepath.ToSlash(path), filepath.ToSlash(path))
	// Group the edits into hunks with their context.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// A run of equal lines: the hunk goes on if another edit comes
			// within twice the context.
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		aStart, bStart := ops[start].ai, ops[start].bi
		var aLen, bLen int
		var body strings.Builder
		for _, op := range ops[start:end] {
			switch op.kind {
			case ' ':
				aLen++
				bLen++
				body.WriteString(" " + op.text)
			case '-':
				aLen++
				body.WriteString("-" + op.text)
			case '+':
				bLen++
				body.WriteString("+" + op.text)
			}
			if !strings.HasSuffix(op.text, "\n") {
				body.WriteString("\n\\ No newline at end of file\n")
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n%s", hunkRange(aStart, aLen), hunkRange(bStart, bLen), body.String())
		i = end
	}
	return out.String()
}

// hunkRange is a hunk header's range: 1-based start, length.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// lineOp is one line of an edit script: kept (' '), removed ('-') or
// added ('+'), with the line's index in a and in b before it.
type lineOp struct {
	kind   byte
	text   string
	ai, bi int
}

// lineOps is an edit script from x to y by longest common subsequence
// (Dockerfiles are small; a very large pair is replaced whole).
func lineOps(x, y []string) []lineOp {
	n, m := len(x), len(y)
	var ops []lineOp
	if n*m > 4_000_000 {
		for i, l := range x {
			ops = append(ops, lineOp{'-', l, i, 0})
		}
		for j, l := range y {
			ops = append(ops, lineOp{'+', l, n, j})
		}
		return ops
	}
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, lineOp{' ', x[i], i, j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, lineOp{'+', y[j], i, j})
			j++
		default:
			ops = append(ops, lineOp{'-', x[i], i, j})
			i++
		}
	}
	return ops
}

// lintBeforeBuild is `strata build --check`: it lints the Dockerfile with
// the configuration strata lint would use, prints the findings on w, and
// fails (exit 1) on findings at or above the failure threshold.
func lintBeforeBuild(w io.Writer, path, name string, src []byte, dockerIgnore []string) error {
	lookup := path
	if lookup == "" {
		lookup = "-"
	}
	cfg, err := lint.LoadConfig(lookup, "", os.Getenv)
	if err != nil {
		return usageError{err}
	}
	cfg.DockerIgnore = dockerIgnore
	findings := lint.Lint(name, src, cfg)
	opts := lint.FormatOptions{Version: version, Color: !cfg.NoColor && isTerminal(w)}
	if err := lint.Format(w, "tty", lint.Report{Files: []string{name}, Findings: findings}, opts); err != nil {
		return err
	}
	failing := 0
	for _, x := range findings {
		if x.Severity.AtLeast(cfg.FailureThreshold) {
			failing++
		}
	}
	if failing > 0 && !cfg.NoFail {
		return fmt.Errorf("--check: %s has %d finding(s) at or above %s; not building", name, failing, cfg.FailureThreshold)
	}
	return nil
}

// dockerIgnoreFor is the .dockerignore that applies when the Dockerfile at
// path is built with its own folder as the context, as `docker build` is
// usually run; CopyIgnoredFile reads it.
func dockerIgnoreFor(path string) []string {
	if path == "-" {
		return nil
	}
	c, err := frontend.OpenContext(filepath.Dir(path), path)
	if err != nil {
		return nil
	}
	return c.Excludes
}
