package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// ruleCase is one row of a rule's table: a Dockerfile and the lines where
// the rule must fire (nil: it must stay quiet).
type ruleCase struct {
	name       string
	dockerfile string
	want       []int
	config     *Config // nil: DefaultConfig
}

// runRuleCases lints each case and compares the lines where code fired.
func runRuleCases(t *testing.T, code string, cases []ruleCase) {
	t.Helper()
	rule, ok := RuleByCode(code)
	if !ok {
		t.Fatalf("no rule %s", code)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.config
			if cfg == nil {
				cfg = DefaultConfig()
				cfg.Experimental = true
				// A rule is tested alone, without the rule it overlaps
				// taking its findings (see TestOverlapsGiveOneFinding).
				if rule.Overlaps != "" {
					cfg.Ignored = append(cfg.Ignored, rule.Overlaps)
				}
			}
			var got []int
			var msgs []string
			for _, f := range Lint("Dockerfile", []byte(tc.dockerfile), cfg) {
				if f.Code == code {
					got = append(got, f.Line)
					msgs = append(msgs, fmt.Sprintf("%d: %s", f.Line, f.Message))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s fired on lines %v, want %v\nDockerfile:\n%s\nfindings:\n%s", code, got, tc.want, numbered(tc.dockerfile), strings.Join(msgs, "\n"))
			}
		})
	}
}

func numbered(s string) string {
	var sb strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&sb, "%3d  %s\n", i+1, l)
	}
	return sb.String()
}

func TestRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.Code] {
			t.Errorf("rule %s is registered twice", r.Code)
		}
		seen[r.Code] = true
		if r.Message == "" || r.Doc == "" || r.Check == nil {
			t.Errorf("rule %s lacks a message, doc or check", r.Code)
		}
		if r.SameAs != "" {
			if _, ok := RuleByCode(r.SameAs); !ok {
				t.Errorf("rule %s is SameAs unknown rule %s", r.Code, r.SameAs)
			}
		}
	}
}

func TestParseNeverFails(t *testing.T) {
	for _, src := range []string{"", "FROM", "RUN x\n", "FROM a\nRUNN x\n", "FROM a\nRUN <<EOF\n", "FROM a\nONBUILD ONBUILD RUN x\n", "\x00\xff"} {
		d := Parse("Dockerfile", []byte(src))
		_ = Check(d, nil)
	}
}

// TestOverlapsGiveOneFinding: where a BuildKit check and the hadolint rule
// it overlaps fire on the same line, one finding remains (hadolint's); where
// only one fires, it stays.
func TestOverlapsGiveOneFinding(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Shellcheck = false
	codes := func(src string) map[string][]int {
		out := map[string][]int{}
		for _, f := range Lint("Dockerfile", []byte(src), cfg) {
			out[f.Code] = append(out[f.Code], f.Line)
		}
		return out
	}
	got := codes("FROM --platform=linux/arm64 alpine:3.20 AS build\nFROM alpine:3.20\nARG GITHUB_TOKEN\n")
	if len(got["FromPlatformFlagConstDisallowed"]) != 0 || len(got["DL3029"]) != 1 {
		t.Errorf("constant --platform: %v, want only DL3029", got)
	}
	for _, r := range Rules() {
		if r.Overlaps == "" {
			continue
		}
		if _, ok := RuleByCode(r.Overlaps); !ok {
			t.Errorf("%s overlaps unknown rule %s", r.Code, r.Overlaps)
		}
	}
	cfg.Ignored = []string{"DL3029"}
	if got := codes("FROM --platform=linux/arm64 alpine:3.20 AS build\n"); len(got["FromPlatformFlagConstDisallowed"]) != 1 {
		t.Errorf("with DL3029 ignored, BuildKit's check must report: %v", got)
	}
}
