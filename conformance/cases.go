package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The files of a case folder that configure the case; they are not part of the build
// context. Everything else in the folder is the context, Dockerfile included.
const (
	argsFile          = "args"                    // KEY=VALUE lines: build arguments
	targetFile        = "target"                  // the stage to build
	platformFile      = "platform"                // --platform, e.g. linux/amd64,linux/arm64
	setupFile         = "setup.sh"                // run in the context copy before building
	secretsFile       = "secrets"                 // ID=VALUE lines: --secret id=ID holding VALUE
	contextsFile      = "build-contexts"          // NAME=DIR lines: named contexts, folders of the case
	expectErrorFile   = "expect-error"            // both builders must fail
	expectedDiffsFile = "expected-differences.md" // deliberate differences, with reasons
)

var caseFiles = map[string]bool{
	argsFile: true, targetFile: true, platformFile: true, setupFile: true,
	expectErrorFile: true, expectedDiffsFile: true, secretsFile: true, contextsFile: true,
}

// Case is one folder under testdata/conformance.
type Case struct {
	Name     string
	Dir      string
	Args     []string // KEY=VALUE
	Target   string
	Platform string
	Secrets  []string // ID=VALUE
	Contexts []string // NAME=DIR, DIR relative to the case folder and not part of the context
	// ExpectError is set when both builders must fail; Errors are substrings each
	// builder's output must then contain ("strata: TEXT", "buildkit: TEXT" lines).
	ExpectError bool
	Errors      map[string][]string
	Expected    []Expected
}

// Expected is one documented difference: a pattern over Difference.Key and the reason.
type Expected struct {
	Pattern string
	Reason  string
	re      *regexp.Regexp
}

// Intermittent reports whether the reason starts with "intermittent": a difference that
// shows in some runs only, which the report does not ask to remove when it does not occur.
func (e Expected) Intermittent() bool {
	return strings.HasPrefix(strings.ToLower(e.Reason), "intermittent")
}

// Match reports whether the pattern covers the difference key: * matches any text, ?
// one character, the rest literally; the whole key must match. A pattern that names no
// platform also matches the key of any platform ("[linux/arm64] config Env").
func (e Expected) Match(key string) bool {
	if e.re.MatchString(key) {
		return true
	}
	if strings.HasPrefix(key, "[") && !strings.HasPrefix(e.Pattern, "[") {
		if _, rest, ok := strings.Cut(key, "] "); ok {
			return e.re.MatchString(rest)
		}
	}
	return false
}

func loadCases(root string) ([]*Case, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var cases []*Case
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		c, err := loadCase(filepath.Join(root, ent.Name()))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

func loadCase(dir string) (*Case, error) {
	c := &Case{Name: filepath.Base(dir), Dir: dir}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	lines, err := readLines(filepath.Join(dir, argsFile))
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	for _, l := range lines {
		if !strings.Contains(l, "=") {
			return nil, fmt.Errorf("case %s: %s: %q is not KEY=VALUE", c.Name, argsFile, l)
		}
		c.Args = append(c.Args, l)
	}
	for name, dst := range map[string]*[]string{secretsFile: &c.Secrets, contextsFile: &c.Contexts} {
		lines, err := readLines(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		for _, l := range lines {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" || v == "" {
				return nil, fmt.Errorf("case %s: %s: %q is not NAME=VALUE", c.Name, name, l)
			}
		}
		*dst = lines
	}
	for _, nc := range c.Contexts {
		_, rel, _ := strings.Cut(nc, "=")
		if !filepath.IsLocal(rel) || strings.Contains(rel, "/") {
			return nil, fmt.Errorf("case %s: %s: %q must name a folder of the case", c.Name, contextsFile, rel)
		}
		if fi, err := os.Stat(filepath.Join(dir, rel)); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("case %s: %s: %q is not a folder", c.Name, contextsFile, rel)
		}
	}
	for name, dst := range map[string]*string{targetFile: &c.Target, platformFile: &c.Platform} {
		lines, err := readLines(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		if len(lines) > 1 {
			return nil, fmt.Errorf("case %s: %s: one line expected", c.Name, name)
		}
		if len(lines) == 1 {
			*dst = lines[0]
		}
	}
	if _, err := os.Stat(filepath.Join(dir, expectErrorFile)); err == nil {
		c.ExpectError = true
		lines, err := readLines(filepath.Join(dir, expectErrorFile))
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		c.Errors = map[string][]string{}
		for _, l := range lines {
			who, text, ok := strings.Cut(l, ":")
			if ok && (who == "strata" || who == "buildkit") {
				c.Errors[who] = append(c.Errors[who], strings.TrimSpace(text))
			}
		}
	}
	c.Expected, err = readExpected(filepath.Join(dir, expectedDiffsFile))
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	return c, nil
}

// readLines returns the non-empty lines of a file that do not start with #; no file, no lines.
func readLines(name string) ([]string, error) {
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// expectedItem is a list item of expected-differences.md: "- `PATTERN`: reason" (or " — reason").
var expectedItem = regexp.MustCompile("^[-*] +`([^`]+)`\\s*(?::|—|-)?\\s*(.*)$")

// readExpected reads expected-differences.md. Each documented difference is a list item that
// starts with a pattern in backquotes and gives the reason after it; other lines are prose.
func readExpected(name string) ([]Expected, error) {
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Expected
	item := false // the previous line belongs to an item: indented lines continue its reason
	for _, l := range strings.Split(string(data), "\n") {
		m := expectedItem.FindStringSubmatch(strings.TrimSpace(l))
		switch {
		case m != nil:
			out = append(out, Expected{Pattern: m[1], Reason: strings.TrimSpace(m[2]), re: globRegexp(m[1])})
			item = true
		case item && strings.TrimSpace(l) != "" && (l[0] == ' ' || l[0] == '\t'):
			e := &out[len(out)-1]
			e.Reason = strings.TrimSpace(e.Reason + " " + strings.TrimSpace(l))
		default:
			item = false
		}
	}
	for _, e := range out {
		if e.Reason == "" {
			return nil, fmt.Errorf("%s: `%s` has no reason", filepath.Base(name), e.Pattern)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no documented difference (list items \"- `PATTERN`: reason\")", filepath.Base(name))
	}
	return out, nil
}

func globRegexp(pattern string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			sb.WriteString(".*")
		case '?':
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}
