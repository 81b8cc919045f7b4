package lint

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moby/buildkit/util/suggest"
)

// Report is what a lint run found, the input of every output format:
// the files linted, in order (formats that list files list the clean ones
// too), and the findings, file by file in that order, each file's in line
// order.
type Report struct {
	Files    []string
	Findings []Finding
}

// FormatOptions tune an output format.
type FormatOptions struct {
	// Color writes ANSI colours (tty only). The caller decides: a terminal,
	// and neither NO_COLOR nor --no-color.
	Color bool
	// Version is strata's version, for formats that name the tool (sarif).
	Version string
}

// formatters are the output formats by name.
var formatters = map[string]func(w io.Writer, r Report, opts FormatOptions) error{
	"tty":                writeTTY,
	"json":               writeJSON,
	"sarif":              writeSARIF,
	"checkstyle":         writeCheckstyle,
	"gnu":                writeGNU,
	"codeclimate":        writeCodeClimate,
	"gitlab_codeclimate": writeGitLabCodeClimate,
	"junit":              writeJUnit,
}

// FormatNames are the output formats, as --format and the configuration
// spell them.
func FormatNames() []string {
	return []string{"tty", "json", "sarif", "checkstyle", "gnu", "codeclimate", "gitlab_codeclimate", "junit"}
}

// ParseFormat checks an output format name.
func ParseFormat(name string) (string, error) {
	if _, ok := formatters[name]; ok {
		return name, nil
	}
	switch name {
	case "codacy", "sonarqube":
		return "", fmt.Errorf("format %q is hadolint's, not supported by strata (want %s)", name, strings.Join(FormatNames(), ", "))
	}
	if s, ok := suggest.Search(name, FormatNames(), false); ok {
		return "", fmt.Errorf("unknown format %q (did you mean %s?)", name, s)
	}
	return "", fmt.Errorf("unknown format %q (want %s)", name, strings.Join(FormatNames(), ", "))
}

// Format writes r to w in the named format (see FormatNames): one
// document for all the files.
func Format(w io.Writer, format string, r Report, opts FormatOptions) error {
	name, err := ParseFormat(format)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := formatters[name](bw, r, opts); err != nil {
		return err
	}
	return bw.Flush()
}

// reportFiles are the report's files in order, with any file that only a
// finding names after them.
func reportFiles(r Report) []string {
	files := slices.Clone(r.Files)
	for _, f := range r.Findings {
		if !slices.Contains(files, f.File) {
			files = append(files, f.File)
		}
	}
	return files
}

// findingColumn is a finding's column for formats that always give one:
// a finding about the whole line is at its first column.
func findingColumn(f Finding) int { return max(f.Column, 1) }

// ANSI colours of the tty format.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
)

var severityColors = map[Severity]string{
	Error:   "\x1b[31m", // red
	Warning: "\x1b[33m", // yellow
	Info:    "\x1b[32m", // green
	Style:   "\x1b[36m", // cyan
}

// writeTTY writes hadolint's text format, a line a finding:
//
//	Dockerfile:12 DL3008 warning: Pin versions in apt get install.
func writeTTY(w io.Writer, r Report, opts FormatOptions) error {
	for _, f := range r.Findings {
		code, sev := f.Code, f.Severity.String()
		if opts.Color {
			code = ansiBold + code + ansiReset
			sev = severityColors[f.Severity] + sev + ansiReset
		}
		if _, err := fmt.Fprintf(w, "%s:%d %s %s: %s\n", f.File, f.Line, code, sev, messageLine(f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// messageLine keeps a message on one line in line-oriented formats.
func messageLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// writeGNU writes the GNU error format that editors jump through:
//
//	Dockerfile:12:1: DL3008 warning: Pin versions in apt get install.
func writeGNU(w io.Writer, r Report, _ FormatOptions) error {
	for _, f := range r.Findings {
		if _, err := fmt.Fprintf(w, "%s:%d:%d: %s %s: %s\n", f.File, f.Line, findingColumn(f), f.Code, f.Severity, messageLine(f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// jsonFinding is a finding in hadolint's JSON format.
type jsonFinding struct {
	Code    string `json:"code"`
	Column  int    `json:"column"`
	File    string `json:"file"`
	Level   string `json:"level"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// writeJSON writes hadolint's JSON format: one array of every finding.
func writeJSON(w io.Writer, r Report, _ FormatOptions) error {
	out := make([]jsonFinding, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, jsonFinding{Code: f.Code, Column: findingColumn(f), File: f.File, Level: f.Severity.String(), Line: f.Line, Message: f.Message})
	}
	return encodeJSON(w, out, "")
}

// encodeJSON writes v as JSON and a newline, without escaping <, > and &
// (messages quote Dockerfile text).
func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(v)
}
