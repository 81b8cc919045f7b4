package lint

import (
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Pragmas are comments that steer lint from inside a Dockerfile:
//
//	# hadolint ignore=DL3006,DL3008   silences the codes for the instruction
//	                                  right below (its comment block)
//	# hadolint global ignore=DL3059   silences the codes in the whole file
//	# hadolint shell=powershell       RUN is not a POSIX shell: rules that
//	                                  read shell commands stay quiet
//	# check=skip=Rule1,Rule2;error=true
//	                                  BuildKit's directive (top of file only):
//	                                  skip those checks (or skip=all), make
//	                                  the checks' findings errors
//
// Config.DisableIgnorePragma turns off the suppressions (ignore, global
// ignore and check=skip), not the shell pragma or check=error. Silencing a
// code also silences the rule that is the same as it (Rule.SameAs).

// pragmas are the pragmas of one document.
type pragmas struct {
	shell  string          // from `# hadolint shell=`
	global map[string]bool // from `# hadolint global ignore=`
	// inline are the `# hadolint ignore=` pragmas with the instruction
	// each applies to.
	inline []inlineIgnore

	check        *linter.Config // the `# check=` directive, nil if none
	checkLine    int
	checkErr     error
	checkSkip    map[string]bool
	checkExpRule map[string]bool
}

// inlineIgnore is one `# hadolint ignore=` comment.
type inlineIgnore struct {
	line int // the comment's line
	// first and last are the lines of the instruction it applies to;
	// 0 when no instruction follows the comment block.
	first, last int
	codes       []string
}

// ShellPragma is the shell a `# hadolint shell=NAME` comment names, "" if
// the file has none.
func (d *Document) ShellPragma() string { return d.pragmaSet().shell }

// NonPOSIXShell reports whether the file declares, with `# hadolint
// shell=NAME`, a shell that is not a POSIX shell (powershell, pwsh, cmd,
// ...): its RUN instructions are not sh scripts, so rules that read shell
// commands must stay quiet.
func (d *Document) NonPOSIXShell() bool {
	s := d.pragmaSet().shell
	return s != "" && !isPOSIXShellName(s)
}

// posixShells are the shells whose scripts mvdan.cc/sh reads.
var posixShells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "ash": true, "ksh": true, "mksh": true,
	"zsh": true, "posh": true, "yash": true, "busybox": true,
}

func isPOSIXShellName(name string) bool {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	return posixShells[strings.TrimSuffix(base, ".exe")]
}

// pragmaSet returns d's pragmas: those Check parsed for the document, or
// parsed now when a rule asks outside Check.
func (d *Document) pragmaSet() *pragmas {
	if d.config != nil && d.config.pragmas != nil {
		return d.config.pragmas
	}
	return parsePragmas(d)
}

// inlineIgnoreLines lists the lines of the `# hadolint ignore=` comments.
func (d *Document) inlineIgnoreLines() []int {
	var lines []int
	for _, in := range d.pragmaSet().inline {
		lines = append(lines, in.line)
	}
	return lines
}

// parsePragmas reads the pragmas of d.
func parsePragmas(d *Document) *pragmas {
	p := &pragmas{}
	// Lines inside an instruction (continuations, heredoc bodies) are not
	// comments of the file even when they start with #.
	inside := make([]bool, len(d.Lines)+2)
	for _, in := range d.All {
		for l := max(in.Line, 1); l <= in.EndLine && l < len(inside); l++ {
			inside[l] = true
		}
	}
	isComment := func(line int) bool {
		if line < 1 || line > len(d.Lines) || inside[line] {
			return false
		}
		return strings.HasPrefix(strings.TrimLeft(d.Lines[line-1], " \t\ufeff"), "#")
	}
	for i, text := range d.Lines {
		line := i + 1
		if !isComment(line) {
			continue
		}
		body := strings.TrimLeft(text, " \t\ufeff")[1:]
		kind, value, ok := parseHadolintPragma(body)
		if !ok {
			continue
		}
		switch kind {
		case "shell":
			p.shell = value
		case "global":
			if p.global == nil {
				p.global = map[string]bool{}
			}
			for _, c := range strings.Split(value, ",") {
				p.global[c] = true
			}
		case "ignore":
			ig := inlineIgnore{line: line, codes: strings.Split(value, ",")}
			// The comment applies to the instruction its comment block
			// sits directly on.
			next := line + 1
			for isComment(next) {
				next++
			}
			for _, in := range d.All {
				if in.Line == next {
					ig.first, ig.last = in.Line, in.EndLine
					break
				}
			}
			p.inline = append(p.inline, ig)
		}
	}
	p.parseCheckDirective(d.Source)
	return p
}

var (
	// pragmaRE is `hadolint [global] ignore=A,B` or `hadolint shell=NAME`,
	// with an optional trailing `# comment`.
	pragmaRE = regexp.MustCompile(`^\s*hadolint\s+(?:(global)\s+)?(ignore|shell)\s*=\s*(.*?)\s*$`)
	// ruleCodeRE is what a rule code looks like: DL3008, SC2086,
	// StageNameCasing.
	ruleCodeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
)

// parseHadolintPragma reads a comment's text (after the #) as a hadolint
// pragma. kind is "ignore", "global" or "shell"; value is the comma list of
// codes (normalized) or the shell. A comment that is not a well-formed
// pragma is an ordinary comment.
func parseHadolintPragma(comment string) (kind, value string, ok bool) {
	m := pragmaRE.FindStringSubmatch(comment)
	if m == nil {
		return "", "", false
	}
	value, _, _ = strings.Cut(m[3], "#")
	value = strings.TrimSpace(value)
	if m[2] == "shell" {
		if m[1] != "" || value == "" || strings.ContainsAny(value, " \t") {
			return "", "", false
		}
		return "shell", value, true
	}
	var codes []string
	for _, c := range strings.Split(value, ",") {
		c = strings.TrimSpace(c)
		if !ruleCodeRE.MatchString(c) {
			return "", "", false
		}
		codes = append(codes, normalizeCode(c))
	}
	if m[1] != "" {
		return "global", strings.Join(codes, ","), true
	}
	return "ignore", strings.Join(codes, ","), true
}

// normalizeCode upper-cases hadolint and ShellCheck codes written in lower
// case ("dl3008" is DL3008); other codes (BuildKit's check names) are kept.
func normalizeCode(c string) string {
	if hadolintCodeRE.MatchString(c) {
		return strings.ToUpper(c)
	}
	return c
}

var hadolintCodeRE = regexp.MustCompile(`^(?i:dl|sc)[0-9]+$`)

// isBuildKitCheck reports whether code names one of BuildKit's build checks
// (StageNameCasing, ...) rather than a hadolint (DLxxxx) or ShellCheck
// (SCxxxx) code.
func isBuildKitCheck(code string) bool { return code != "" && !hadolintCodeRE.MatchString(code) }

// parseCheckDirective reads BuildKit's `# check=` parser directive, which
// only counts at the top of the file, among the other parser directives.
func (p *pragmas) parseCheckDirective(src []byte) {
	value, _, loc, ok := parser.ParseDirective("check", src)
	if !ok {
		return
	}
	if len(loc) > 0 {
		p.checkLine = loc[0].Start.Line
	}
	cfg, err := linter.ParseLintOptions(value)
	if err != nil {
		p.checkErr = err
		return
	}
	p.check = cfg
	p.checkSkip = map[string]bool{}
	for _, r := range cfg.SkipRules {
		p.checkSkip[r] = true
	}
	p.checkExpRule = map[string]bool{}
	for _, r := range cfg.ExperimentalRules {
		p.checkExpRule[r] = true
	}
}

// experimental reports whether the check directive enables the
// experimental rule code.
func (p *pragmas) experimental(code string) bool {
	return p.check != nil && isBuildKitCheck(code) && (p.check.ExperimentalAll || p.checkExpRule[code])
}

// checkError reports whether the check directive makes the finding's codes
// (a code and the codes that are the same as it) errors.
func (p *pragmas) checkError(codes []string) bool {
	if p.check == nil || !p.check.ReturnAsError {
		return false
	}
	for _, c := range codes {
		if isBuildKitCheck(c) {
			return true
		}
	}
	return false
}

// suppressed reports whether a pragma silences a finding with any of codes
// (a code and the codes that are the same as it) at line.
func (p *pragmas) suppressed(codes []string, line int) bool {
	for _, c := range codes {
		if p.global[c] {
			return true
		}
		if p.check != nil && (p.checkSkip[c] || p.check.SkipAll && isBuildKitCheck(c)) {
			return true
		}
	}
	for _, ig := range p.inline {
		if ig.first == 0 || line < ig.first || line > ig.last {
			continue
		}
		for _, c := range codes {
			for _, ic := range ig.codes {
				if ic == c {
					return true
				}
			}
		}
	}
	return false
}
