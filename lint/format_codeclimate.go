package lint

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
)

// Code Climate's issue format (https://github.com/codeclimate/platform,
// spec/analyzers/SPEC.md), which GitLab's code quality report also reads.

type ccIssue struct {
	Type        string     `json:"type"`
	CheckName   string     `json:"check_name"`
	Description string     `json:"description"`
	Categories  []string   `json:"categories"`
	Location    ccLocation `json:"location"`
	Severity    string     `json:"severity"`
	Fingerprint string     `json:"fingerprint"`
}

type ccLocation struct {
	Path  string  `json:"path"`
	Lines ccLines `json:"lines"`
}

type ccLines struct {
	Begin int `json:"begin"`
	End   int `json:"end"`
}

// ccSeverity maps a severity to Code Climate's, as hadolint does.
func ccSeverity(s Severity) string {
	switch s {
	case Error:
		return "blocker"
	case Warning:
		return "major"
	case Info:
		return "info"
	}
	return "minor"
}

// ccIssues converts the findings. A fingerprint identifies a finding
// across runs: its file, code and message, and which of the identical
// ones it is; not its line, so that an edit above it keeps it the same
// issue.
func ccIssues(r Report) []ccIssue {
	issues := make([]ccIssue, 0, len(r.Findings))
	seen := map[string]int{}
	for _, f := range r.Findings {
		key := fmt.Sprintf("%s\x00%s\x00%s", f.File, f.Code, f.Message)
		n := seen[key]
		seen[key]++
		sum := sha1.Sum(fmt.Appendf(nil, "%s\x00%d", key, n))
		category := "Bug Risk"
		if f.Severity == Style {
			category = "Style"
		}
		line := max(f.Line, 1)
		issues = append(issues, ccIssue{
			Type:        "issue",
			CheckName:   f.Code,
			Description: f.Message,
			Categories:  []string{category},
			Location:    ccLocation{Path: f.File, Lines: ccLines{Begin: line, End: max(f.EndLine, line)}},
			Severity:    ccSeverity(f.Severity),
			Fingerprint: hex.EncodeToString(sum[:]),
		})
	}
	return issues
}

// writeCodeClimate writes a Code Climate engine's output: each issue as a
// JSON document followed by a NUL byte.
func writeCodeClimate(w io.Writer, r Report, _ FormatOptions) error {
	var b bytes.Buffer
	for _, issue := range ccIssues(r) {
		if err := encodeJSON(&b, issue, ""); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1) // the encoder's newline
		b.WriteByte(0)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeGitLabCodeClimate writes GitLab's code quality report: one JSON
// array of the issues.
func writeGitLabCodeClimate(w io.Writer, r Report, _ FormatOptions) error {
	return encodeJSON(w, ccIssues(r), "")
}
