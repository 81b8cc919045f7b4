package lint

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func init() {
	// Other golden tests of the package declare -update too; one flag
	// serves them all.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// updateFormatGolden reports whether -update asks to rewrite the golden
// files.
func updateFormatGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// formatRules are the only rules of the format tests, so that the golden
// output does not move when real rules change.
var formatRules = []*Rule{
	testRunRule,
	{
		Code: "StrataTestDebian", Severity: Info, Message: "test: FROM debian", Doc: "test rule",
		Check: func(d *Document, r *Reporter) {
			for _, st := range d.Stages {
				if strings.HasPrefix(st.From.Args()[0], "debian") {
					r.Report(st.From)
				}
			}
		},
	},
	{
		Code: "DL9904", Severity: Style, Message: "test: a label", Doc: "Test rule.\n\nIt quotes the label.",
		URL: "https://example.com/rules/DL9904",
		Check: func(d *Document, r *Reporter) {
			for _, in := range d.All {
				if in.Is("label") {
					r.Reportf(in, "test: %s", in.Node.Original)
				}
			}
		},
	},
}

// formatDockerfile has a finding of each severity but error, a RUN over
// two lines and a message with XML's and JSON's special characters.
const formatDockerfile = "FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\nLABEL a=\"<b> & 'c'\"\n"

// formatReport lints formatDockerfile (as Dockerfile) and a clean file.
func formatReport(t *testing.T) Report {
	t.Helper()
	saved := ruleSets
	setRuleSets([][]*Rule{formatRules})
	t.Cleanup(func() { setRuleSets(saved) })
	r := Report{Files: []string{"Dockerfile", "clean/Dockerfile"}}
	r.Findings = append(r.Findings, Lint("Dockerfile", []byte(formatDockerfile), nil)...)
	r.Findings = append(r.Findings, Lint("clean/Dockerfile", []byte("FROM scratch\n"), nil)...)
	if len(r.Findings) != 4 {
		t.Fatalf("findings = %v, want 4", r.Findings)
	}
	return r
}

func TestFormatGolden(t *testing.T) {
	r := formatReport(t)
	cases := []struct {
		format string
		opts   FormatOptions
		golden string
	}{
		{"tty", FormatOptions{}, "tty.golden"},
		{"tty", FormatOptions{Color: true}, "tty-color.golden"},
		{"json", FormatOptions{}, "json.golden"},
		{"sarif", FormatOptions{Version: "1.2.3"}, "sarif.golden"},
		{"checkstyle", FormatOptions{}, "checkstyle.golden"},
		{"gnu", FormatOptions{}, "gnu.golden"},
		{"codeclimate", FormatOptions{}, "codeclimate.golden"},
		{"gitlab_codeclimate", FormatOptions{}, "gitlab_codeclimate.golden"},
		{"junit", FormatOptions{}, "junit.golden"},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := Format(&b, tc.format, r, tc.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "format", tc.golden)
			if updateFormatGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("Format(%s) =\n%s\nwant (%s)\n%s", tc.format, b.Bytes(), path, want)
			}
		})
	}
}

// Every format writes something sensible for nothing found.
func TestFormatEmpty(t *testing.T) {
	r := Report{Files: []string{"Dockerfile"}}
	want := map[string]string{
		"tty":                "",
		"gnu":                "",
		"codeclimate":        "",
		"json":               "[]\n",
		"gitlab_codeclimate": "[]\n",
		"checkstyle":         xml.Header + "<checkstyle version=\"4.3\">\n  <file name=\"Dockerfile\"></file>\n</checkstyle>\n",
		"junit": xml.Header + "<testsuites name=\"strata lint\" tests=\"1\" failures=\"0\" errors=\"0\">\n" +
			"  <testsuite name=\"Dockerfile\" tests=\"1\" failures=\"0\" errors=\"0\">\n" +
			"    <testcase name=\"lint\" classname=\"Dockerfile\" file=\"Dockerfile\"></testcase>\n  </testsuite>\n</testsuites>\n",
	}
	for _, name := range FormatNames() {
		var b bytes.Buffer
		if err := Format(&b, name, r, FormatOptions{}); err != nil {
			t.Fatalf("Format(%s): %v", name, err)
		}
		if w, ok := want[name]; ok && b.String() != w {
			t.Errorf("Format(%s) of nothing = %q, want %q", name, b.String(), w)
		}
	}
	var b bytes.Buffer
	if err := Format(&b, "sarif", r, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, b.Bytes())
	if !strings.Contains(b.String(), `"results": []`) || !strings.Contains(b.String(), `"rules": []`) {
		t.Errorf("empty SARIF lacks its empty results and rules:\n%s", b.String())
	}
}

func TestFormatUnknown(t *testing.T) {
	for name, msg := range map[string]string{
		"jsn":       `unknown format "jsn" (did you mean json?)`,
		"xml":       `unknown format "xml" (want tty, json, sarif, checkstyle, gnu, codeclimate, gitlab_codeclimate, junit)`,
		"sonarqube": `format "sonarqube" is hadolint's, not supported by strata (want tty, json, sarif, checkstyle, gnu, codeclimate, gitlab_codeclimate, junit)`,
	} {
		err := Format(&bytes.Buffer{}, name, Report{}, FormatOptions{})
		if err == nil || err.Error() != msg {
			t.Errorf("Format(%s) = %v, want %s", name, err, msg)
		}
	}
}

// validateSARIF checks a SARIF log against the OASIS SARIF 2.1.0 schema
// (testdata/sarif-schema-2.1.0.json), formats included.
func validateSARIF(t *testing.T, log []byte) {
	t.Helper()
	schemaFile, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v\n%s", err, log)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("SARIF output does not validate against SARIF 2.1.0: %v\n%s", err, log)
	}
}

func TestSarifValidates(t *testing.T) {
	r := formatReport(t)
	// Findings of every kind: an error, a registered rule without a URL, a
	// ShellCheck code, a syntax error, odd file names and positions.
	r.Findings = append(r.Findings,
		Finding{Code: "SC2086", Severity: Info, Message: "Double quote to prevent globbing and word splitting.", File: "Dockerfile", Line: 3, Column: 9, EndLine: 3, EndColumn: 14},
		Finding{Code: "DL1000", Severity: Error, Message: "unknown instruction: RUNN", File: "dir with space/Dockerfile", Line: 2},
		Finding{Code: "StrataTestDebian", Severity: Error, Message: "overridden", File: "/abs/path/a:b.Dockerfile", Line: 1},
		Finding{Code: "DL9901", Severity: Ignore, Message: "ignored yet written", File: "-", Line: 0},
	)
	saved := ruleSets
	setRuleSets([][]*Rule{formatRules})
	defer setRuleSets(saved)
	var b bytes.Buffer
	if err := Format(&b, "sarif", r, FormatOptions{Version: "dev"}); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, b.Bytes())

	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID                   string
						HelpURI              string
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "strata" {
		t.Fatalf("want one run by strata, got %+v", log.Runs)
	}
	run := log.Runs[0]
	for _, res := range run.Results {
		if rule := run.Tool.Driver.Rules[res.RuleIndex]; rule.ID != res.RuleID {
			t.Errorf("result %s points at rule %s", res.RuleID, rule.ID)
		}
	}
	got := map[string]string{}
	for _, rule := range run.Tool.Driver.Rules {
		got[rule.ID] = rule.HelpURI + " " + rule.DefaultConfiguration.Level
	}
	want := map[string]string{
		"DL1000":           " error",
		"DL9901":           " warning",
		"DL9904":           "https://example.com/rules/DL9904 note",
		"SC2086":           "https://www.shellcheck.net/wiki/SC2086 note",
		"StrataTestDebian": " note",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("rule %s: helpUri and level %q, want %q", id, got[id], w)
		}
	}
	uris := map[string]string{}
	levels := map[string]string{}
	for _, res := range run.Results {
		uris[res.RuleID+res.Level] = res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		levels[res.RuleID+" "+res.Level] = "ok"
	}
	for key, w := range map[string]string{
		"DL1000error":           "dir%20with%20space/Dockerfile",
		"StrataTestDebianerror": "file:///abs/path/a:b.Dockerfile",
		"SC2086note":            "Dockerfile",
		"DL9901none":            "-",
	} {
		if uris[key] != w {
			t.Errorf("result %s: uri %q, want %q", key, uris[key], w)
		}
	}
	for _, l := range []string{"DL9901 warning", "StrataTestDebian note", "DL9904 note", "SC2086 note", "DL1000 error", "DL9901 none"} {
		if levels[l] == "" {
			t.Errorf("no result %s", l)
		}
	}
}

// The XML formats parse back.
func TestFormatXMLParses(t *testing.T) {
	r := formatReport(t)
	r.Findings = append(r.Findings, Finding{Code: "DL1000", Severity: Error, Message: "bad \"quote\" <here>\nand a newline", File: "a&b/Dockerfile", Line: 1})

	var cs struct {
		XMLName xml.Name `xml:"checkstyle"`
		Version string   `xml:"version,attr"`
		Files   []struct {
			Name   string `xml:"name,attr"`
			Errors []struct {
				Line     int    `xml:"line,attr"`
				Column   int    `xml:"column,attr"`
				Severity string `xml:"severity,attr"`
				Message  string `xml:"message,attr"`
				Source   string `xml:"source,attr"`
			} `xml:"error"`
		} `xml:"file"`
	}
	var b bytes.Buffer
	if err := Format(&b, "checkstyle", r, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), &cs); err != nil {
		t.Fatalf("checkstyle does not parse: %v\n%s", err, b.Bytes())
	}
	if cs.Version != "4.3" || len(cs.Files) != 3 || cs.Files[0].Name != "Dockerfile" || len(cs.Files[0].Errors) != 4 || len(cs.Files[1].Errors) != 0 {
		t.Fatalf("checkstyle read back: %+v", cs)
	}
	if e := cs.Files[0].Errors[3]; e.Line != 4 || e.Column != 1 || e.Severity != "style" || e.Message != `test: LABEL a="<b> & 'c'"` || e.Source != "DL9904" {
		t.Errorf("checkstyle error read back: %+v", e)
	}
	if f := cs.Files[2]; f.Name != "a&b/Dockerfile" || f.Errors[0].Message != "bad \"quote\" <here>\nand a newline" {
		t.Errorf("checkstyle escaping: %+v", f)
	}

	var ju struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b.Reset()
	if err := Format(&b, "junit", r, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), &ju); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, b.Bytes())
	}
	if ju.Tests != 6 || ju.Failures != 4 || ju.Errors != 1 || len(ju.Suites) != 3 {
		t.Fatalf("junit read back: %+v", ju)
	}
	if s := ju.Suites[0]; s.Tests != 4 || s.Failures != 4 || s.Cases[1].Failure == nil || s.Cases[1].Failure.Type != "warning" ||
		s.Cases[1].Failure.Text != "Dockerfile:2 DL9901 warning: test: a RUN" {
		t.Errorf("junit suite read back: %+v", s)
	}
	if s := ju.Suites[1]; s.Name != "clean/Dockerfile" || s.Tests != 1 || len(s.Cases) != 1 || s.Cases[0].Failure != nil {
		t.Errorf("junit clean suite: %+v", s)
	}
	if s := ju.Suites[2]; s.Errors != 1 || s.Cases[0].Error == nil || s.Cases[0].Error.Message != "bad \"quote\" <here>\nand a newline" {
		t.Errorf("junit syntax error suite: %+v", s)
	}
}

// The JSON formats parse back with hadolint's field names.
func TestFormatJSONParses(t *testing.T) {
	r := formatReport(t)
	var b bytes.Buffer
	if err := Format(&b, "json", r, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("json: %d findings, want 4", len(got))
	}
	for _, key := range []string{"code", "column", "file", "level", "line", "message"} {
		if _, ok := got[0][key]; !ok {
			t.Errorf("json finding lacks %q: %v", key, got[0])
		}
	}
	b.Reset()
	if err := Format(&b, "codeclimate", r, FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(strings.TrimSuffix(b.String(), "\x00"), "\x00")
	fingerprints := map[string]bool{}
	for _, d := range docs {
		var issue ccIssue
		if err := json.Unmarshal([]byte(d), &issue); err != nil {
			t.Fatalf("codeclimate issue %q: %v", d, err)
		}
		if len(issue.Fingerprint) != 40 || fingerprints[issue.Fingerprint] {
			t.Errorf("codeclimate fingerprint %q missing or repeated", issue.Fingerprint)
		}
		fingerprints[issue.Fingerprint] = true
	}
	if len(docs) != 4 {
		t.Errorf("codeclimate: %d issues, want 4", len(docs))
	}
}

// A fingerprint does not change when the finding moves to another line.
func TestCodeClimateFingerprintIgnoresLines(t *testing.T) {
	f := Finding{Code: "DL3008", Severity: Warning, Message: "m", File: "Dockerfile", Line: 3}
	a := ccIssues(Report{Findings: []Finding{f, f}})
	f.Line = 10
	b := ccIssues(Report{Findings: []Finding{f, f}})
	if a[0].Fingerprint != b[0].Fingerprint || a[1].Fingerprint != b[1].Fingerprint {
		t.Errorf("fingerprints moved with the line: %v %v", a, b)
	}
	if a[0].Fingerprint == a[1].Fingerprint {
		t.Errorf("two identical findings share a fingerprint")
	}
}
