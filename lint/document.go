package lint

import (
	"bytes"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"
)

// Document is a parsed Dockerfile.
type Document struct {
	File   string
	Source []byte
	Lines  []string // source lines without their newlines; Lines[0] is line 1
	Escape rune     // the escape token ('\\' or '`')
	// Root is BuildKit's AST; nil when the file does not parse.
	Root *parser.Node
	// ParseErr is why the file does not parse (then rules do not run).
	ParseErr error
	// ParseErrLine is the line of ParseErr, 0 if unknown.
	ParseErrLine int
	// ParserWarnings are what BuildKit's parser warned about (empty
	// continuation lines), with their lines.
	ParserWarnings []parser.Warning
	// BuildKitWarnings are the checks BuildKit's instruction parser ran
	// itself (MaintainerDeprecated, StageNameCasing, FromAsCasing,
	// InvalidDefinitionDescription).
	BuildKitWarnings []BuildKitWarning
	// MetaArgs are the ARG instructions before the first FROM.
	MetaArgs []*Instruction
	Stages   []*Stage
	// All is every instruction in file order, FROM included, ONBUILD
	// triggers not (see Instruction.Trigger).
	All []*Instruction

	config *Config
}

// BuildKitWarning is a check BuildKit reported while parsing.
type BuildKitWarning struct {
	Rule, Description, URL, Message string
	Line                            int
}

// Stage is a FROM and the instructions after it.
type Stage struct {
	Index int
	// Name is the stage name as written ("" if none); BuildKit compares
	// names case-insensitively.
	Name         string
	From         *Instruction
	Instructions []*Instruction // after FROM
}

// Instruction is one instruction of the file.
type Instruction struct {
	Node *parser.Node
	// Keyword is the instruction as written ("RUN", "run", "Run").
	Keyword string
	// Cmd is BuildKit's typed instruction (for FROM, *instructions.Stage);
	// nil when it does not parse, with ParseErr set.
	Cmd      any
	ParseErr error
	// Stage is the stage the instruction belongs to; nil for ARGs before
	// the first FROM.
	Stage *Stage
	// Line and EndLine are the 1-based lines the instruction spans.
	Line, EndLine int
	// Trigger is the instruction an ONBUILD carries, parsed.
	Trigger *Instruction
	// OnBuild marks an instruction that is an ONBUILD trigger.
	OnBuild bool

	shellOnce sync.Once
	shell     *syntax.File
	shellErr  error
}

// Name is the lower-case instruction name ("run").
func (in *Instruction) Name() string { return strings.ToLower(in.Node.Value) }

// Is reports whether the instruction is one of names (case-insensitive).
func (in *Instruction) Is(names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(in.Node.Value, n) {
			return true
		}
	}
	return false
}

// Flags are the instruction's --flags as written.
func (in *Instruction) Flags() []string { return in.Node.Flags }

// Args are the instruction's arguments as BuildKit split them.
func (in *Instruction) Args() []string {
	var args []string
	for n := in.Node.Next; n != nil; n = n.Next {
		args = append(args, n.Value)
	}
	return args
}

// IsJSON reports whether the arguments were written in JSON (exec) form.
func (in *Instruction) IsJSON() bool { return in.Node.Attributes["json"] }

// Parse parses src as the Dockerfile file. It never fails: a syntax error
// is recorded in ParseErr and in the instruction it concerns.
func Parse(file string, src []byte) *Document {
	d := &Document{File: file, Source: src, Escape: '\\'}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	d.Lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		d.ParseErr = err
		d.ParseErrLine = errorLine(err)
		return d
	}
	d.Root, d.Escape, d.ParserWarnings = res.AST, res.EscapeToken, res.Warnings
	lint := linter.New(&linter.Config{
		ExperimentalAll: true,
		Warn: func(rule, description, url, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			d.BuildKitWarnings = append(d.BuildKitWarnings, BuildKitWarning{Rule: rule, Description: description, URL: url, Message: msg, Line: line})
		},
	})
	var cur *Stage
	for _, node := range res.AST.Children {
		in := newInstruction(node, lint)
		if st, ok := in.Cmd.(*instructions.Stage); ok {
			cur = &Stage{Index: len(d.Stages), From: in, Name: stageName(node, st)}
			d.Stages = append(d.Stages, cur)
		} else if cur != nil {
			cur.Instructions = append(cur.Instructions, in)
		} else if in.Is("arg") {
			d.MetaArgs = append(d.MetaArgs, in)
		}
		in.Stage = cur
		if in.Trigger != nil {
			in.Trigger.Stage = cur
		}
		d.All = append(d.All, in)
	}
	return d
}

func newInstruction(node *parser.Node, lint *linter.Linter) *Instruction {
	in := &Instruction{Node: node, Line: node.StartLine, EndLine: node.EndLine}
	if f := strings.Fields(node.Original); len(f) > 0 {
		in.Keyword = f[0]
	}
	in.Cmd, in.ParseErr = instructions.ParseInstructionWithLinter(node, lint)
	if in.ParseErr != nil {
		in.Cmd = nil
	}
	if ob, ok := in.Cmd.(*instructions.OnbuildCommand); ok && ob != nil && in.ParseErr == nil {
		res, err := parser.Parse(strings.NewReader(ob.Expression))
		if err == nil && len(res.AST.Children) == 1 {
			tn := res.AST.Children[0]
			tn.StartLine, tn.EndLine = node.StartLine, node.EndLine
			in.Trigger = newInstruction(tn, nil)
			in.Trigger.OnBuild = true
		}
	}
	return in
}

// stageName is the name after AS as written.
func stageName(node *parser.Node, st *instructions.Stage) string {
	args := []string{}
	for n := node.Next; n != nil; n = n.Next {
		args = append(args, n.Value)
	}
	if len(args) == 3 && strings.EqualFold(args[1], "as") {
		return args[2]
	}
	return st.Name
}

func errorLine(err error) int {
	var le *parser.LocationError
	if asLocationError(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line
	}
	return 0
}
