package frontend

import (
	"errors"
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Error is a problem in a Dockerfile at a known line. It prints as
// "Dockerfile:12: message".
type Error struct {
	File string
	Line int // 1-based; 0 when the error has no line
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error for file at the first line of loc.
func Errorf(file string, loc []parser.Range, format string, args ...any) error {
	return &Error{File: file, Line: firstLine(loc), Err: fmt.Errorf(format, args...)}
}

// wrapError attaches file and line to err, taking the line from BuildKit's
// location errors when err carries one and from loc otherwise. The message
// is BuildKit's own text with its location wrapper removed.
func wrapError(file string, loc []parser.Range, err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	line := firstLine(loc)
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 {
		line = firstLine(le.Locations[0])
		err = le.Unwrap()
	}
	var ue *instructions.UnknownInstructionError
	if errors.As(err, &ue) && line == 0 {
		line = ue.Line
	}
	return &Error{File: file, Line: line, Err: err}
}

func firstLine(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}
