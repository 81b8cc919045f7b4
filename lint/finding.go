package lint

import (
	"fmt"
	"strings"
)

// Severity is how bad a finding is. The order is hadolint's: Error is the
// worst, Style the mildest; Ignore turns a rule off.
type Severity int

const (
	Error Severity = iota
	Warning
	Info
	Style
	Ignore
)

var severityNames = [...]string{"error", "warning", "info", "style", "ignore"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads a severity as hadolint spells it ("none" is Ignore).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	case "style":
		return Style, nil
	case "ignore", "none":
		return Ignore, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info, style or none)", s)
}

// AtLeast reports whether s is as bad as t or worse.
func (s Severity) AtLeast(t Severity) bool { return s <= t }

// Finding is one problem in one file.
type Finding struct {
	Code     string // "DL3008", "StageNameCasing", "SC2086", "DL1000" for syntax errors
	Severity Severity
	Message  string
	File     string
	// Line and Column are 1-based; Column 0 means the whole line.
	Line, Column       int
	EndLine, EndColumn int
	URL                string
	// Fix, when set, is a safe rewrite that removes the finding.
	Fix *Edit
}

// Edit replaces source lines [Line, EndLine] (1-based, inclusive) with
// Text (which ends with a newline unless empty).
type Edit struct {
	Line, EndLine int
	Text          string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d %s %s: %s", f.File, f.Line, f.Code, f.Severity, f.Message)
}
