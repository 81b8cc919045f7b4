package lint

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"mvdan.cc/sh/v3/syntax"
)

// Safe fixes. A rule attaches one to a finding with Reporter.ReportFix; it
// rewrites the lines of the instruction at fault and nothing else, and only
// when the rewrite means the same to BuildKit (each fix re-parses its output
// to make sure). Comments and other instructions keep their lines.
//
// Fixes available: instruction casing (ConsistentInstructionCasing) with
// the AS of FROM (FromAsCasing), MAINTAINER to an
// org.opencontainers.image.authors LABEL (MaintainerDeprecated; DL4000 may
// call maintainerFix), legacy `ENV k v` and `LABEL k v` to k=v
// (LegacyKeyValueFormat), JSON form for a CMD or ENTRYPOINT that is a plain
// list of words (JSONArgsRecommended; DL3025 may call jsonFormFix), and
// lower-case EXPOSE protocols (ExposeProtoCasing).

// ApplyFixes returns src with the fixes of findings applied. Fixes are
// applied from the bottom of the file up; a fix that overlaps one already
// applied is skipped (the same fix twice is applied once), so a second
// round may have more to do (see Fix). Line endings (LF or CRLF) are kept.
func ApplyFixes(src []byte, findings []Finding) []byte {
	var edits []Edit
	for _, f := range findings {
		if f.Fix != nil && f.Fix.Line >= 1 && f.Fix.EndLine >= f.Fix.Line && !slices.Contains(edits, *f.Fix) {
			edits = append(edits, *f.Fix)
		}
	}
	if len(edits) == 0 {
		return src
	}
	// Bottom-up; of two edits starting on the same line the wider first.
	slices.SortStableFunc(edits, func(a, b Edit) int {
		if a.Line != b.Line {
			return b.Line - a.Line
		}
		return b.EndLine - a.EndLine
	})
	lines := slices.Collect(strings.Lines(string(src)))
	applied := len(lines) + 1 // first line of the last applied edit
	for _, e := range edits {
		if e.EndLine >= applied || e.EndLine > len(lines) {
			continue
		}
		text := e.Text
		last := lines[e.EndLine-1]
		if strings.HasSuffix(lines[e.Line-1], "\r\n") {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		if !strings.HasSuffix(last, "\n") {
			text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
		}
		lines = slices.Replace(lines, e.Line-1, e.EndLine, text)
		applied = e.Line
	}
	return []byte(strings.Join(lines, ""))
}

// Fix lints src and applies the safe fixes, again until nothing changes
// (a fix can leave work for another: a lower-case `env k v` in an
// upper-case file needs two). It gives up after a few rounds.
func Fix(file string, src []byte, cfg *Config) []byte {
	for range 8 {
		out := ApplyFixes(src, Lint(file, src, cfg))
		if bytes.Equal(out, src) {
			break
		}
		src = out
	}
	return src
}

// continuation matches a line that continues on the next with the escape
// character, as BuildKit's parser does.
func continuation(escape rune) *regexp.Regexp {
	e := regexp.QuoteMeta(string(escape))
	return regexp.MustCompile(`([^` + e + `])` + e + `[ \t]*$|^` + e + `[ \t]*$`)
}

// commandEnd is the last line of in's command, before any heredoc bodies:
// the line where its continuation lines stop.
func commandEnd(d *Document, in *Instruction) int {
	cont := continuation(d.Escape)
	end := in.Line
	for end <= len(d.Lines) && end < in.EndLine {
		line := d.Lines[end-1]
		if end > in.Line && isCommentLine(line) {
			end++
			continue
		}
		if end > in.Line && strings.TrimSpace(line) == "" {
			end++ // an empty continuation line
			continue
		}
		if !cont.MatchString(line) {
			break
		}
		end++
	}
	return min(end, in.EndLine)
}

func isCommentLine(line string) bool { return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") }

// plainLines reports whether the lines of in's command, after its first,
// hold no comment and no empty line, so that collapsing them into one
// loses nothing.
func plainLines(d *Document, in *Instruction) bool {
	if in.Line < 1 || in.EndLine > len(d.Lines) {
		return false
	}
	for l := in.Line + 1; l <= in.EndLine; l++ {
		if isCommentLine(d.Lines[l-1]) || strings.TrimSpace(d.Lines[l-1]) == "" {
			return false
		}
	}
	return true
}

func indentOf(line string) string { return line[:len(line)-len(strings.TrimLeft(line, " \t"))] }

// caseLike writes word in upper case when upper is set, else lower case.
func caseLike(word string, upper bool) string {
	if upper {
		return strings.ToUpper(word)
	}
	return strings.ToLower(word)
}

// lineToken is a word of a source line, with its byte offset.
type lineToken struct {
	line, col int // 1-based line, 0-based byte offset
	text      string
}

// commandTokens splits in's command lines into words, leaving out comment
// lines and line-continuation characters.
func commandTokens(d *Document, in *Instruction) []lineToken {
	var out []lineToken
	esc := string(d.Escape)
	for l := in.Line; l <= commandEnd(d, in); l++ {
		line := d.Lines[l-1]
		if l > in.Line && isCommentLine(line) {
			continue
		}
		for i := 0; i < len(line); {
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			if j > i {
				w := line[i:j]
				if j == len(strings.TrimRight(line, " \t")) && strings.HasSuffix(w, esc) {
					w = strings.TrimSuffix(w, esc)
				}
				if w != "" {
					out = append(out, lineToken{line: l, col: i, text: w})
				}
			}
			i = j
		}
	}
	return out
}

// casingFix writes in's keyword in upper or lower case, and for FROM the
// AS too.
func casingFix(d *Document, in *Instruction, upper bool) (Edit, bool) {
	toks := commandTokens(d, in)
	if len(toks) == 0 || !strings.EqualFold(toks[0].text, in.Node.Value) {
		return Edit{}, false
	}
	change := []lineToken{toks[0]}
	if s, ok := in.Cmd.(*instructions.Stage); ok && s.Name != "" && len(toks) >= 3 {
		as := toks[len(toks)-2]
		if !strings.EqualFold(as.text, "as") {
			return Edit{}, false
		}
		change = append(change, as)
	}
	lines := slices.Clone(d.Lines[in.Line-1 : change[len(change)-1].line])
	for _, t := range change {
		l := lines[t.line-in.Line]
		lines[t.line-in.Line] = l[:t.col] + caseLike(t.text, upper) + l[t.col+len(t.text):]
	}
	return Edit{Line: in.Line, EndLine: change[len(change)-1].line, Text: strings.Join(lines, "\n") + "\n"}, true
}

// sentinelEnv resolves every variable to a marker of its name, so that two
// words compare equal after expansion only when they use the same
// variables in the same places.
type sentinelEnv struct{}

func (sentinelEnv) Get(k string) (string, bool) { return "\x00" + k + "\x00", true }
func (sentinelEnv) Keys() []string              { return nil }

// reparse parses text as a one-instruction Dockerfile with d's escape
// character.
func reparse(d *Document, text string) (any, bool) {
	if d.Escape != '\\' {
		text = "# escape=" + string(d.Escape) + "\n" + text
	}
	res, err := parser.Parse(strings.NewReader(text))
	if err != nil || len(res.AST.Children) != 1 {
		return nil, false
	}
	// BuildKit's parser needs a linter when the text carries a `# check=`
	// comment (it panics without one); this one reports nothing.
	cmd, err := instructions.ParseInstructionWithLinter(res.AST.Children[0], linter.New(&linter.Config{}))
	return cmd, err == nil
}

// expandWord is a word as BuildKit expands it in ENV or LABEL.
func expandWord(d *Document, word string) (string, bool) {
	s, _, err := shell.NewLex(d.Escape).ProcessWord(word, sentinelEnv{})
	return s, err == nil
}

// quoteValue quotes s for a key=value pair so that it expands to s itself:
// double quotes, with the escape character before ", $ and itself.
func quoteValue(s string, escape rune) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '$' || r == escape {
			b.WriteRune(escape)
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// maintainerFix rewrites `MAINTAINER name` as
// `LABEL org.opencontainers.image.authors="name"`, keeping the keyword's
// case and the indentation. It is offered to DL4000 as well.
func maintainerFix(d *Document, in *Instruction) (Edit, bool) {
	m, ok := in.Cmd.(*instructions.MaintainerCommand)
	if !ok || !plainLines(d, in) {
		return Edit{}, false
	}
	kw := caseLike("label", in.Node.Value != strings.ToLower(in.Node.Value))
	text := kw + " org.opencontainers.image.authors=" + quoteValue(m.Maintainer, d.Escape)
	cmd, ok := reparse(d, text)
	l, isLabel := cmd.(*instructions.LabelCommand)
	if !ok || !isLabel || len(l.Labels) != 1 {
		return Edit{}, false
	}
	if v, ok := expandWord(d, l.Labels[0].Value); !ok || v != m.Maintainer {
		return Edit{}, false
	}
	return Edit{Line: in.Line, EndLine: in.EndLine, Text: indentOf(d.Lines[in.Line-1]) + text + "\n"}, true
}

// keyValueFix rewrites a legacy `ENV key value` (or LABEL) as
// `ENV key=value`, quoting the value when it has spaces, provided the new
// form gives the same key and the same value.
func keyValueFix(d *Document, in *Instruction) (Edit, bool) {
	var pairs instructions.KeyValuePairs
	switch c := in.Cmd.(type) {
	case *instructions.EnvCommand:
		pairs = c.Env
	case *instructions.LabelCommand:
		pairs = c.Labels
	}
	if len(pairs) != 1 || !pairs[0].NoDelim || !plainLines(d, in) {
		return Edit{}, false
	}
	key, value := pairs[0].Key, pairs[0].Value
	want, ok := expandWord(d, value)
	if !ok {
		return Edit{}, false
	}
	candidates := []string{value}
	if !strings.ContainsAny(value, `"`+string(d.Escape)) {
		candidates = append(candidates, `"`+value+`"`)
	}
	for _, v := range candidates {
		text := in.Node.Value + " " + key + "=" + v
		cmd, ok := reparse(d, text)
		if !ok {
			continue
		}
		var got instructions.KeyValuePairs
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			got = c.Env
		case *instructions.LabelCommand:
			got = c.Labels
		}
		if len(got) != 1 || got[0].NoDelim || got[0].Key != key {
			continue
		}
		if v, ok := expandWord(d, got[0].Value); ok && v == want {
			return Edit{Line: in.Line, EndLine: in.EndLine, Text: indentOf(d.Lines[in.Line-1]) + text + "\n"}, true
		}
	}
	return Edit{}, false
}

// jsonFormFix rewrites a shell-form CMD or ENTRYPOINT as JSON when its
// command is a plain list of words: no variables, globs, redirections,
// operators, escapes or comments, which only a shell would give meaning
// to. An ENTRYPOINT is left alone when its stage has a CMD, which the
// shell form ignores and the JSON form would pass it as arguments. It is
// offered to DL3025 as well.
func jsonFormFix(d *Document, in *Instruction) (Edit, bool) {
	var line instructions.ShellDependantCmdLine
	switch c := in.Cmd.(type) {
	case *instructions.CmdCommand:
		line = c.ShellDependantCmdLine
	case *instructions.EntrypointCommand:
		line = c.ShellDependantCmdLine
		if in.Stage != nil {
			for _, other := range in.Stage.Instructions {
				if other.Is("cmd") {
					return Edit{}, false
				}
			}
		}
	default:
		return Edit{}, false
	}
	if !line.PrependShell || len(line.Files) > 0 || len(line.CmdLine) != 1 || !plainLines(d, in) {
		return Edit{}, false
	}
	words, ok := plainWords(line.CmdLine[0])
	if !ok || len(words) == 0 || shellOnly(words[0]) || strings.Contains(words[0], "=") || stageHasShell(in) {
		// Builtins (exec, ulimit, cd...) and assignments need the shell,
		// and a custom SHELL (bash -l...) changes how the command runs:
		// exec form would change what the image does.
		return Edit{}, false
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(words); err != nil {
		return Edit{}, false
	}
	list := strings.ReplaceAll(strings.TrimSpace(b.String()), `","`, `", "`)
	text := in.Node.Value + " " + list
	cmd, ok := reparse(d, text)
	if !ok {
		return Edit{}, false
	}
	var got instructions.ShellDependantCmdLine
	switch c := cmd.(type) {
	case *instructions.CmdCommand:
		got = c.ShellDependantCmdLine
	case *instructions.EntrypointCommand:
		got = c.ShellDependantCmdLine
	}
	if got.PrependShell || !slices.Equal(got.CmdLine, words) {
		return Edit{}, false
	}
	return Edit{Line: in.Line, EndLine: in.EndLine, Text: indentOf(d.Lines[in.Line-1]) + text + "\n"}, true
}

// plainWords splits a shell command into its words when it is one simple
// command made only of literal words.
func plainWords(script string) ([]string, bool) {
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(script), "")
	if err != nil || len(f.Stmts) != 1 || len(f.Last) > 0 {
		return nil, false
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 || len(st.Comments) > 0 || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return nil, false
	}
	var words []string
	for _, w := range call.Args {
		var b strings.Builder
		for _, part := range w.Parts {
			switch p := part.(type) {
			case *syntax.Lit:
				if strings.ContainsAny(p.Value, "*?[]{}~\\$`") {
					return nil, false
				}
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				if p.Dollar {
					return nil, false
				}
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				if p.Dollar {
					return nil, false
				}
				for _, q := range p.Parts {
					lit, ok := q.(*syntax.Lit)
					if !ok || strings.ContainsAny(lit.Value, "\\$`") {
						return nil, false
					}
					b.WriteString(lit.Value)
				}
			default:
				return nil, false
			}
		}
		words = append(words, b.String())
	}
	return words, true
}

var exposeProto = regexp.MustCompile(`(?i)/(?:tcp|udp|sctp)\b`)

// exposeFix writes the protocols of an EXPOSE in lower case.
func exposeFix(d *Document, in *Instruction) (Edit, bool) {
	if _, ok := in.Cmd.(*instructions.ExposeCommand); !ok || in.EndLine > len(d.Lines) {
		return Edit{}, false
	}
	lines := slices.Clone(d.Lines[in.Line-1 : in.EndLine])
	for i, l := range lines {
		if i > 0 && isCommentLine(l) {
			continue
		}
		lines[i] = exposeProto.ReplaceAllStringFunc(l, strings.ToLower)
	}
	return Edit{Line: in.Line, EndLine: in.EndLine, Text: strings.Join(lines, "\n") + "\n"}, true
}

// shellOnly reports whether name is a shell builtin or keyword, which has
// no program to run in exec form.
func shellOnly(name string) bool {
	switch name {
	case "exec", "ulimit", "cd", "export", "set", "source", ".", "eval", "umask", "trap",
		"unset", "shift", "read", "wait", "alias", "if", "for", "while", "until", "case",
		"{", "(", "!", "[[", "function", "time", "command", "builtin", "declare", "local",
		"readonly", "typeset", "exit", "return", "break", "continue", "shopt", "hash", "type":
		return true
	}
	return false
}

// stageHasShell reports whether a SHELL instruction comes before in, in its
// stage or a stage it builds on.
func stageHasShell(in *Instruction) bool {
	if in.Stage == nil {
		return false
	}
	for _, other := range in.Stage.Instructions {
		if other == in {
			return false
		}
		if other.Is("shell") {
			return true
		}
	}
	return false
}
