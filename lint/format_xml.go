package lint

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// xmlAttr is an attribute's value escaped for a double-quoted attribute.
func xmlAttr(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to memory: no error
	return b.String()
}

// findingsByFile groups the report's findings by file, files in report
// order.
func findingsByFile(r Report) (files []string, byFile map[string][]Finding) {
	byFile = map[string][]Finding{}
	for _, f := range r.Findings {
		byFile[f.File] = append(byFile[f.File], f)
	}
	return reportFiles(r), byFile
}

// writeCheckstyle writes Checkstyle's XML, as hadolint does (checkstyle
// version 4.3, one <error> a finding, the code as its source), with an
// element for every file linted, clean ones included.
func writeCheckstyle(w io.Writer, r Report, _ FormatOptions) error {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<checkstyle version=\"4.3\">\n")
	files, byFile := findingsByFile(r)
	for _, file := range files {
		fs := byFile[file]
		if len(fs) == 0 {
			fmt.Fprintf(&b, "  <file name=\"%s\"></file>\n", xmlAttr(file))
			continue
		}
		fmt.Fprintf(&b, "  <file name=\"%s\">\n", xmlAttr(file))
		for _, f := range fs {
			fmt.Fprintf(&b, "    <error line=\"%d\" column=\"%d\" severity=\"%s\" message=\"%s\" source=\"%s\"></error>\n",
				f.Line, findingColumn(f), f.Severity, xmlAttr(f.Message), xmlAttr(f.Code))
		}
		b.WriteString("  </file>\n")
	}
	b.WriteString("</checkstyle>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJUnit writes JUnit's XML: a test suite a file, a failing test case
// a finding (a syntax error, DL1000, is an error rather than a failure),
// and one passing case for a clean file, so that CI shows it passed.
func writeJUnit(w io.Writer, r Report, _ FormatOptions) error {
	files, byFile := findingsByFile(r)
	var suites strings.Builder
	var tests, failures, errs int
	for _, file := range files {
		fs := byFile[file]
		name := xmlAttr(file)
		nfail, nerr := 0, 0
		var cases strings.Builder
		for _, f := range fs {
			elem := "failure"
			if f.Code == "DL1000" {
				elem = "error"
				nerr++
			} else {
				nfail++
			}
			fmt.Fprintf(&cases, "    <testcase name=\"%s\" classname=\"%s\" file=\"%s\" line=\"%d\">\n", xmlAttr(fmt.Sprintf("%s (line %d)", f.Code, f.Line)), name, name, f.Line)
			fmt.Fprintf(&cases, "      <%s type=\"%s\" message=\"%s\">%s</%s>\n", elem, f.Severity, xmlAttr(f.Message), xmlAttr(f.String()), elem)
			cases.WriteString("    </testcase>\n")
		}
		n := len(fs)
		if n == 0 {
			n = 1
			fmt.Fprintf(&cases, "    <testcase name=\"lint\" classname=\"%s\" file=\"%s\"></testcase>\n", name, name)
		}
		tests += n
		failures += nfail
		errs += nerr
		fmt.Fprintf(&suites, "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\">\n%s  </testsuite>\n", name, n, nfail, nerr, cases.String())
	}
	out := fmt.Sprintf("%s<testsuites name=\"strata lint\" tests=\"%d\" failures=\"%d\" errors=\"%d\">\n%s</testsuites>\n", xml.Header, tests, failures, errs, suites.String())
	_, err := io.WriteString(w, out)
	return err
}
