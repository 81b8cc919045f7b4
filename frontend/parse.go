package frontend

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Dockerfile is a parsed Dockerfile: its stages with their typed, still
// unexpanded instructions, and the ARGs declared before the first FROM.
type Dockerfile struct {
	File     string // name used in error messages, e.g. "Dockerfile"
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	Escape   rune   // escape token from the "# escape=" directive
	Syntax   string // value of a "# syntax=" directive, if any; strata ignores it
	Warnings []string

	ast *parser.Node // for fresh commands in each plan (see Plan)
}

// Parse parses data as a Dockerfile named file. Errors are *Error values
// that carry the line of the offending instruction.
func Parse(file string, data []byte) (*Dockerfile, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: file, Err: errors.New("the Dockerfile is empty")}
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, directiveLine(wrapError(file, nil, err))
	}
	df := &Dockerfile{File: file, Escape: res.EscapeToken}
	for _, w := range res.Warnings {
		msg := w.Short
		if w.Location != nil {
			msg = fmt.Sprintf("%s:%d: %s", file, w.Location.Start.Line, w.Short)
		}
		df.Warnings = append(df.Warnings, msg)
	}
	if syntax, _, _, ok := parser.DetectSyntax(data); ok {
		df.Syntax = syntax
	}
	stages, metaArgs, err := instructions.Parse(res.AST, quietLinter())
	if err != nil {
		return nil, wrapError(file, nil, err)
	}
	if len(stages) == 0 {
		line := 0
		if len(res.AST.Children) > 0 {
			line = res.AST.Children[0].StartLine
		}
		return nil, &Error{File: file, Line: line, Err: errors.New("no FROM instruction: a Dockerfile must start a stage with FROM")}
	}
	df.Stages, df.MetaArgs, df.ast = stages, metaArgs, res.AST
	return df, nil
}

// Lex returns the word expander for this Dockerfile's escape token.
func (d *Dockerfile) Lex() *shell.Lex { return shell.NewLex(d.Escape) }

// ParseTrigger parses one ONBUILD trigger expression (as stored in an image
// config) into a command. loc is where the trigger runs: the child's FROM.
func ParseTrigger(file string, loc []parser.Range, trigger string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(trigger))
	if err != nil {
		return nil, Errorf(file, loc, "ONBUILD trigger %q: %v", trigger, err)
	}
	if len(res.AST.Children) != 1 {
		return nil, Errorf(file, loc, "ONBUILD trigger %q must be a single instruction", trigger)
	}
	node := res.AST.Children[0]
	node.StartLine, node.EndLine = firstLine(loc), firstLine(loc)
	v, err := instructions.ParseInstructionWithLinter(node, quietLinter())
	if err != nil {
		return nil, Errorf(file, loc, "ONBUILD trigger %q: %v", trigger, err)
	}
	cmd, ok := v.(instructions.Command)
	if !ok {
		return nil, Errorf(file, loc, "ONBUILD trigger %q: FROM isn't allowed as an ONBUILD trigger", trigger)
	}
	switch cmd.(type) {
	case *instructions.OnbuildCommand:
		return nil, Errorf(file, loc, "ONBUILD trigger %q: chaining ONBUILD via ONBUILD ONBUILD isn't allowed", trigger)
	case *instructions.MaintainerCommand:
		return nil, Errorf(file, loc, "ONBUILD trigger %q: MAINTAINER isn't allowed as an ONBUILD trigger", trigger)
	}
	return cmd, nil
}

// directiveLine corrects the line of an error in a parser directive (a
// bad "# escape=" value, a directive given twice): BuildKit's parser
// reports it at the line before (0 for the first line).
func directiveLine(err error) error {
	var fe *Error
	if errors.As(err, &fe) && fe.Err != nil {
		msg := fe.Err.Error()
		if strings.HasPrefix(msg, "invalid escape token") || strings.HasSuffix(msg, "parser directive can be used") {
			fe.Line++
		}
	}
	return err
}

// quietLinter is the linter given to BuildKit's instruction parser: one
// that reports nothing (strata lint has its own). With none (nil), a
// "# check=" comment above an instruction, which the parser reads as a
// linter setting, crashed it.
func quietLinter() *linter.Linter { return linter.New(&linter.Config{}) }
