package lint

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func init() {
	// Other golden tests of this package declare -update too; one flag
	// serves them all.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// TestFixGolden fixes each testdata/fix/NAME.Dockerfile and compares the
// result with NAME.fixed (go test -update rewrites those).
func TestFixGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/fix/*.Dockerfile")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs under testdata/fix: %v", err)
	}
	update := flag.Lookup("update").Value.String() == "true"
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".Dockerfile")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Shellcheck = false
			got := Fix(in, src, cfg)
			golden := strings.TrimSuffix(in, ".Dockerfile") + ".fixed"
			if update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("Fix(%s) =\n%s\nwant\n%s", in, got, want)
			}
			// Applying the fixes again changes nothing, and what is left
			// has no fix to offer.
			if again := Fix(in, got, cfg); string(again) != string(got) {
				t.Errorf("Fix(Fix(%s)) =\n%s\nwant it unchanged", in, again)
			}
			for _, f := range Lint(in, got, cfg) {
				if f.Fix != nil {
					t.Errorf("fixed %s still has a fix: %v", in, f)
				}
			}
			// Comments stay, in order.
			if c, fc := commentLines(src), commentLines(got); !slices.Equal(c, fc) {
				t.Errorf("Fix(%s) comments = %q, want %q", in, fc, c)
			}
		})
	}
}

func commentLines(src []byte) []string {
	var out []string
	for _, l := range strings.Split(string(src), "\n") {
		if isCommentLine(l) {
			out = append(out, l)
		}
	}
	return out
}

// TestFixedCodesGone checks that each fixable finding is gone after Fix.
func TestFixedCodesGone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Shellcheck = false
	for _, tc := range []struct{ code, src string }{
		{"ConsistentInstructionCasing", "FROM alpine\nrun true\nRUN true\n"},
		{"ConsistentInstructionCasing", "from alpine\nrun true\nRUN true\n"},
		{"ConsistentInstructionCasing", "FROM alpine\nOnBuild RUN true\n"},
		{"FromAsCasing", "FROM alpine as base\n"},
		{"FromAsCasing", "from alpine AS base\nrun true\n"},
		{"FromAsCasing", "from alpine \\\n  AS base\nRUN true\nRUN true\n"},
		{"LegacyKeyValueFormat", "FROM alpine\nENV A b\n"},
		{"LegacyKeyValueFormat", "FROM alpine\nLABEL a b c\n"},
		{"LegacyKeyValueFormat", "FROM alpine\nENV A 'x y'\n"},
		{"LegacyKeyValueFormat", "FROM alpine\nenv A b\nRUN true\n"},
		{"ExposeProtoCasing", "FROM alpine\nEXPOSE 80/TCP\n"},
		{"ExposeProtoCasing", "FROM alpine\nEXPOSE 80/TCP \\\n  81/Sctp\n"},
		{"DL4000", "FROM alpine\nMAINTAINER me\n"},
		{"DL4000", "FROM alpine\nMAINTAINER a $b \\c\n"},
	} {
		fixed := Fix("Dockerfile", []byte(tc.src), cfg)
		for _, f := range Lint("Dockerfile", fixed, cfg) {
			if f.Code == tc.code {
				t.Errorf("Fix(%q) = %q, which still has %s: %s", tc.src, fixed, tc.code, f.Message)
			}
		}
	}
}

func TestApplyFixes(t *testing.T) {
	edit := func(line, end int, text string) Finding {
		return Finding{Code: "X", Line: line, Fix: &Edit{Line: line, EndLine: end, Text: text}}
	}
	src := "a\nb\nc\nd\n"
	for _, tc := range []struct {
		name, src string
		findings  []Finding
		want      string
	}{
		{"none", src, []Finding{{Code: "X", Line: 1}}, src},
		{"one line", src, []Finding{edit(2, 2, "B\n")}, "a\nB\nc\nd\n"},
		{"two, any order", src, []Finding{edit(1, 1, "A\n"), edit(4, 4, "D\n")}, "A\nb\nc\nD\n"},
		{"range to one", src, []Finding{edit(2, 3, "BC\n")}, "a\nBC\nd\n"},
		{"one to two", src, []Finding{edit(2, 2, "b1\nb2\n")}, "a\nb1\nb2\nc\nd\n"},
		{"delete", src, []Finding{edit(3, 3, "")}, "a\nb\nd\n"},
		{"same fix twice", src, []Finding{edit(2, 2, "B\n"), edit(2, 2, "B\n")}, "a\nB\nc\nd\n"},
		{"overlap: later one skipped", src, []Finding{edit(2, 3, "BC\n"), edit(3, 3, "C\n")}, "a\nb\nC\nd\n"},
		{"overlap on first line", src, []Finding{edit(2, 2, "B\n"), edit(2, 3, "BC\n")}, "a\nBC\nd\n"},
		{"past the end", src, []Finding{edit(5, 5, "E\n")}, src},
		{"crlf", "a\r\nb\r\nc\r\n", []Finding{edit(2, 2, "B\n")}, "a\r\nB\r\nc\r\n"},
		{"crlf to two lines", "a\r\nb\r\n", []Finding{edit(1, 1, "x\ny\n")}, "x\r\ny\r\nb\r\n"},
		{"no final newline", "a\nb", []Finding{edit(2, 2, "B\n")}, "a\nB"},
		{"first and last", "a\nb", []Finding{edit(1, 2, "AB\n")}, "AB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(ApplyFixes([]byte(tc.src), tc.findings))
			if got != tc.want {
				t.Errorf("ApplyFixes(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

// fixOf runs fix on the instruction at line of src.
func fixOf(t *testing.T, src string, line int, fix func(*Document, *Instruction) (Edit, bool)) (string, bool) {
	t.Helper()
	d := Parse("Dockerfile", []byte(src))
	in := instructionAt(d, line)
	if in == nil {
		t.Fatalf("no instruction at line %d of %q", line, src)
	}
	e, ok := fix(d, in)
	if !ok {
		return "", false
	}
	if e.Line != in.Line || e.EndLine < e.Line || e.EndLine > in.EndLine {
		t.Errorf("fix of %q edits lines %d-%d, outside the instruction (%d-%d)", src, e.Line, e.EndLine, in.Line, in.EndLine)
	}
	return string(ApplyFixes([]byte(src), []Finding{{Fix: &e}})), true
}

func TestJSONFormFix(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string // want "" for no fix
	}{
		{"words", "FROM a\nCMD nginx -g off\n", "FROM a\nCMD [\"nginx\", \"-g\", \"off\"]\n"},
		{"quoted word", "FROM a\nCMD nginx -g \"daemon off;\"\n", "FROM a\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n"},
		{"single quotes", "FROM a\nCMD echo 'a \"b\" c'\n", "FROM a\nCMD [\"echo\", \"a \\\"b\\\" c\"]\n"},
		{"entrypoint", "FROM a\nENTRYPOINT /app/server --port 80\n", "FROM a\nENTRYPOINT [\"/app/server\", \"--port\", \"80\"]\n"},
		{"lower case and indent", "from a\n  cmd app start\n", "from a\n  cmd [\"app\", \"start\"]\n"},
		{"continued", "FROM a\nCMD app \\\n  --flag\n", "FROM a\nCMD [\"app\", \"--flag\"]\n"},
		{"unicode", "FROM a\nCMD echo héllo <b>\n", ""},
		{"html-ish kept", "FROM a\nCMD echo \"<b>&\"\n", "FROM a\nCMD [\"echo\", \"<b>&\"]\n"},
		{"variable", "FROM a\nCMD echo $HOME\n", ""},
		{"variable in quotes", "FROM a\nCMD echo \"$HOME\"\n", ""},
		{"glob", "FROM a\nCMD ls *.txt\n", ""},
		{"tilde", "FROM a\nCMD ls ~\n", ""},
		{"and", "FROM a\nCMD a && b\n", ""},
		{"pipe", "FROM a\nCMD a | b\n", ""},
		{"redirect", "FROM a\nCMD a > /log\n", ""},
		{"assignment", "FROM a\nCMD A=1 app\n", ""},
		{"subshell", "FROM a\nCMD echo $(date)\n", ""},
		{"escape", "FROM a\nCMD echo a\\ b\n", ""},
		{"comment", "FROM a\nCMD app # run it\n", ""},
		{"background", "FROM a\nCMD app &\n", ""},
		{"exec form", "FROM a\nCMD [\"app\"]\n", ""},
		{"entrypoint with cmd", "FROM a\nENTRYPOINT app start\nCMD [\"--verbose\"]\n", ""},
		{"comment inside", "FROM a\nCMD app \\\n# note\n  start\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fixOf(t, tc.src, 2, jsonFormFix)
			if tc.want == "" && ok {
				t.Errorf("jsonFormFix(%q) = %q, want no fix", tc.src, got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("jsonFormFix(%q) = %q, %v; want %q", tc.src, got, ok, tc.want)
			}
		})
	}
}

func TestKeyValueFix(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"env", "FROM a\nENV A b\n", "FROM a\nENV A=b\n"},
		{"spaces", "FROM a\nENV A b c  d\n", "FROM a\nENV A=\"b c  d\"\n"},
		{"quoted", "FROM a\nENV A \"b c\"\n", "FROM a\nENV A=\"b c\"\n"},
		{"single quoted", "FROM a\nENV A 'b c'\n", "FROM a\nENV A='b c'\n"},
		{"variable", "FROM a\nENV P /x:$PATH\n", "FROM a\nENV P=/x:$PATH\n"},
		{"variable with spaces", "FROM a\nENV P a $B c\n", "FROM a\nENV P=\"a $B c\"\n"},
		{"label", "FROM a\nLABEL desc A small image\n", "FROM a\nLABEL desc=\"A small image\"\n"},
		{"lower case and indent", "FROM a\n\tenv a b\n", "FROM a\n\tenv a=b\n"},
		{"equals in value", "FROM a\nENV OPTS -Dx=1\n", "FROM a\nENV OPTS=-Dx=1\n"},
		{"continued", "FROM a\nENV A b \\\n  c\n", "FROM a\nENV A=\"b   c\"\n"},
		{"mixed quotes and spaces", "FROM a\nENV A a \"b c\"\n", ""},
		{"escaped space", "FROM a\nENV A a\\ b c\n", ""},
		{"already key=value", "FROM a\nENV A=b\n", ""},
		{"comment inside", "FROM a\nENV A b \\\n# note\n  c\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fixOf(t, tc.src, 2, keyValueFix)
			if tc.want == "" && ok {
				t.Errorf("keyValueFix(%q) = %q, want no fix", tc.src, got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("keyValueFix(%q) = %q, %v; want %q", tc.src, got, ok, tc.want)
			}
		})
	}
}

func TestMaintainerFix(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"plain", "FROM a\nMAINTAINER me@example.com\n", "FROM a\nLABEL org.opencontainers.image.authors=\"me@example.com\"\n"},
		{"name and mail", "FROM a\nMAINTAINER Jane Doe <jane@example.com>\n", "FROM a\nLABEL org.opencontainers.image.authors=\"Jane Doe <jane@example.com>\"\n"},
		{"quotes and dollar", "FROM a\nMAINTAINER Jane \"J\" $x\n", "FROM a\nLABEL org.opencontainers.image.authors=\"Jane \\\"J\\\" \\$x\"\n"},
		{"lower case", "FROM a\n  maintainer me\n", "FROM a\n  label org.opencontainers.image.authors=\"me\"\n"},
		{"escape directive", "# escape=`\nFROM a\nMAINTAINER a\\b `c\n", "# escape=`\nFROM a\nLABEL org.opencontainers.image.authors=\"a\\b ``c\"\n"},
		{"comment inside", "FROM a\nMAINTAINER a \\\n# x\n  b\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Parse("Dockerfile", []byte(tc.src))
			var in *Instruction
			for _, i := range d.All {
				if i.Is("maintainer") {
					in = i
				}
			}
			e, ok := maintainerFix(d, in)
			if tc.want == "" {
				if ok {
					t.Errorf("maintainerFix(%q) = %+v, want no fix", tc.src, e)
				}
				return
			}
			got := string(ApplyFixes([]byte(tc.src), []Finding{{Fix: &e}}))
			if !ok || got != tc.want {
				t.Errorf("maintainerFix(%q) = %q, %v; want %q", tc.src, got, ok, tc.want)
			}
		})
	}
}

func TestCasingFix(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		upper     bool
		want      string
	}{
		{"keyword", "FROM a\nrun x\n", 2, true, "FROM a\nRUN x\n"},
		{"keyword lower", "from a\nRUN x\n", 2, false, "from a\nrun x\n"},
		{"indented", "FROM a\n  Run x \\\n  y\n", 2, true, "FROM a\n  RUN x \\\n  y\n"},
		{"from and as", "from a as b\n", 1, true, "FROM a AS b\n"},
		{"as on next line", "from a \\\n  as b\n", 1, true, "FROM a \\\n  AS b\n"},
		{"from with platform", "FROM --platform=$BUILDPLATFORM a as b\n", 1, true, "FROM --platform=$BUILDPLATFORM a AS b\n"},
		{"onbuild keeps trigger", "FROM a\nonbuild run x\n", 2, true, "FROM a\nONBUILD run x\n"},
		{"argument untouched", "FROM a\nrun echo run\n", 2, true, "FROM a\nRUN echo run\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fixOf(t, tc.src, tc.line, func(d *Document, in *Instruction) (Edit, bool) { return casingFix(d, in, tc.upper) })
			if !ok || got != tc.want {
				t.Errorf("casingFix(%q) = %q, %v; want %q", tc.src, got, ok, tc.want)
			}
		})
	}
}

func TestExposeFix(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"FROM a\nEXPOSE 80/TCP\n", "FROM a\nEXPOSE 80/tcp\n"},
		{"FROM a\nEXPOSE 80/TCP 53/Udp 9/SCTP 8080\n", "FROM a\nEXPOSE 80/tcp 53/udp 9/sctp 8080\n"},
		{"FROM a\nexpose 80/TCP \\\n  # keep: 81/TCP\n  81/UDP\n", "FROM a\nexpose 80/tcp \\\n  # keep: 81/TCP\n  81/udp\n"},
		{"FROM a\nEXPOSE ${P}/TCP\n", "FROM a\nEXPOSE ${P}/tcp\n"},
	} {
		got, ok := fixOf(t, tc.src, 2, exposeFix)
		if !ok || got != tc.want {
			t.Errorf("exposeFix(%q) = %q, %v; want %q", tc.src, got, ok, tc.want)
		}
	}
}

// TestJSONArgsFixAttached checks JSONArgsRecommended offers its fix (the
// engine gives its findings to DL3025, which may offer the same).
func TestJSONArgsFixAttached(t *testing.T) {
	rule, _ := RuleByCode("JSONArgsRecommended")
	d := Parse("Dockerfile", []byte("FROM a\nCMD app start\nENTRYPOINT run $X\n"))
	d.config = DefaultConfig()
	r := &Reporter{rule: rule, doc: d}
	rule.Check(d, r)
	if len(r.findings) != 2 || r.findings[0].Fix == nil || r.findings[1].Fix != nil {
		t.Fatalf("JSONArgsRecommended findings = %+v, want a fix on the CMD only", r.findings)
	}
	if got := string(ApplyFixes(d.Source, r.findings)); got != "FROM a\nCMD [\"app\", \"start\"]\nENTRYPOINT run $X\n" {
		t.Errorf("fixed: %q", got)
	}
}

// TestJSONFormFixKeepsShellSemantics: commands that need a shell keep the
// shell form; --fix must never change what an image runs.
func TestJSONFormFixKeepsShellSemantics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Shellcheck = false
	for _, src := range []string{
		"FROM a\nCMD exec gunicorn app:app\n",
		"FROM a\nENTRYPOINT exec /app\n",
		"FROM a\nCMD ulimit -n 1024\n",
		"FROM a\nCMD FOO=1 app\n",
		"FROM a\nSHELL [\"/bin/bash\", \"-lc\"]\nCMD myapp --serve\n",
	} {
		if got := string(Fix("Dockerfile", []byte(src), cfg)); got != src {
			t.Errorf("Fix changed %q to %q", src, got)
		}
	}
	if got := string(Fix("Dockerfile", []byte("FROM a\nCMD myapp --serve\n"), cfg)); got != "FROM a\nCMD [\"myapp\", \"--serve\"]\n" {
		t.Errorf("plain command not fixed: %q", got)
	}
}
