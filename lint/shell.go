package lint

import (
	"errors"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

func asLocationError(err error, le **parser.LocationError) bool { return errors.As(err, le) }

// Script returns the shell script a shell-form RUN (or ONBUILD RUN) runs,
// as BuildKit builds it: the command line; for `RUN <<EOF` the heredoc
// body; for a command line with heredocs (`RUN python3 <<EOF`, `RUN cat
// >f <<EOF`) the command line with its heredocs, so their bodies stay data.
// ok is false for exec form, other instructions and a `RUN <<EOF` body with
// a shebang that is not a POSIX shell's.
func (in *Instruction) Script() (script string, ok bool) {
	run, isRun := in.Cmd.(*instructions.RunCommand)
	if !isRun && in.Trigger != nil {
		return in.Trigger.Script()
	}
	if !isRun || !run.PrependShell {
		return "", false
	}
	if len(run.Files) > 0 && len(run.CmdLine) == 1 {
		if parser.MustParseHeredoc(run.CmdLine[0]) != nil {
			body := run.Files[0].Data
			return body, !strings.HasPrefix(body, "#!") || posixShebang(body)
		}
		var sb strings.Builder
		sb.WriteString(run.CmdLine[0])
		for _, f := range run.Files {
			sb.WriteString("\n" + f.Data + f.Name)
		}
		return sb.String(), true
	}
	return strings.Join(run.CmdLine, " "), true
}

// posixShebang reports whether a script's #! line names a POSIX shell.
func posixShebang(script string) bool {
	line, _, _ := strings.Cut(strings.TrimPrefix(script, "#!"), "\n")
	f := strings.Fields(line)
	if len(f) > 1 && path.Base(f[0]) == "env" {
		f = f[1:]
	}
	return len(f) > 0 && isPOSIXShellName(f[0])
}

// Shell parses the instruction's script (see Script) as bash. It returns
// nil, nil when there is no script.
func (in *Instruction) Shell() (*syntax.File, error) {
	if in.Trigger != nil {
		return in.Trigger.Shell()
	}
	in.shellOnce.Do(func() {
		script, ok := in.Script()
		if !ok {
			return
		}
		p := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true))
		in.shell, in.shellErr = p.Parse(strings.NewReader(script), "")
	})
	return in.shell, in.shellErr
}

// Command is one simple command in a RUN script, as rules see it: its name
// and arguments with quotes removed. A word with an expansion keeps the
// expansion's source text ("$HOME/bin").
type Command struct {
	Name string
	Args []string
	Call *syntax.CallExpr
}

// Commands lists the simple commands of the instruction's script in order,
// including those inside pipelines, lists, subshells and control flow.
// Assignments-only statements are skipped; `sudo`, `env`, `time`-style
// wrappers are kept as they are (rules that care look past them).
func (in *Instruction) Commands() []Command {
	f, err := in.Shell()
	if err != nil || f == nil {
		return nil
	}
	return commandsIn(f)
}

// commandsIn lists the simple commands of a parsed script (see Commands).
func commandsIn(f *syntax.File) []Command {
	var out []Command
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		words := make([]string, len(call.Args))
		for i, w := range call.Args {
			words[i] = WordText(w)
		}
		out = append(out, Command{Name: words[0], Args: words[1:], Call: call})
		return true
	})
	return out
}

// WordText is a shell word's value with quotes removed; expansions keep
// their source text.
func WordText(w *syntax.Word) string {
	var sb strings.Builder
	for _, part := range w.Parts {
		wordPart(&sb, part)
	}
	return sb.String()
}

func wordPart(sb *strings.Builder, part syntax.WordPart) {
	switch p := part.(type) {
	case *syntax.Lit:
		sb.WriteString(p.Value)
	case *syntax.SglQuoted:
		sb.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			wordPart(sb, q)
		}
	default:
		var b strings.Builder
		syntax.NewPrinter().Print(&b, part)
		sb.WriteString(b.String())
	}
}

// HasFlag reports whether args contain any of the flags. Short flags are
// also found inside combined groups ("-qy" has "-y").
func (c Command) HasFlag(flags ...string) bool {
	for _, a := range c.Args {
		if a == "--" {
			return false
		}
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
			if len(f) == 2 && f[0] == '-' && f[1] != '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a[1:], rune(f[1])) {
				return true
			}
		}
	}
	return false
}

// Positional returns the arguments that are not flags (after a "--" all
// are positional). It cannot know which flags take values; rules that care
// handle those.
func (c Command) Positional() []string {
	var out []string
	rest := false
	for _, a := range c.Args {
		switch {
		case rest:
			out = append(out, a)
		case a == "--":
			rest = true
		case strings.HasPrefix(a, "-") && a != "-":
		default:
			out = append(out, a)
		}
	}
	return out
}
