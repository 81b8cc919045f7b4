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
	if _, ok := RuleByCode(code); !ok {
		t.Fatalf("no rule %s", code)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.config
			if cfg == nil {
				cfg = DefaultConfig()
				cfg.Experimental = true
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
