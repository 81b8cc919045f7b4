package lint

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// needShellcheck skips a test when shellcheck is not installed, and fails
// it instead when CI is set.
func needShellcheck(t *testing.T) {
	t.Helper()
	if _, err := LookShellcheck(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skip(err)
	}
}

// scAt is a ShellCheck finding as the tests compare it: code, line and
// column.
type scAt struct {
	code      string
	line, col int
}

func (s scAt) String() string { return fmt.Sprintf("%s@%d:%d", s.code, s.line, s.col) }

// shellcheckFindings lints src with ShellCheck on and returns its
// findings with the given codes (all SC codes when none is given).
func shellcheckFindings(t *testing.T, src string, cfg *Config, codes ...string) []scAt {
	t.Helper()
	if cfg == nil {
		cfg = DefaultConfig()
	}
	cfg.Shellcheck = true
	var out []scAt
	for _, f := range Lint("Dockerfile", []byte(src), cfg) {
		if f.Code == "ShellCheck" {
			t.Fatalf("shellcheck failed: %s", f.Message)
		}
		if strings.HasPrefix(f.Code, "SC") && (len(codes) == 0 || slices.Contains(codes, f.Code)) {
			out = append(out, scAt{f.Code, f.Line, f.Column})
		}
	}
	return out
}

func TestShellcheckPositions(t *testing.T) {
	needShellcheck(t)
	for _, tc := range []struct {
		name, dockerfile string
		want             []scAt
	}{
		{
			name: "third line of a continued RUN",
			dockerfile: "FROM alpine\n" +
				"RUN apk add --no-cache curl && \\\n" +
				"    mkdir -p /opt && \\\n" +
				"    tar -xf $ARCHIVE -C /opt\n",
			want: []scAt{{"SC2086", 4, 13}},
		},
		{
			name: "continuation with a comment line and flags",
			dockerfile: "FROM alpine\n" +
				"RUN --mount=type=cache,target=/var/cache/apk \\\n" +
				"    # fetch the archive\n" +
				"    cd /tmp && \\\n" +
				"\tcp $SRC /dst\n",
			want: []scAt{{"SC2086", 5, 5}},
		},
		{
			name: "first line after the keyword",
			dockerfile: "FROM alpine\n" +
				"  RUN   echo $HOME && \\\n" +
				"  true\n",
			want: []scAt{{"SC2086", 2, 14}},
		},
		{
			name: "heredoc body",
			dockerfile: "FROM alpine\n" +
				"RUN <<EOF\n" +
				"set -e\n" +
				"cp $SRC /dst\n" +
				"EOF\n",
			want: []scAt{{"SC2086", 4, 4}},
		},
		{
			name: "heredoc with <<- and tabs",
			dockerfile: "FROM alpine\n" +
				"RUN <<-EOT\n" +
				"\t\tcp $SRC /dst\n" +
				"\tEOT\n",
			want: []scAt{{"SC2086", 3, 6}},
		},
		{
			name: "heredoc with a bash shebang",
			dockerfile: "FROM alpine\n" +
				"RUN <<EOF\n" +
				"#!/bin/bash\n" +
				"if [[ -f $F ]]; then cp $F /x; fi\n" +
				"EOF\n",
			want: []scAt{{"SC2086", 4, 25}},
		},
		{
			name: "command line with a heredoc",
			dockerfile: "FROM alpine\n" +
				"RUN cat > /etc/motd <<EOF && cp $SRC /x\n" +
				"hello $USER\n" +
				"EOF\n",
			want: []scAt{{"SC2086", 2, 33}},
		},
		{
			name: "ONBUILD RUN",
			dockerfile: "FROM alpine\n" +
				"ONBUILD RUN cp $SRC /dst\n",
			want: []scAt{{"SC2086", 2, 16}},
		},
		{
			name: "ONBUILD RUN continued",
			dockerfile: "FROM alpine\n" +
				"ONBUILD RUN mkdir /dst && \\\n" +
				"        cp $SRC /dst\n",
			want: []scAt{{"SC2086", 3, 12}},
		},
		{
			name: "two RUNs, one process",
			dockerfile: "FROM alpine\n" +
				"RUN echo $A\n" +
				"RUN true\n" +
				"RUN echo $B\n",
			want: []scAt{{"SC2086", 2, 10}, {"SC2086", 4, 10}},
		},
		{
			name: "wide characters count as one column",
			dockerfile: "FROM alpine\n" +
				"RUN echo héllo $A\n",
			want: []scAt{{"SC2086", 2, 16}},
		},
		{
			name: "escape directive",
			dockerfile: "# escape=`\n" +
				"FROM alpine\n" +
				"SHELL [\"/bin/sh\", \"-c\"]\n" +
				"RUN mkdir /x && `\n" +
				"    cp $SRC /x\n",
			want: []scAt{{"SC2086", 5, 8}},
		},
		{
			name: "CRLF line endings",
			dockerfile: "FROM alpine\r\n" +
				"RUN true && \\\r\n" +
				"    cp $SRC /x\r\n",
			want: []scAt{{"SC2086", 3, 8}},
		},
		{
			name: "second stage",
			dockerfile: "FROM alpine AS a\n" +
				"RUN true\n" +
				"FROM a\n" +
				"RUN cp $SRC /x\n",
			want: []scAt{{"SC2086", 4, 8}},
		},
		{
			name: "quoted is clean",
			dockerfile: "FROM alpine\n" +
				"RUN cp \"$SRC\" /x && \\\n" +
				"    echo done\n",
		},
		{
			name: "exec form is not a script",
			dockerfile: "FROM alpine\n" +
				"RUN [\"cp\", \"$SRC\", \"/x\"]\n",
		},
		{
			name: "python heredoc is skipped",
			dockerfile: "FROM python:3\n" +
				"RUN <<EOF\n" +
				"#!/usr/bin/env python3\n" +
				"print('$x' if 1 else [])\n" +
				"EOF\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shellcheckFindings(t, tc.dockerfile, nil, "SC2086")
			if !slices.Equal(got, tc.want) {
				t.Errorf("ShellCheck(%q) = %v, want %v", tc.dockerfile, got, tc.want)
			}
		})
	}
}

func TestShellcheckDeclaredNames(t *testing.T) {
	needShellcheck(t)
	for _, tc := range []struct {
		name, dockerfile string
		want             []scAt
	}{
		{
			name:       "undeclared",
			dockerfile: "FROM alpine\nRUN echo \"$name\"\n",
			want:       []scAt{{"SC2154", 2, 11}},
		},
		{
			name:       "ARG declares",
			dockerfile: "FROM alpine\nARG name\nRUN echo \"$name\"\n",
		},
		{
			name:       "ENV declares",
			dockerfile: "FROM alpine\nENV name=x\nRUN echo \"$name\"\n",
		},
		{
			name:       "declared in the base stage",
			dockerfile: "FROM alpine AS base\nARG name=x\nFROM base\nRUN echo \"$name\"\n",
		},
		{
			name:       "global ARG is not in the stage",
			dockerfile: "ARG name=x\nFROM alpine\nRUN echo \"$name\"\n",
			want:       []scAt{{"SC2154", 3, 11}},
		},
		{
			name:       "declared later does not count",
			dockerfile: "FROM alpine\nRUN echo \"$name\"\nARG name\n",
			want:       []scAt{{"SC2154", 2, 11}},
		},
		{
			name:       "proxy variables are passed to RUN",
			dockerfile: "FROM alpine\nRUN echo \"$http_proxy\"\n",
		},
		{
			name:       "ONBUILD RUN sees the stage",
			dockerfile: "FROM alpine\nARG name\nONBUILD RUN echo \"$name\"\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shellcheckFindings(t, tc.dockerfile, nil, "SC2154")
			if !slices.Equal(got, tc.want) {
				t.Errorf("ShellCheck(%q) = %v, want %v", tc.dockerfile, got, tc.want)
			}
		})
	}
}

func TestShellcheckShells(t *testing.T) {
	needShellcheck(t)
	bashism := "RUN if [[ -n \"$HOME\" ]]; then echo; fi\n"
	for _, tc := range []struct {
		name, dockerfile string
		want             []scAt
	}{
		{name: "sh by default", dockerfile: "FROM alpine\n" + bashism, want: []scAt{{"SC3010", 2, 8}}},
		{name: "SHELL bash", dockerfile: "FROM alpine\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n" + bashism},
		{name: "SHELL in base stage", dockerfile: "FROM alpine AS a\nSHELL [\"bash\", \"-c\"]\nFROM a\n" + bashism},
		{name: "SHELL after", dockerfile: "FROM alpine\n" + bashism + "SHELL [\"/bin/bash\", \"-c\"]\n", want: []scAt{{"SC3010", 2, 8}}},
		{name: "pragma bash", dockerfile: "# hadolint shell=bash\nFROM alpine\n" + bashism},
		{name: "pragma powershell skips", dockerfile: "# hadolint shell=powershell\nFROM alpine\nRUN echo $a $b\n"},
		{name: "SHELL pwsh skips", dockerfile: "FROM alpine\nSHELL [\"pwsh\", \"-Command\"]\nRUN echo $a\n"},
		{name: "windows escape skips", dockerfile: "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN echo %PATH% $a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shellcheckFindings(t, tc.dockerfile, nil)
			var keep []scAt
			for _, f := range got {
				if f.code == "SC3010" || f.code == "SC2086" || f.code == "SC2154" {
					keep = append(keep, f)
				}
			}
			if !slices.Equal(keep, tc.want) {
				t.Errorf("ShellCheck(%q) = %v, want %v", tc.dockerfile, keep, tc.want)
			}
		})
	}
}

func TestShellcheckFinding(t *testing.T) {
	needShellcheck(t)
	src := "FROM alpine\nRUN cp $SRC /x && false\n"
	var got *Finding
	for _, f := range Lint("Dockerfile", []byte(src), DefaultConfig()) {
		if f.Code == "SC2086" {
			got = &f
		}
	}
	if got == nil {
		t.Fatalf("Lint(%q) has no SC2086", src)
	}
	want := Finding{
		Code: "SC2086", Severity: Info, Message: "Double quote to prevent globbing and word splitting.",
		File: "Dockerfile", Line: 2, Column: 8, EndLine: 2, EndColumn: 12,
		URL: "https://www.shellcheck.net/wiki/SC2086",
	}
	if *got != want {
		t.Errorf("Lint(%q) SC2086 = %+v, want %+v", src, *got, want)
	}

	// Configuration applies to ShellCheck's codes as to any other.
	cfg := DefaultConfig()
	cfg.Override = map[string]Severity{"SC2086": Error}
	if fs := shellcheckFindingsSev(Lint("Dockerfile", []byte(src), cfg), "SC2086"); !slices.Equal(fs, []Severity{Error}) {
		t.Errorf("override SC2086=error: severities %v, want [error]", fs)
	}
	cfg = DefaultConfig()
	cfg.Ignored = []string{"SC2086"}
	if fs := shellcheckFindingsSev(Lint("Dockerfile", []byte(src), cfg), "SC2086"); len(fs) != 0 {
		t.Errorf("ignored SC2086 still reported: %v", fs)
	}
	cfg = DefaultConfig()
	cfg.Ignored = []string{"ShellCheck"}
	if fs := shellcheckFindingsSev(Lint("Dockerfile", []byte(src), cfg), "SC2086"); len(fs) != 0 {
		t.Errorf("ignoring ShellCheck still reports SC2086: %v", fs)
	}
	cfg = DefaultConfig()
	cfg.Shellcheck = false
	if fs := shellcheckFindingsSev(Lint("Dockerfile", []byte(src), cfg), "SC2086"); len(fs) != 0 {
		t.Errorf("Shellcheck off still reports SC2086: %v", fs)
	}
	ignored := "FROM alpine\n# hadolint ignore=SC2086\nRUN cp $SRC /x && false\n"
	if fs := shellcheckFindingsSev(Lint("Dockerfile", []byte(ignored), DefaultConfig()), "SC2086"); len(fs) != 0 {
		t.Errorf("# hadolint ignore=SC2086 still reports it: %v", fs)
	}
}

func shellcheckFindingsSev(fs []Finding, code string) []Severity {
	var out []Severity
	for _, f := range fs {
		if f.Code == code {
			out = append(out, f.Severity)
		}
	}
	return out
}

func TestShellcheckMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := LookShellcheck(); !errors.Is(err, ErrNoShellcheck) {
		t.Errorf("LookShellcheck() error = %v, want ErrNoShellcheck", err)
	}
	d := Parse("Dockerfile", []byte("FROM alpine\nRUN echo $a\n"))
	fs, err := RunShellcheck(d, DefaultConfig())
	if !errors.Is(err, ErrNoShellcheck) || len(fs) != 0 {
		t.Errorf("RunShellcheck = %v, %v; want no findings and ErrNoShellcheck", fs, err)
	}
	// Lint goes on without it, with no finding about it.
	for _, f := range Lint("Dockerfile", []byte("FROM alpine\nRUN echo $a\n"), DefaultConfig()) {
		if strings.HasPrefix(f.Code, "SC") || f.Code == "ShellCheck" {
			t.Errorf("without shellcheck: %v", f)
		}
	}
	// Nothing to check needs no shellcheck.
	if _, err := RunShellcheck(Parse("Dockerfile", []byte("FROM alpine\n")), DefaultConfig()); err != nil {
		t.Errorf("RunShellcheck without RUN: %v", err)
	}
}

func TestShellcheckBroken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/shellcheck", []byte("#!/bin/sh\necho oops >&2\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	scCache.Lock()
	clear(scCache.m)
	scCache.Unlock()
	var got []Finding
	for _, f := range Lint("Dockerfile", []byte("FROM alpine\nRUN echo $broken\n"), DefaultConfig()) {
		if f.Code == "ShellCheck" {
			got = append(got, f)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0].Message, "oops") {
		t.Errorf("a failing shellcheck gave %v, want one ShellCheck finding saying why", got)
	}
}

func TestShellcheckScriptMapping(t *testing.T) {
	// The mapping alone, without shellcheck: every character of the script
	// points at the same character of the Dockerfile.
	src := "FROM alpine\n" +
		"RUN --network=none \\\n" +
		"  # comment\n" +
		"\n" +
		"    echo one && \\\n" +
		"\techo two\n" +
		"ONBUILD RUN a \\\n" +
		"  b\n" +
		"RUN cat <<EOF && echo x\n" +
		"body\n" +
		"EOF\n"
	d := Parse("Dockerfile", []byte(src))
	checked := 0
	for _, in := range d.All {
		s := newScript(d, in, nil)
		if s == nil {
			continue
		}
		checked++
		body := strings.Split(s.text, "\n")[s.skip:]
		for l, ps := range s.pos {
			for c, r := range []rune(body[l]) {
				p := ps[c]
				line := []rune(d.Lines[p.line-1])
				if p.col < 1 || p.col > len(line) || line[p.col-1] != r {
					t.Errorf("%s: script %d:%d %q maps to %d:%d", in.Node.Original, l+1, c+1, r, p.line, p.col)
				}
			}
		}
	}
	if checked != 3 {
		t.Errorf("%d scripts mapped, want 3", checked)
	}
}
