package lint

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// withRules adds rules to the registry for the rest of the test. The test
// must not run in parallel with others (the registry is package state).
func withRules(t *testing.T, rules ...*Rule) {
	t.Helper()
	saved := ruleSets
	setRuleSets(append(slices.Clone(saved), rules))
	t.Cleanup(func() { setRuleSets(saved) })
}

// Test-only rules, named so that they cannot clash with real ones: a
// hadolint-style code on every RUN (at its first line, and at its last
// line when it spans several), a BuildKit-style check on every FROM, and a
// pair that reports the same thing on LABEL.
var (
	testRunRule = &Rule{
		Code: "DL9901", Severity: Warning, Message: "test: a RUN", Doc: "test rule",
		Check: func(d *Document, r *Reporter) {
			for _, in := range d.All {
				if in.Is("run") {
					r.Report(in)
					if in.EndLine > in.Line {
						r.ReportAt(in.EndLine, 3, "test: the last line of a RUN")
					}
				}
			}
		},
	}
	testFromCheck = &Rule{
		Code: "StrataTestFrom", Severity: Warning, Message: "test: a FROM", Doc: "test rule",
		Check: func(d *Document, r *Reporter) {
			for _, st := range d.Stages {
				r.Report(st.From)
			}
		},
	}
	testLabelRule = &Rule{
		Code: "DL9903", Severity: Info, Message: "test: a LABEL", Doc: "test rule",
		Check: reportEvery("label"),
	}
	testLabelCheck = &Rule{
		Code: "StrataTestLabel", Severity: Warning, Message: "test: a LABEL, BuildKit's way", Doc: "test rule",
		SameAs: "DL9903", Check: reportEvery("label"),
	}
	testExperimental = &Rule{
		Code: "StrataTestExperimental", Severity: Warning, Message: "test: experimental", Doc: "test rule",
		Experimental: true, Check: reportEvery("from"),
	}
)

func reportEvery(name string) func(*Document, *Reporter) {
	return func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if in.Is(name) {
				r.Report(in)
			}
		}
	}
}

// testFindings lints src with the test rules and lists the findings of
// test codes as "line:code:severity".
func testFindings(src string, cfg *Config) []string {
	var got []string
	for _, f := range Lint("Dockerfile", []byte(src), cfg) {
		if strings.HasPrefix(f.Code, "DL99") || strings.HasPrefix(f.Code, "StrataTest") || f.Code == "DL1000" || f.Code == "DL1001" {
			got = append(got, fmt.Sprintf("%d:%s:%s", f.Line, f.Code, f.Severity))
		}
	}
	return got
}

func TestPragmas(t *testing.T) {
	withRules(t, testRunRule, testFromCheck, testLabelRule, testLabelCheck, testExperimental)
	noPragmas := DefaultConfig()
	noPragmas.DisableIgnorePragma = true
	ignoreLabelCheck := DefaultConfig()
	ignoreLabelCheck.Ignored = []string{"StrataTestLabel"}
	overrideLabelCheck := DefaultConfig()
	overrideLabelCheck.Override = map[string]Severity{"StrataTestLabel": Error}
	overrideNone := DefaultConfig()
	overrideNone.Override = map[string]Severity{"DL9901": Ignore}
	cases := []struct {
		name string
		src  string
		cfg  *Config
		want []string
	}{
		{
			name: "no pragmas",
			src:  "FROM a\nRUN x\nLABEL a=b\n",
			want: []string{"1:StrataTestFrom:warning", "2:DL9901:warning", "3:DL9903:info"},
		},
		{
			name: "inline ignore silences the instruction below",
			src:  "FROM a\n# hadolint ignore=DL9901\nRUN x\nRUN y\n",
			want: []string{"1:StrataTestFrom:warning", "4:DL9901:warning"},
		},
		{
			name: "inline ignore covers every line of the instruction",
			src:  "FROM a\n# hadolint ignore=DL9901\nRUN x \\\n  && y \\\n  && z\nRUN w \\\n  v\n",
			want: []string{"1:StrataTestFrom:warning", "6:DL9901:warning", "7:DL9901:warning"},
		},
		{
			name: "inline ignore through a block of comments",
			src:  "FROM a\n# hadolint ignore=DL9901\n# why: we know\nRUN x\n",
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "a blank line ends the comment block",
			src:  "FROM a\n# hadolint ignore=DL9901\n\nRUN x\n",
			want: []string{"1:StrataTestFrom:warning", "4:DL9901:warning"},
		},
		{
			name: "two codes, spaces and a trailing comment",
			src:  "# hadolint ignore=StrataTestFrom , DL9901 # accepted, see #12\nFROM a\nRUN x\n",
			want: []string{"3:DL9901:warning"},
		},
		{
			name: "lower-case hadolint codes",
			src:  "FROM a\n# hadolint ignore=dl9901\nRUN x\n",
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "ignore of another code leaves the finding",
			src:  "FROM a\n# hadolint ignore=DL3008\nRUN x\n",
			want: []string{"1:StrataTestFrom:warning", "3:DL9901:warning"},
		},
		{
			name: "a malformed pragma is an ordinary comment",
			src:  "FROM a\n# hadolint ignore=DL9901 DL3008\nRUN x\n# hadolint ignore\nRUN y\n",
			want: []string{"1:StrataTestFrom:warning", "3:DL9901:warning", "5:DL9901:warning"},
		},
		{
			name: "a pragma inside an instruction is not a pragma",
			src:  "FROM a\nRUN <<EOF\n# hadolint ignore=DL9901\nEOF\nRUN y\n",
			want: []string{"1:StrataTestFrom:warning", "2:DL9901:warning", "4:DL9901:warning", "5:DL9901:warning"},
		},
		{
			name: "inline ignore on ONBUILD RUN",
			src:  "FROM a\n# hadolint ignore=DL9901\nONBUILD RUN x\n",
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "global ignore anywhere",
			src:  "FROM a\nRUN x\nRUN y\n# hadolint global ignore=DL9901,StrataTestFrom\n",
			want: nil,
		},
		{
			name: "disable-ignore-pragma makes ignores inert",
			src:  "# hadolint global ignore=StrataTestFrom\nFROM a\n# hadolint ignore=DL9901\nRUN x\n",
			cfg:  noPragmas,
			want: []string{"2:StrataTestFrom:warning", "4:DL9901:warning"},
		},
		{
			name: "check skip",
			src:  "# check=skip=StrataTestFrom\nFROM a\nRUN x\n",
			want: []string{"3:DL9901:warning"},
		},
		{
			name: "check skip=all skips BuildKit checks, not hadolint rules",
			src:  "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\nRUN x\n",
			want: []string{"4:DL9901:warning"},
		},
		{
			name: "check skip made inert by disable-ignore-pragma",
			src:  "# check=skip=all\nFROM a\n",
			cfg:  noPragmas,
			want: []string{"2:StrataTestFrom:warning"},
		},
		{
			name: "check error=true makes the checks errors",
			src:  "# check=error=true\nFROM a\nRUN x\n",
			want: []string{"2:StrataTestFrom:error", "3:DL9901:warning"},
		},
		{
			name: "check error=true under disable-ignore-pragma",
			src:  "# check=skip=StrataTestFrom;error=true\nFROM a\n",
			cfg:  noPragmas,
			want: []string{"2:StrataTestFrom:error"},
		},
		{
			name: "check below an instruction is not a directive",
			src:  "FROM a\n# check=skip=all\n",
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "check experimental turns an experimental check on",
			src:  "# check=experimental=StrataTestExperimental\nFROM a\n",
			want: []string{"2:StrataTestExperimental:warning", "2:StrataTestFrom:warning"},
		},
		{
			name: "invalid check directive",
			src:  "# check=skip\nFROM a\n",
			want: []string{"1:DL1000:error", "2:StrataTestFrom:warning"},
		},
		{
			name: "override to ignore turns a rule off",
			src:  "FROM a\nRUN x\n",
			cfg:  overrideNone,
			want: []string{"1:StrataTestFrom:warning"},
		},
		// Rules that are the same (SameAs): one finding, under the code
		// SameAs names; silencing either code silences it.
		{
			name: "same-as pair reports once",
			src:  "FROM a\nLABEL a=b\n",
			want: []string{"1:StrataTestFrom:warning", "2:DL9903:info"},
		},
		{
			name: "same-as: inline ignore of the dropped code",
			src:  "FROM a\n# hadolint ignore=StrataTestLabel\nLABEL a=b\n",
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "same-as: global ignore of the reporting code",
			src:  "# hadolint global ignore=DL9903\nFROM a\nLABEL a=b\n",
			want: []string{"2:StrataTestFrom:warning"},
		},
		{
			name: "same-as: check skip of the dropped code",
			src:  "# check=skip=StrataTestLabel\nFROM a\nLABEL a=b\n",
			want: []string{"2:StrataTestFrom:warning"},
		},
		{
			name: "same-as: check error=true reaches the reporting code",
			src:  "# check=error=true\nFROM a\nLABEL a=b\n",
			want: []string{"2:StrataTestFrom:error", "3:DL9903:error"},
		},
		{
			name: "same-as: configuration ignores the dropped code",
			src:  "FROM a\nLABEL a=b\n",
			cfg:  ignoreLabelCheck,
			want: []string{"1:StrataTestFrom:warning"},
		},
		{
			name: "same-as: override of the dropped code",
			src:  "FROM a\nLABEL a=b\n",
			cfg:  overrideLabelCheck,
			want: []string{"1:StrataTestFrom:warning", "2:DL9903:error"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := testFindings(tc.src, tc.cfg)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Lint(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestSameAsRuleIsDropped(t *testing.T) {
	withRules(t, testLabelRule, testLabelCheck)
	for _, f := range Lint("Dockerfile", []byte("FROM a\nLABEL a=b\nLABEL c=d\n"), nil) {
		if f.Code == "StrataTestLabel" {
			t.Errorf("the SameAs rule reported %v; its partner DL9903 should have, alone", f)
		}
	}
	// Without its partner, a SameAs rule reports under its own code.
	saved := ruleSets
	setRuleSets([][]*Rule{{testLabelCheck}})
	defer setRuleSets(saved)
	got := testFindings("FROM a\nLABEL a=b\n", nil)
	if want := []string{"2:StrataTestLabel:warning"}; !slices.Equal(got, want) {
		t.Errorf("lone SameAs rule: got %q, want %q", got, want)
	}
}

func TestShellPragma(t *testing.T) {
	cases := []struct {
		src      string
		shell    string
		nonPOSIX bool
	}{
		{"FROM a\nRUN x\n", "", false},
		{"FROM mcr.microsoft.com/windows/servercore\n# hadolint shell=powershell\nRUN Get-Process\n", "powershell", true},
		{"# hadolint shell=pwsh # PowerShell Core\nFROM a\n", "pwsh", true},
		{"# hadolint shell=cmd.exe\nFROM a\n", "cmd.exe", true},
		{"# hadolint shell=bash\nFROM a\n", "bash", false},
		{"# hadolint shell=/bin/sh\nFROM a\n", "/bin/sh", false},
		{"# hadolint shell = zsh\nFROM a\n", "zsh", false},
		{"FROM a\nRUN <<EOF\n# hadolint shell=powershell\nEOF\n", "", false},
	}
	for _, tc := range cases {
		d := Parse("Dockerfile", []byte(tc.src))
		if got := d.ShellPragma(); got != tc.shell {
			t.Errorf("ShellPragma(%q) = %q, want %q", tc.src, got, tc.shell)
		}
		if got := d.NonPOSIXShell(); got != tc.nonPOSIX {
			t.Errorf("NonPOSIXShell(%q) = %v, want %v", tc.src, got, tc.nonPOSIX)
		}
		// Rules see the same through Check.
		Check(d, nil)
		if got := d.NonPOSIXShell(); got != tc.nonPOSIX {
			t.Errorf("NonPOSIXShell(%q) in Check = %v, want %v", tc.src, got, tc.nonPOSIX)
		}
	}
}

func TestParseHadolintPragma(t *testing.T) {
	cases := []struct {
		comment, kind, value string
		ok                   bool
	}{
		{" hadolint ignore=DL3008", "ignore", "DL3008", true},
		{"hadolint ignore=DL3008,SC2086", "ignore", "DL3008,SC2086", true},
		{" hadolint  ignore = DL3008 , sc2086 # reason", "ignore", "DL3008,SC2086", true},
		{" hadolint global ignore=DL3059", "global", "DL3059", true},
		{" hadolint ignore=StageNameCasing", "ignore", "StageNameCasing", true},
		{" hadolint shell=powershell", "shell", "powershell", true},
		{" hadolint global shell=powershell", "", "", false},
		{" hadolint ignore=", "", "", false},
		{" hadolint ignore=DL3008,", "", "", false},
		{" hadolint ignore=DL 3008", "", "", false},
		{" hadolintignore=DL3008", "", "", false},
		{" hadolint", "", "", false},
		{" just a comment", "", "", false},
	}
	for _, tc := range cases {
		kind, value, ok := parseHadolintPragma(tc.comment)
		if kind != tc.kind || value != tc.value || ok != tc.ok {
			t.Errorf("parseHadolintPragma(%q) = %q, %q, %v, want %q, %q, %v", tc.comment, kind, value, ok, tc.kind, tc.value, tc.ok)
		}
	}
}
