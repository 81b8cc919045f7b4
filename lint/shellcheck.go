package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ShellCheck: the scripts of shell-form RUN instructions (heredoc bodies
// and ONBUILD RUN included) go to the shellcheck program, all those of a
// Dockerfile in one process, and what it finds is reported at the line and
// column of the Dockerfile it is about.
//
// Each script is written to a file of its own, as BuildKit would run it:
// the command line with the continuation lines joined; for `RUN <<EOF` the
// heredoc body (a body with a #! line keeps it, and one for another
// interpreter is skipped); for a command line with heredocs (`RUN python3
// <<EOF`) the command line followed by the heredocs, which stay data. The
// file starts with a #! line for the stage's shell (the SHELL instruction,
// else `# hadolint shell=`, else sh) unless the body has its own, and ends
// with an assignment of every ARG and ENV name the stage has declared so
// far (and the proxy variables BuildKit passes to RUN) so that shellcheck
// does not call them unassigned (SC2154). The assignments come last so that
// the body's lines keep their numbers and a #! line of its own stays first;
// findings on them are dropped. Positions are mapped back through the
// joining: each character of a script knows the Dockerfile line and column
// (in characters, tabs counting one, as shellcheck's json1 counts) it came
// from.
//
// Scripts are skipped when the file declares a shell that is not POSIX
// (`# hadolint shell=pwsh`), when SHELL names one shellcheck does not know
// (PowerShell, cmd, zsh, ...), and in files with the Windows escape
// character ` and no SHELL, whose RUNs go to cmd.exe.

// ErrNoShellcheck is returned when the shellcheck program is not found.
var ErrNoShellcheck = errors.New("shellcheck is not installed: RUN scripts are not checked")

// LookShellcheck returns the path of the shellcheck program, or
// ErrNoShellcheck; the CLI calls it once to print a note when it is absent.
func LookShellcheck() (string, error) {
	p, err := exec.LookPath("shellcheck")
	if err != nil {
		return "", ErrNoShellcheck
	}
	return p, nil
}

func init() {
	registerRules(&Rule{
		Code:     "ShellCheck",
		Severity: Warning,
		Message:  "shellcheck could not check the RUN scripts",
		Doc: `RUN scripts are checked with ShellCheck (https://www.shellcheck.net) when the
shellcheck program is installed and --no-shellcheck is not given. Its findings
come under their own codes (SC2086, ...) with ShellCheck's severity, at the
exact line and column of the Dockerfile; ignore or override them by code like
any other rule. Ignoring ShellCheck turns the checking off. This code itself
is only reported when shellcheck fails to run.

The stage's ARG and ENV names count as assigned. The shell is the one SHELL
sets, else the one a "# hadolint shell=" comment names, else sh; scripts for
shells ShellCheck does not know are skipped.

Bad:
    RUN tar -xf $ARCHIVE
Good:
    RUN tar -xf "$ARCHIVE"`,
		URL:   "https://www.shellcheck.net/wiki/",
		Check: checkShellcheck,
	})
}

func checkShellcheck(d *Document, r *Reporter) {
	fs, err := RunShellcheck(d, r.Config())
	if err != nil && !errors.Is(err, ErrNoShellcheck) {
		r.ReportAt(1, 0, "%v", err)
	}
	for _, f := range fs {
		r.ReportOther(f)
	}
}

// RunShellcheck checks d's RUN scripts with shellcheck when cfg.Shellcheck
// is set (nil cfg: DefaultConfig). It returns ErrNoShellcheck, and no
// findings, when shellcheck is not installed.
func RunShellcheck(d *Document, cfg *Config) ([]Finding, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if !cfg.Shellcheck || d.Root == nil || nonPOSIXShell(d) {
		return nil, nil
	}
	var scripts []*scScript
	scope := modelOf(d).scope
	for _, in := range d.All {
		if s := newScript(d, in, scope[in]); s != nil {
			scripts = append(scripts, s)
		}
	}
	if len(scripts) == 0 {
		return nil, nil
	}
	bin, err := LookShellcheck()
	if err != nil {
		return nil, err
	}
	results, err := checkScripts(bin, scripts)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for i, comments := range results {
		for _, c := range comments {
			if f, ok := scripts[i].finding(d, c); ok {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// scCache keeps what shellcheck said of each script text, for the life of
// the process: the same script in many files (or a file linted again, as
// with --fix) is checked once.
var scCache = struct {
	sync.Mutex
	m map[string][]scComment
}{m: map[string][]scComment{}}

const scCacheSize = 4096

// checkScripts returns shellcheck's comments on each script, running
// shellcheck once for those it has not seen.
func checkScripts(bin string, scripts []*scScript) ([][]scComment, error) {
	results := make([][]scComment, len(scripts))
	var todo []*scScript
	var at []int
	scCache.Lock()
	for i, s := range scripts {
		if cs, ok := scCache.m[s.text]; ok {
			results[i] = cs
		} else {
			todo = append(todo, s)
			at = append(at, i)
		}
	}
	scCache.Unlock()
	if len(todo) == 0 {
		return results, nil
	}
	comments, err := runShellcheck(bin, todo)
	if err != nil {
		return nil, err
	}
	fresh := make([][]scComment, len(todo))
	for _, c := range comments {
		i, err := strconv.Atoi(strings.TrimSuffix(c.File, ".sh"))
		if err != nil || i < 0 || i >= len(todo) {
			continue
		}
		fresh[i] = append(fresh[i], c)
	}
	scCache.Lock()
	if len(scCache.m)+len(todo) > scCacheSize {
		clear(scCache.m)
	}
	for i, s := range todo {
		results[at[i]] = fresh[i]
		scCache.m[s.text] = fresh[i]
	}
	scCache.Unlock()
	return results, nil
}

// scComment is one finding of shellcheck's json1 format.
type scComment struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	EndLine   int    `json:"endLine"`
	Column    int    `json:"column"`
	EndColumn int    `json:"endColumn"`
	Level     string `json:"level"`
	Code      int    `json:"code"`
	Message   string `json:"message"`
}

// scExcluded are the checks hadolint leaves out too: sourcing files that
// are not there (a Dockerfile cannot say where they are) and the ash
// dialect note.
const scExcluded = "SC1090,SC1091,SC2187"

// runShellcheck runs one shellcheck over the scripts, written as 0.sh,
// 1.sh, ... in a temporary folder.
func runShellcheck(bin string, scripts []*scScript) ([]scComment, error) {
	dir, err := os.MkdirTemp("", "strata-shellcheck-")
	if err != nil {
		return nil, fmt.Errorf("running shellcheck: %w", err)
	}
	defer os.RemoveAll(dir)
	var files []string
	for i, s := range scripts {
		name := strconv.Itoa(i) + ".sh"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s.text), 0o600); err != nil {
			return nil, fmt.Errorf("running shellcheck: %w", err)
		}
		files = append(files, name)
	}
	out, err := execShellcheck(bin, dir, append([]string{"--norc", "-f", "json1", "-e", scExcluded, "--"}, files...))
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 3 {
		// An old shellcheck without --norc.
		out, err = execShellcheck(bin, dir, append([]string{"-f", "json1", "-e", scExcluded, "--"}, files...))
	}
	// Exit status 1 means findings.
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return nil, fmt.Errorf("running shellcheck: %w", err)
	}
	var res struct {
		Comments []scComment `json:"comments"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("reading shellcheck's output: %w", err)
	}
	return res.Comments, nil
}

func execShellcheck(bin, dir string, args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	}
	return out, err
}

// srcPos is a position in the Dockerfile: 1-based line, 1-based column in
// characters.
type srcPos struct{ line, col int }

// scScript is one script as shellcheck sees it and the way back from its
// positions to the Dockerfile's.
type scScript struct {
	in   *Instruction
	text string
	// skip is the number of lines before the body (the #! line strata
	// adds), 0 or 1.
	skip int
	// pos maps the body: pos[l][c] is where character c of body line l
	// (both 0-based) comes from; each line has one more entry, for the
	// position just past its end.
	pos [][]srcPos
}

// proxyVars are the build arguments BuildKit passes to every RUN without a
// declaration.
var proxyVars = []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// newScript builds the script of a shell-form RUN or ONBUILD RUN, or
// returns nil.
func newScript(d *Document, in *Instruction, names []string) *scScript {
	cmd := in.Cmd
	if in.Trigger != nil {
		cmd = in.Trigger.Cmd
	}
	run, ok := cmd.(*instructions.RunCommand)
	if !ok || !run.PrependShell || len(run.CmdLine) != 1 || in.EndLine > len(d.Lines) {
		return nil
	}
	dialect := stageShell(d, in)
	if dialect == "" {
		return nil
	}
	m := joinCommand(d, in)
	cmdLine := run.CmdLine[0]
	start, ok := m.find(cmdLine)
	if !ok {
		return nil
	}
	s := &scScript{in: in}
	var body strings.Builder
	addLine := func(text string, at func(i int) srcPos) {
		if body.Len() > 0 {
			body.WriteByte('\n')
		}
		body.WriteString(text)
		n := utf8.RuneCountInString(text)
		ps := make([]srcPos, n+1)
		for i := range ps {
			ps[i] = at(i)
		}
		s.pos = append(s.pos, ps)
	}
	// commandLine maps the command line's characters through the join.
	commandLine := func() {
		runeStart := utf8.RuneCountInString(m.text[:start])
		addLine(cmdLine, func(i int) srcPos { return m.at(runeStart + i) })
	}
	// bodyLines adds the lines of a heredoc body starting at source line
	// first; tabs counts leading tabs removed from each line (<<-).
	bodyLines := func(data string, first int, chomp bool) int {
		lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
		if data == "" {
			lines = nil
		}
		for k, l := range lines {
			l = strings.TrimSuffix(l, "\r")
			tabs := 0
			if chomp {
				tabs = len(l) - len(strings.TrimLeft(l, "\t"))
				l = l[tabs:]
			}
			line := first + k
			addLine(l, func(i int) srcPos { return srcPos{line, tabs + i + 1} })
		}
		return len(lines)
	}
	bodyStart := commandEnd(d, in) + 1
	switch {
	case len(run.Files) == 0:
		commandLine()
	case parser.MustParseHeredoc(cmdLine) != nil:
		// `RUN <<EOF`: the first heredoc is the script.
		f := run.Files[0]
		data := f.Data
		if f.Chomp {
			data = parser.ChompHeredocContent(data)
		}
		if strings.HasPrefix(data, "#!") {
			sheb, _, _ := strings.Cut(data, "\n")
			if shebangShell(sheb) == "" {
				return nil
			}
			dialect = ""
		}
		bodyLines(f.Data, bodyStart, f.Chomp)
	default:
		// The command line with its heredocs, as the shell reads them.
		commandLine()
		line := bodyStart
		for _, f := range run.Files {
			n := bodyLines(f.Data, line, false)
			line += n
			addLine(f.Name, func(i int) srcPos { return srcPos{line, i + 1 + leadingTabs(d, line)} })
			line++
		}
	}
	var text strings.Builder
	if dialect != "" {
		text.WriteString("#!/bin/" + dialect + "\n")
		s.skip = 1
	}
	text.WriteString(body.String())
	// An empty line ends a body whose last line is continued.
	text.WriteString("\n\n")
	// Only the names the script mentions: declaring every ARG and ENV of
	// the stage in every script would make the work grow with RUNs × ENVs.
	script := body.String()
	for _, n := range append(names, proxyVars...) {
		if shellName.MatchString(n) && strings.Contains(script, n) {
			text.WriteString(n + "=\n")
		}
	}
	s.text = text.String()
	return s
}

func leadingTabs(d *Document, line int) int {
	if line < 1 || line > len(d.Lines) {
		return 0
	}
	l := d.Lines[line-1]
	return len(l) - len(strings.TrimLeft(l, "\t"))
}

// finding maps a shellcheck comment back to the Dockerfile.
func (s *scScript) finding(d *Document, c scComment) (Finding, bool) {
	start, ok := s.at(c.Line, c.Column)
	if !ok {
		if c.Code >= 2000 || len(s.pos) == 0 {
			return Finding{}, false // about strata's #! line or assignments
		}
		// A syntax error found at the end of the file.
		last := s.pos[len(s.pos)-1]
		start = last[len(last)-1]
	}
	end, ok := s.at(c.EndLine, c.EndColumn)
	if !ok || end.line < start.line || (end.line == start.line && end.col < start.col) {
		end = start
	}
	sev := Info
	switch c.Level {
	case "error":
		sev = Error
	case "warning":
		sev = Warning
	case "style":
		sev = Style
	}
	code := fmt.Sprintf("SC%04d", c.Code)
	return Finding{
		Code: code, Severity: sev, Message: c.Message, File: d.File,
		Line: start.line, Column: start.col, EndLine: end.line, EndColumn: end.col,
		URL: "https://www.shellcheck.net/wiki/" + code,
	}, true
}

// at maps a 1-based line and column of the script to the Dockerfile.
func (s *scScript) at(line, col int) (srcPos, bool) {
	l := line - 1 - s.skip
	if l < 0 || l >= len(s.pos) || col < 1 {
		return srcPos{}, false
	}
	ps := s.pos[l]
	return ps[min(col-1, len(ps)-1)], true
}

// joined is an instruction's command part as BuildKit's parser joins it
// (continuation characters, comment lines and empty lines removed), with
// where each of its characters comes from.
type joined struct {
	text string
	pos  []srcPos // per character, and one past the end
}

// joinCommand joins in's command lines as the parser does: the first line
// without its leading white space, then each continuation line whole.
func joinCommand(d *Document, in *Instruction) joined {
	cont := continuation(d.Escape)
	var j joined
	var text strings.Builder
	var last srcPos
	for l := in.Line; l <= len(d.Lines) && l <= in.EndLine; l++ {
		line := d.Lines[l-1]
		first := l == in.Line
		if !first && isCommentLine(line) {
			continue
		}
		if !first && strings.TrimSpace(line) == "" {
			continue // an empty continuation line
		}
		from := 0
		if first {
			from = len(line) - len(strings.TrimLeftFunc(line, unicode.IsSpace))
		}
		kept := line
		more := false
		if loc := cont.FindStringSubmatchIndex(line); loc != nil {
			more = true
			kept = line[:loc[0]]
			if loc[2] >= 0 { // the character before the escape stays
				kept = line[:loc[3]]
			}
		}
		col := utf8.RuneCountInString(line[:from]) + 1
		for _, r := range kept[min(from, len(kept)):] {
			text.WriteRune(r)
			j.pos = append(j.pos, srcPos{l, col})
			col++
		}
		last = srcPos{l, col}
		if !more {
			break
		}
	}
	j.text = text.String()
	j.pos = append(j.pos, last)
	return j
}

// find returns the byte offset of the command line in the joined text: it
// ends it, but for trailing white space.
func (j joined) find(cmdLine string) (int, bool) {
	trimmed := strings.TrimRightFunc(j.text, unicode.IsSpace)
	if !strings.HasSuffix(trimmed, cmdLine) {
		return 0, false
	}
	return len(trimmed) - len(cmdLine), true
}

// at is where character i of the joined text comes from.
func (j joined) at(i int) srcPos { return j.pos[min(i, len(j.pos)-1)] }

// stageShell is the shellcheck dialect of in's RUN: from the last SHELL
// before it in its stage (or the stages it is built from), else from the
// `# hadolint shell=` comment, else sh. "" means not a shell shellcheck
// checks.
func stageShell(d *Document, in *Instruction) string {
	if sh := shellInstruction(d, in.Stage, in); sh != nil {
		if len(sh) == 0 {
			return ""
		}
		name := shebangShell("#!" + sh[0])
		if path.Base(sh[0]) == "busybox" && len(sh) > 1 {
			name = shebangShell("#!" + sh[1])
		}
		return name
	}
	if p := d.ShellPragma(); p != "" {
		return shebangShell("#!" + p)
	}
	if d.Escape == '`' {
		return "" // a Windows Dockerfile: RUN goes to cmd.exe
	}
	return "sh"
}

// shellInstruction is the SHELL in effect for in: the last one before it
// in st, else in the stage st is built from. nil when none.
func shellInstruction(d *Document, st *Stage, in *Instruction) []string {
	for seen := 0; st != nil && seen <= len(d.Stages); seen++ {
		var sh []string
		found := false
		for _, i := range st.Instructions {
			if i == in {
				break
			}
			if c, ok := i.Cmd.(*instructions.ShellCommand); ok {
				sh, found = c.Shell, true
			}
		}
		if found {
			return sh
		}
		in = nil
		st = baseStage(d, st)
	}
	return nil
}

// baseStage is the earlier stage st is built FROM (the nearest of that
// name), or nil.
func baseStage(d *Document, st *Stage) *Stage {
	s, ok := st.From.Cmd.(*instructions.Stage)
	if !ok {
		return nil
	}
	for i := min(st.Index, len(d.Stages)) - 1; i >= 0; i-- {
		if ps, ok := d.Stages[i].From.Cmd.(*instructions.Stage); ok && ps.Name != "" && strings.EqualFold(ps.Name, s.BaseName) {
			return d.Stages[i]
		}
	}
	return nil
}

// shebangShell is the shellcheck dialect of a #! line: sh, bash, dash or
// ksh; "" for other interpreters.
func shebangShell(line string) string {
	f := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(f) == 0 {
		return ""
	}
	name := path.Base(strings.ReplaceAll(f[0], `\`, "/"))
	if name == "env" && len(f) > 1 {
		name = path.Base(f[1])
	}
	switch strings.TrimSuffix(strings.ToLower(name), ".exe") {
	case "sh", "ash", "busybox", "posh", "yash":
		return "sh"
	case "bash":
		return "bash"
	case "dash":
		return "dash"
	case "ksh", "mksh", "ksh93", "pdksh":
		return "ksh"
	}
	return ""
}
