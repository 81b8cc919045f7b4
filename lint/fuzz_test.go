package lint

import (
	"bytes"
	"strings"
	"testing"
)

// Fuzzing lint: Lint must take any bytes without panicking and report
// findings that point inside the file. FuzzLint is seeded from the corpus
// (see corpus_test.go) and from fuzzSeeds, with shellcheck off (a process
// per input would starve the fuzzer). Plain `go test` runs the seeds, and a
// bounded fuzzing run is
//
//	go test ./lint -run '^$' -fuzz FuzzLint -fuzztime 60s
//
// (add -fuzzminimizetime 5s so that a short run does not spend most of its
// time, a minute per input by default, shrinking new corpus entries).
// A crasher the fuzzer finds lands in testdata/fuzz/FuzzLint/; commit it
// with the fix so that it stays a regression case.

// fuzzSeeds are small inputs at the edges of the syntax.
var fuzzSeeds = []string{
	"",
	"\n",
	"\ufeff",
	"FROM",
	"FROM scratch",
	"FROM a\nRUN <<EOF\n",
	"FROM a\nRUN <<EOF\nEOF",
	"FROM a\nRUN <<-EOF\n\t\tx\n\tEOF\n",
	"FROM a\nCOPY <<a <<b /d/\na\nb\n",
	"FROM a\nRUN x \\\n",
	"FROM a\nRUN x \\\n\n\n",
	"FROM a\nRUN x \\\n# c\n",
	"# escape=`\nFROM a\nRUN x `\n y\n",
	"# escape=\\\n# escape=`\nFROM a\n",
	"# syntax=x\n# check=skip=all;error=true\nFROM a\n",
	"# check=skip=\nFROM a\n",
	"FROM a\r\nRUN b\r\n",
	"FROM a\rRUN b\r",
	"ONBUILD RUN x\n",
	"FROM a\nONBUILD ONBUILD RUN x\n",
	"FROM a\nONBUILD\n",
	"FROM a\nONBUILD FROM b\n",
	"FROM a\nRUN [\"unterminated\n",
	"FROM a\nRUN [\"a\", 1]\n",
	"FROM a\nCMD []\n",
	"FROM a\nENV\n",
	"FROM a\nENV a\n",
	"FROM a\nENV a=\"b\n",
	"FROM a\nLABEL =x\n",
	"FROM a\nEXPOSE 80/tcp:99 -1 :\n",
	"FROM a\nHEALTHCHECK --interval=x CMD\n",
	"FROM a\nRUN --mount=type=cache,target= x\n",
	"FROM a\nRUN --mount= --network=bogus --security=x y\n",
	"FROM a\nCOPY --chmod=u+q --from= a b\n",
	"FROM a AS\n",
	"FROM a AS b c\n",
	"FROM --platform= a\n",
	"ARG\nFROM ${\n",
	"ARG A=${B:-${C}}\nFROM ${A}\n",
	"FROM a\nSHELL [\"pwsh\"]\nRUN $x = 1\n",
	"FROM a\nRUN if then fi; case esac; $((1 +)) `\n",
	"FROM a\nRUN echo $'\\x' \"${a[\" <(x\n",
	"FROM a\n# hadolint ignore=\nRUN x\n",
	"# hadolint global ignore=DL3000,,\n# hadolint shell=\nFROM a\n",
	"FROM a\nRUNN x\n",
	"FROM a\nMAINTAINER\n",
	"from a as B\nfrom b as b\ncopy --from=B . .\n",
	"\x00\xff\xfe",
	"FROM a\nRUN \x00\n",
	"FROM " + strings.Repeat("a", 1000) + "\n",
	"FROM a\nRUN " + strings.Repeat("x && ", 200) + "y\n",
	"FROM a\n" + strings.Repeat("RUN x \\\n", 100) + "y\n",
}

func FuzzLint(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, c := range loadCorpus(f) {
		f.Add(c.Src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		findings := Lint("Dockerfile", src, corpusConfig())
		checkFindings(t, "Dockerfile", src, findings)
	})
}

// TestLintSeedVariants runs FuzzLint's body on every seed and on every
// prefix of each corpus file cut at a line end and mid-line, so that each
// `go test` (CI included) covers truncated heredocs, continuations and
// JSON without a fuzzing run.
func TestLintSeedVariants(t *testing.T) {
	var inputs [][]byte
	for _, s := range fuzzSeeds {
		inputs = append(inputs, []byte(s))
	}
	for _, c := range loadCorpus(t) {
		inputs = append(inputs, c.Src)
		start := 0
		for i, b := range c.Src {
			if b == '\n' {
				inputs = append(inputs, c.Src[:i], c.Src[:(start+i)/2])
				start = i + 1
			}
		}
	}
	cfg := corpusConfig()
	for _, src := range inputs {
		findings := lintNoPanic(t, "Dockerfile", src, cfg)
		checkFindings(t, "Dockerfile", src, findings)
		if t.Failed() {
			t.Fatalf("input:\n%s", numbered(string(src)))
		}
	}
}

// checkFindings checks what every finding must satisfy whatever the input:
// a code and a message, the file's name, a line inside the file (or just
// past its end, for "missing at end of file"), and a range that does not
// run backwards.
func checkFindings(t *testing.T, file string, src []byte, findings []Finding) {
	t.Helper()
	last := sourceLines(src) + 1
	for _, f := range findings {
		switch {
		case f.Code == "":
			t.Errorf("Lint(%s): finding without a code: %+v", file, f)
		case strings.TrimSpace(f.Message) == "":
			t.Errorf("Lint(%s): %s finding without a message: %+v", file, f.Code, f)
		case f.File != file:
			t.Errorf("Lint(%s): %s finding in file %q", file, f.Code, f.File)
		case f.Line < 1 || f.Line > last:
			t.Errorf("Lint(%s): %s at line %d, want 1..%d: %s", file, f.Code, f.Line, last, f.Message)
		case f.EndLine != 0 && (f.EndLine < f.Line || f.EndLine > last):
			t.Errorf("Lint(%s): %s at lines %d-%d, want an end in %d..%d", file, f.Code, f.Line, f.EndLine, f.Line, last)
		case f.Column < 0:
			t.Errorf("Lint(%s): %s at column %d", file, f.Code, f.Column)
		}
	}
}

// sourceLines is the number of lines of src as BuildKit's parser counts
// them (a final newline does not start a line).
func sourceLines(src []byte) int {
	src = bytes.TrimSuffix(src, []byte("\n"))
	return bytes.Count(src, []byte("\n")) + 1
}
