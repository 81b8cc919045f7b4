package frontend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Fuzzing the front end: whatever the bytes, Parse, Plan and the
// expansion of every instruction (as the solver expands them) must not
// panic or hang, must fail only with an *Error that names the file (and a
// line inside it, for errors that come from the Dockerfile), and must give
// the same plan each time. The targets are
//
//	FuzzDockerfile    bytes as a Dockerfile, planned with a build arg, a target and a platform
//	FuzzHeredoc       a heredoc of each form (<<, <<-, quoted, several) around a fuzzed delimiter and body
//	FuzzExpand        a fuzzed ARG value and word used in ARG, FROM, ENV, LABEL, COPY, WORKDIR, EXPOSE
//	FuzzDockerignore  .dockerignore bytes and the paths matched against them
//
// Plain `go test` runs the seeds: every Dockerfile under testdata/ and
// the hand-written ones below. A bounded fuzzing run is
//
//	go test ./frontend -run '^$' -fuzz '^FuzzDockerfile$' -fuzztime 60s
//
// and a crasher the fuzzer finds lands in testdata/fuzz/<target>/: commit
// it with its fix, so that it stays a regression case.

// fuzzSlow is how long one input may take before it counts as a hang. It
// is generous so that a loaded CI machine (or -race) does not fail it; a
// super-linear case takes far longer.
const fuzzSlow = 5 * time.Second

// dockerfileSeeds are small Dockerfiles at the edges of the syntax.
var dockerfileSeeds = []string{
	"",
	"\n",
	"\ufeff",
	"\x00\xff\xfe",
	"FROM",
	"FROM scratch",
	"FROM scratch\r\nRUN x\r\n",
	"FROM a\rRUN b\r",
	"# just a comment\n",
	"RUN x\n",
	"ARG\nFROM ${\n",
	"ARG A=${B:-${C}}\nFROM ${A}\n",
	"ARG A\nFROM ${A:?A must be set}\n",
	"ARG A=\nFROM ${A:+x}\n",
	"FROM ${NOPE}\n",
	"FROM $\n",
	"FROM ${}\n",
	"FROM ${a\n",
	"FROM ${a:}\n",
	"FROM ${a/}\n",
	"FROM ${a//x}\n",
	"FROM a AS\n",
	"FROM a AS b c\n",
	"FROM a AS b\nFROM c AS B\n",
	"FROM a AS 1\nCOPY --from=1 / /\n",
	"FROM --platform= a\n",
	"FROM --platform=$BUILDPLATFORM a\n",
	"FROM --platform=${TARGETPLATFORM} a\n",
	"FROM --platform=linux/nope a\n",
	"FROM --platform=linux/arm/v9 a\n",
	"FROM --nope=x a\n",
	"FROM a\nCOPY --from=0 / /\n",
	"FROM a\nCOPY --from=-1 / /\n",
	"FROM a\nFROM b\nCOPY --from=99999999999999999999 / /\n",
	"FROM a AS x\nCOPY --from=X / /\n",
	"FROM a AS x\nFROM x\nCOPY --from=x / /\nRUN --mount=from=x,target=/m x\n",
	"FROM a\nRUN --mount=from=later,target=/m x\nFROM b AS later\n",
	"FROM a\nRUN --mount=type=cache,target= x\n",
	"FROM a\nRUN --mount= --network=bogus --security=x y\n",
	"FROM a\nRUN --mount=type=secret,id=x,env=NAME x\n",
	"FROM a\nCOPY --chmod=u+q --from= a b\n",
	"FROM a\nCOPY --chown=${U}:${G} a b\n",
	"FROM a\nCOPY --parents --exclude=*.md . /\n",
	"FROM a\nADD --checksum=sha256:x --unpack=true http://x/y /\n",
	"FROM a\nADD --keep-git-dir=true git@x:y /\n",
	"FROM a\nONBUILD\n",
	"FROM a\nONBUILD ONBUILD RUN x\n",
	"FROM a\nONBUILD FROM b\n",
	"FROM a\nRUN [\"unterminated\n",
	"FROM a\nRUN [\"a\", 1]\n",
	"FROM a\nCMD []\n",
	"FROM a\nENV\n",
	"FROM a\nENV a\n",
	"FROM a\nENV a=\"b\n",
	"FROM a\nENV a=b c=\"d e\" f='g' h=i\\ j\n",
	"FROM a\nLABEL =x\n",
	"FROM a\nLABEL \"a b\"=\"c d\" e=${F:-g}\n",
	"FROM a\nEXPOSE 80/tcp:99 -1 : ${P}\n",
	"FROM a\nHEALTHCHECK --interval=x CMD\n",
	"FROM a\nHEALTHCHECK --interval=1s --retries=-1 CMD x\n",
	"FROM a\nHEALTHCHECK NONE x\n",
	"FROM a\nSTOPSIGNAL ${S}\n",
	"FROM a\nSHELL [\"pwsh\"]\nRUN $x = 1\n",
	"FROM a\nSHELL pwsh\n",
	"FROM a\nUSER ${U:-nobody}:${G}\n",
	"FROM a\nVOLUME [\"\"]\n",
	"FROM a\nWORKDIR ${W}/sub\n",
	"FROM a\nMAINTAINER\n",
	"FROM a\nRUNN x\n",
	"FROM a\nRUN x \\\n",
	"FROM a\nRUN x \\\n\n\n",
	"FROM a\nRUN x \\\n# c\n",
	"# escape=`\nFROM a\nRUN x `\n y\nCOPY a`b c\n",
	"# escape=\\\n# escape=`\nFROM a\n",
	"# escape=x\nFROM a\n",
	"# syntax=docker/dockerfile:1\n# check=skip=all;error=true\nFROM a\n",
	"from a as B\nfrom b as b\ncopy --from=B . .\n",
	"FROM a\nRUN \x00\n",
	"FROM " + strings.Repeat("a", 1000) + "\n",
	"FROM a\n" + strings.Repeat("RUN x \\\n", 100) + "y\n",
	"ARG A=aaaaaaaa\nARG B=$A$A$A$A$A$A$A$A\nARG C=$B$B$B$B$B$B$B$B\nFROM scratch\n",
}

// fuzzPlatforms are the platforms FuzzDockerfile plans for: the fuzzed
// byte picks one, the last slot stands for the fuzzed string itself.
var fuzzPlatforms = []string{"", "linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "windows/amd64", "linux/riscv64"}

func FuzzDockerfile(f *testing.F) {
	for _, s := range dockerfileSeeds {
		f.Add([]byte(s), "", "", "", uint8(0))
	}
	f.Add([]byte("ARG BASE=busybox\nFROM ${BASE} AS build\nFROM build AS test\n"), "BASE=alpine", "test", "", uint8(1))
	f.Add([]byte("FROM --platform=$BUILDPLATFORM a AS b\nARG TARGETARCH\nRUN echo $TARGETARCH\n"), "", "", "", uint8(3))
	f.Add([]byte("FROM a\n"), "", "nosuch", "linux/s390x", uint8(len(fuzzPlatforms)))
	for _, c := range loadTestdataDockerfiles(f) {
		f.Add(c.src, c.buildArg, c.target, c.platform, uint8(0))
	}
	f.Fuzz(func(t *testing.T, src []byte, buildArg, target, platform string, pick uint8) {
		opts := Options{Target: target, Platform: platform}
		if int(pick) < len(fuzzPlatforms) {
			opts.Platform = fuzzPlatforms[pick]
		}
		if k, v, ok := strings.Cut(buildArg, "="); ok {
			opts.BuildArgs = map[string]string{k: v}
		}
		checkDockerfile(t, src, opts)
	})
}

// heredocForms are the ways FuzzHeredoc writes a heredoc around its
// delimiter D and body B; FuzzHeredoc's form byte picks one.
var heredocForms = []string{
	"FROM a\nRUN <<D\nB\nD\n",
	"FROM a\nRUN <<-D\n\tB\n\tD\n",
	"FROM a\nRUN <<'D'\nB\nD\n",
	"FROM a\nRUN <<\"D\"\nB\nD\n",
	"FROM a\nRUN <<-\"D\"\nB\nD\n",
	"FROM a\nRUN cat <<D > /out\nB\nD\n",
	"FROM a\nRUN <<D1 <<D2\nB\nD1\nB\nD2\n",
	"FROM a\nRUN cat <<D1 && cat <<-'D2'\nB\nD1\n\tB\n\tD2\n",
	"FROM a\nRUN python3 <<D\nB\nD\n",
	"FROM a\nRUN <<D\n#!/bin/sh\nB\nD\n",
	"FROM a\nCOPY <<D /dst\nB\nD\n",
	"FROM a\nCOPY <<D1 <<D2 /dir/\nB\nD1\nB\nD2\n",
	"FROM a\nCOPY --chmod=0755 <<-'D' /run.sh\n\tB\nD\n",
	"FROM a\nADD <<D /dst\nB\nD\n",
	"FROM a\nARG V=v\nENV E=e\nRUN <<D\n$V ${E} ${V:-x} $(B)\nD\n",
	"FROM a\nCOPY <<D /${V}\n$V B\nD\n",
	"FROM a\nRUN <<D\nB\n",
	"FROM a\nRUN <<D\n",
	"FROM a\nRUN <<\n",
	"FROM a\nRUN <<''\nB\n\n",
	"FROM a\nRUN <<D \\\n  && true\nB\nD\n",
	"FROM a\nONBUILD RUN <<D\nB\nD\n",
	"# escape=`\nFROM a\nRUN <<D\nB `\nD\n",
	"FROM a\nCMD <<D\nB\nD\n",
	"FROM a\nENTRYPOINT <<D\nB\nD\n",
}

// FuzzHeredoc fills a heredoc form with a fuzzed delimiter and body. For
// the plain forms with an ordinary delimiter and a body that cannot end
// the heredoc early, the heredoc must parse and hold the body unchanged.
func FuzzHeredoc(f *testing.F) {
	for i := range heredocForms {
		f.Add(uint8(i), "EOF", "echo hello")
	}
	f.Add(uint8(0), "END_OF_SCRIPT", "set -e\necho a > /a\n\necho b")
	f.Add(uint8(1), "EOT", "\tindented\n\t\ttwice")
	f.Add(uint8(2), "X1", "echo '$HOME' \"${x}\" \\\n$(date)")
	f.Add(uint8(3), "", "")
	f.Add(uint8(0), "E O F", "x")
	f.Add(uint8(0), "EOF", "EOF")
	f.Add(uint8(0), "EOF", "EOFX\nXEOF\n EOF")
	f.Add(uint8(6), "A", "A\nB")
	f.Add(uint8(14), "EOF", "${V//v/w} ${E%e} ${V#?} ${V:+set} \\$V")
	f.Fuzz(func(t *testing.T, form uint8, delim, body string) {
		tmpl := heredocForms[int(form)%len(heredocForms)]
		src := strings.NewReplacer("D1", delim+"1", "D2", delim+"2", "D", delim, "B", body).Replace(tmpl)
		checkDockerfile(t, []byte(src), Options{Platform: "linux/amd64"})
		if form != 0 || !plainDelimiter(delim) || strings.ContainsAny(body, "\r\x00") || bodyEndsHeredoc(body, delim) {
			return
		}
		d, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			t.Fatalf("Parse(%q) = %v, want a RUN with a heredoc", src, err)
		}
		run, ok := d.Stages[0].Commands[0].(*instructions.RunCommand)
		if !ok || len(run.Files) != 1 {
			t.Fatalf("Parse(%q) = %#v, want a RUN with one heredoc", src, d.Stages[0].Commands[0])
		}
		if want := body + "\n"; run.Files[0].Data != want {
			t.Errorf("Parse(%q): heredoc = %q, want %q", src, run.Files[0].Data, want)
		}
	})
}

// plainDelimiter reports whether d is a delimiter that the heredoc
// round-trip check of FuzzHeredoc applies to.
func plainDelimiter(d string) bool {
	if d == "" {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// bodyEndsHeredoc reports whether a line of body would end the heredoc
// delimited by delim (or is the 'escape' directive's business).
func bodyEndsHeredoc(body, delim string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) == delim {
			return true
		}
	}
	return false
}

// expandWords are words that use every form of expansion strata supports.
var expandWords = []string{
	"$V", "${V}", "${V:-def}", "${V-def}", "${V:+alt}", "${V+alt}", "${V:?must be set}", "${V?}",
	"${V#*/}", "${V##*/}", "${V%.*}", "${V%%.*}", "${V/a/b}", "${V//a/b}", "${V/#a/b}", "${V/%a/b}",
	"${V//\\//_}", "${V#\\*}", "${V%\\}}", "${V:0:2}", "${#V}", "${!V}", "${V^^}", "${V,,}",
	"\\$V", "'$V'", "\"$V\"", "\"${V:-\"q\"}\"", "$V$V$V", "${V:-${W:-${X:-deep}}}",
	"pre${V}post", "$", "${", "${}", "${V", "${V:}", "${V:-", "${1}", "$1", "$@", "${V//[a-z]/}",
	"a\\ b", "a\\\\b", "`V`", "$(V)",
}

// expandValues are ARG values the words above are expanded with.
var expandValues = []string{"", "a", "a/b/c.tar.gz", "$W", "${W:-x}", "a b", "*", "\\", "'", "\""}

// FuzzExpand puts a fuzzed ARG value and a fuzzed word into every place a
// word is expanded: a global ARG and FROM (expanded by Plan), and ENV,
// LABEL, COPY, WORKDIR, USER and EXPOSE (expanded by the solver, here
// by expandPlan as the solver does).
func FuzzExpand(f *testing.F) {
	for i, w := range expandWords {
		f.Add(expandValues[i%len(expandValues)], w, "b", uint8(i))
	}
	f.Add("busybox", "${V}:${W:-latest}", "", uint8(0))
	f.Add("x", "${V//x/$V$V$V$V$V$V$V$V}", "", uint8(3))
	f.Fuzz(func(t *testing.T, value, word, buildArg string, where uint8) {
		// Keep each value on its line: a newline would only make another
		// instruction, which FuzzDockerfile covers.
		clean := strings.NewReplacer("\n", " ", "\r", " ").Replace
		value, word = clean(value), clean(word)
		var b strings.Builder
		fmt.Fprintf(&b, "ARG V=%s\nARG W\nARG G=%s\n", value, word)
		switch where % 3 {
		case 0:
			b.WriteString("FROM busybox\n")
		case 1:
			fmt.Fprintf(&b, "FROM %s\n", word)
		case 2:
			fmt.Fprintf(&b, "FROM --platform=%s busybox\n", word)
		}
		fmt.Fprintf(&b, "ARG V\nARG W=%s\nENV E=%s\nLABEL l=%s\nUSER %s\nWORKDIR /%s\nCOPY %s /d/\nCOPY --chown=%s --chmod=%s a /%s\nEXPOSE %s\nSTOPSIGNAL %s\n",
			word, word, word, word, word, word, word, word, word, word, word)
		opts := Options{Platform: "linux/amd64", BuildArgs: map[string]string{"W": buildArg}}
		checkDockerfile(t, []byte(b.String()), opts)

		// A word without anything to expand expands to itself.
		// (Invalid UTF-8 is not: the lexer reads runes, as BuildKit's does.)
		if !strings.ContainsAny(word, "$\\'\"` \t") && word != "" && utf8.ValidString(word) {
			got, _, err := shell.NewLex('\\').ProcessWord(word, shell.EnvsFromSlice([]string{"V=" + value}))
			if err != nil || got != word {
				t.Errorf("ProcessWord(%q) = %q, %v, want it unchanged", word, got, err)
			}
		}
	})
}

// checkDockerfile parses and plans src with opts and expands every
// instruction of the plan, checking that each step either succeeds or
// fails with a well-formed *Error, in bounded time, and that planning
// twice gives the same plan.
func checkDockerfile(t *testing.T, src []byte, opts Options) {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > fuzzSlow {
			t.Errorf("Dockerfile of %d bytes took %v to parse, plan and expand, want < %v", len(src), d, fuzzSlow)
		}
	}()
	const file = "Dockerfile"
	// The same bytes as an ONBUILD trigger, which a base image (as
	// hostile as a Dockerfile) hands to ParseTrigger.
	if _, err := ParseTrigger(file, []parser.Range{{Start: parser.Position{Line: 1}}}, string(src)); err != nil {
		checkError(t, "ParseTrigger", file, src, err, true)
	}
	d, err := Parse(file, src)
	if err != nil {
		checkError(t, "Parse", file, src, err, len(bytes.TrimSpace(src)) > 0)
		return
	}
	if len(d.Stages) == 0 {
		t.Fatalf("Parse(%q) succeeded with no stage", src)
	}
	p1, err1 := d.Plan(opts)
	p2, err2 := d.Plan(opts)
	if err1 != nil || err2 != nil {
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Fatalf("Plan twice = %v, then %v, want the same", err1, err2)
		}
		// Errors about the options themselves (the platform, the
		// target) have no line; the others come from a line.
		var fe *Error
		optionErr := errors.As(err1, &fe) && fe.Line == 0 &&
			(strings.Contains(err1.Error(), "target stage") || strings.Contains(err1.Error(), "platform"))
		checkError(t, "Plan", file, src, err1, !optionErr)
		return
	}
	if err := checkPlan(p1); err != nil {
		t.Fatalf("Plan(%q): %v", src, err)
	}
	e1, e2 := expandPlan(p1), expandPlan(p2)
	if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Error() != e2.Error() {
		t.Fatalf("expanding the plan twice = %v, then %v, want the same", e1, e2)
	}
	if e1 != nil {
		checkError(t, "expanding", file, src, e1, true)
	}
	if s1, s2 := describePlan(t, p1), describePlan(t, p2); s1 != s2 {
		t.Fatalf("Plan(%q) is not deterministic:\n%s\nthen\n%s", src, s1, s2)
	}
}

// checkError checks what every front-end error must be: an *Error naming
// file, with a message, and (when needLine) a line inside src.
func checkError(t *testing.T, op, file string, src []byte, err error, needLine bool) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %T %q is not a *frontend.Error", op, err, err)
	}
	msg := err.Error()
	switch last := bytes.Count(bytes.TrimSuffix(src, []byte("\n")), []byte("\n")) + 2; {
	case fe.File != file:
		t.Errorf("%s: error %q names file %q, want %q", op, msg, fe.File, file)
	case fe.Err == nil || strings.TrimSpace(fe.Err.Error()) == "":
		t.Errorf("%s: error %q has no message", op, msg)
	case needLine && fe.Line == 0:
		t.Errorf("%s: error %q has no line", op, msg)
	case fe.Line < 0 || fe.Line > last:
		t.Errorf("%s: error %q at line %d, want 1..%d", op, msg, fe.Line, last)
	case strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic"):
		t.Errorf("%s: error %q looks like a crash", op, msg)
	}
}

// checkPlan checks the plan's own invariants: the target is last, every
// stage comes after its dependencies, and each of those is earlier in the
// file.
func checkPlan(p *Plan) error {
	if len(p.Stages) == 0 || p.Target != p.Stages[len(p.Stages)-1] {
		return errors.New("the target is not the last stage of the plan")
	}
	pos := map[*Stage]int{}
	for i, s := range p.Stages {
		if _, dup := pos[s]; dup {
			return fmt.Errorf("stage %s is in the plan twice", s.DisplayName())
		}
		pos[s] = i
	}
	for i, s := range p.Stages {
		if s.Base == "" {
			return fmt.Errorf("stage %s has an empty base", s.DisplayName())
		}
		for _, dep := range s.Deps {
			if j, ok := pos[dep]; !ok || j >= i || dep.Index >= s.Index {
				return fmt.Errorf("stage %s depends on %s, which does not come before it", s.DisplayName(), dep.DisplayName())
			}
		}
	}
	return nil
}

// describePlan renders what a plan decides, expanded commands included,
// for comparing two plans.
func describePlan(t *testing.T, p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "platform %s\nglobal %q\ntarget %d\n", p.Platform, p.Global, p.Target.Index)
	for _, s := range p.Stages {
		fmt.Fprintf(&b, "needs %d\n", s.Index)
	}
	for _, s := range p.All {
		var deps []int
		for _, d := range s.Deps {
			deps = append(deps, d.Index)
		}
		fmt.Fprintf(&b, "stage %d %q base %q platform %q deps %v replaced %v\n", s.Index, s.Name, s.Base, s.Platform, deps, s.Replaced)
		for _, c := range s.Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				// BuildKit lists the flags used from a map, in any
				// order; strata does not read the list.
				slices.Sort(r.FlagsUsed)
			}
			js, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("json.Marshal(%T) = %v", c, err)
			}
			fmt.Fprintf(&b, "  %s %s\n", c.Name(), js)
		}
	}
	return b.String()
}

// expandPlan expands every instruction of the plan's stages in place, as
// the solver does when it runs them (solver/stage.go: dispatch and
// dispatchArg), starting each stage from an image that sets only PATH.
// It returns the first error as an *Error at the instruction's line.
// Words are expanded with ExpandWord, whose limit keeps ENV chains that
// double at each line from taking the fuzzer's memory.
func expandPlan(p *Plan) error {
	raw := shell.NewLex('\\')
	raw.SkipProcessQuotes = true
	for _, s := range p.Stages {
		env := newScope([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})
		word := func(lex *shell.Lex) instructions.SingleWordExpander {
			return func(w string) (string, error) { return ExpandWord(lex, w, env) }
		}
		for _, cmd := range s.Commands {
			fail := func(err error) error { return wrapError(p.File, cmd.Location(), err) }
			if _, isArg := cmd.(*instructions.ArgCommand); !isArg {
				if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
					if err := ex.Expand(word(p.Lex)); err != nil {
						return fail(err)
					}
				}
			}
			if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
				if err := ex.ExpandRaw(word(raw)); err != nil {
					return fail(err)
				}
			}
			switch c := cmd.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env.set(kv.Key, kv.Value)
				}
			case *instructions.ArgCommand:
				for i, kv := range c.Args {
					var val *string
					if v, ok := p.BuildArgs[kv.Key]; ok {
						val = &v
					} else if kv.Value != nil {
						v, err := ExpandWord(p.Lex, *kv.Value, env)
						if err != nil {
							return fail(err)
						}
						val = &v
					} else if v, ok := p.ArgValue(kv.Key); ok {
						val = &v
					}
					c.Args[i].Value = val
					if val != nil {
						env.set(kv.Key, *val)
					}
				}
			case *instructions.ExposeCommand:
				for _, port := range c.Ports {
					if _, err := p.Lex.ProcessWords(port, env); err != nil {
						return fail(err)
					}
				}
			}
		}
	}
	return nil
}

// testdataDockerfile is a Dockerfile from the repository's testdata with
// the options its case builds it with.
type testdataDockerfile struct {
	src                        []byte
	buildArg, target, platform string
}

// loadTestdataDockerfiles reads every Dockerfile under the repository's
// testdata/ (the conformance cases, the lint corpus and the others) in a
// stable order, each with the first build arg, the target and the
// platform of its conformance case, if any.
func loadTestdataDockerfiles(tb testing.TB) []testdataDockerfile {
	tb.Helper()
	var out []testdataDockerfile
	root := filepath.Join("..", "testdata")
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.ToLower(e.Name())
		if e.IsDir() && name == "fuzz" {
			return filepath.SkipDir
		}
		if e.IsDir() || !(name == "dockerfile" || strings.HasSuffix(name, ".dockerfile") || strings.HasPrefix(name, "dockerfile.")) {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c := testdataDockerfile{src: src}
		dir := filepath.Dir(p)
		if args, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
			c.buildArg, _, _ = strings.Cut(string(args), "\n")
		}
		if target, err := os.ReadFile(filepath.Join(dir, "target")); err == nil {
			c.target = strings.TrimSpace(string(target))
		}
		if platform, err := os.ReadFile(filepath.Join(dir, "platform")); err == nil {
			c.platform, _, _ = strings.Cut(strings.TrimSpace(string(platform)), ",")
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		tb.Fatalf("reading testdata Dockerfiles: %v", err)
	}
	if len(out) < 100 {
		tb.Fatalf("found %d Dockerfiles under %s, want the conformance cases and the lint corpus", len(out), root)
	}
	return out
}

// ignoreSeeds are .dockerignore files, each with the paths to match,
// one a line.
var ignoreSeeds = [][2]string{
	{"", "a"},
	{"*.log\n!keep.log\n", "a.log\nkeep.log\nsrc/a.log"},
	{"# comment\n\n  spaced  \n/abs\n./rel\n../up\n", "spaced\nabs\nrel\nup\n../up"},
	{"**\n!src/**/*.go\nsrc/vendor\n", "src/a.go\nsrc/x/y.go\nsrc/vendor/z.go\nREADME"},
	{"**/*.tmp\n**/\nbuild/**/out\n", "a.tmp\nx/y/b.tmp\nbuild/out\nbuild/a/b/out"},
	{"[a-c]*\n[!x]y\n[^x]z\n?q\n\\*lit\n", "abc\nay\nbz\naq\n*lit"},
	{"[z-a]\n", "a"},
	{"a[\n", "a"},
	{"!\n", "a"},
	{"\\\n", "a"},
	{"dir/\n!dir/keep\n", "dir\ndir/keep\ndir/drop"},
	{"\ufeff*.md\r\nDockerfile\r\n", "a.md\nDockerfile"},
	{"Dockerfile\n.dockerignore\n", "Dockerfile\n.dockerignore"},
	{"*\n!*/\n!**/*.txt\n", "a/b.txt\na/c.bin"},
	{"a/**/**/b\n", "a/b\na/x/y/b"},
	{"(a|b)\n{x,y}\n$^.+\n", "(a|b)\n{x,y}\n$^.+"},
}

// FuzzDockerignore loads fuzzed .dockerignore bytes and matches fuzzed
// paths against them, walking down each path as the context mirror does
// (solver/context.go). A file that loads must match every path without an
// error, the same way twice; one that does not load fails with an *Error
// that names the file and, for a bad pattern, its line. A literal pattern
// with nothing after it that could re-include always excludes its path.
func FuzzDockerignore(f *testing.F) {
	for _, s := range ignoreSeeds {
		f.Add([]byte(s[0]), s[1])
	}
	for _, dir := range []string{"dockerignore-copy-explicit", "dockerignore-dirs", "dockerignore-dockerfile", "dockerignore-negation"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", dir, ".dockerignore"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "keep-a.txt\ndropdir/x\nkeepdir/a/b\nDockerfile\nother.md")
	}
	f.Fuzz(func(t *testing.T, data []byte, paths string) {
		start := time.Now()
		const name = "ctx/.dockerignore"
		var c Context
		if err := c.readIgnore(name, data); err != nil {
			checkError(t, "readIgnore", name, data, err, strings.Contains(err.Error(), "pattern"))
			return
		}
		if (c.matcher == nil) != (len(c.Excludes) == 0) {
			t.Fatalf("readIgnore: patterns %q, matcher %v", c.Excludes, c.matcher)
		}
		for _, p := range strings.Split(paths, "\n") {
			p = strings.Trim(path.Clean("/"+p), "/")
			if p == "" {
				continue
			}
			got1, err := ignoredWalk(&c, p)
			if err != nil {
				t.Fatalf("patterns %q: Ignored(%q) = %v, want no error once the file loaded", c.Excludes, p, err)
			}
			got2, _ := ignoredWalk(&c, p)
			if got1 != got2 {
				t.Fatalf("patterns %q: Ignored(%q) = %v, then %v", c.Excludes, p, got1, got2)
			}
			if !got1 && literallyExcluded(c.Excludes, p) {
				t.Errorf("patterns %q: Ignored(%q) = false, want true (a pattern names it)", c.Excludes, p)
			}
		}
		if d := time.Since(start); d > fuzzSlow {
			t.Errorf("%d bytes of patterns and %d of paths took %v, want < %v", len(data), len(paths), d, fuzzSlow)
		}
	})
}

// ignoredWalk matches each leading part of rel in turn, passing each
// result down as a walk of the context does, and returns the last.
func ignoredWalk(c *Context, rel string) (bool, error) {
	var (
		info    MatchInfo
		ignored bool
		err     error
	)
	parts := strings.Split(rel, "/")
	for i := range parts {
		ignored, info, err = c.Ignored(strings.Join(parts[:i+1], "/"), info)
		if err != nil {
			return false, err
		}
	}
	return ignored, nil
}

// literallyExcluded reports whether one of pats is rel itself, with no
// wildcard or escape, and no "!" pattern anywhere that could re-include it.
// Each pattern is taken as patternmatcher.New takes it: trimmed and
// cleaned once more (so a line "/\vr" excludes "r").
func literallyExcluded(pats []string, rel string) bool {
	found := false
	for _, p := range pats {
		if strings.HasPrefix(p, "!") {
			return false
		}
		p = filepath.Clean(strings.TrimSpace(p))
		if p == rel && !strings.ContainsAny(p, "*?[]\\") {
			found = true
		}
	}
	return found
}
