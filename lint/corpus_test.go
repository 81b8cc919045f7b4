package lint

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The corpus is testdata/lint/corpus (every file in it) plus every
// Dockerfile elsewhere under the repository's testdata/ and examples/.
// Paths are relative to the repository root, with forward slashes.
const (
	corpusDir    = "testdata/lint/corpus"
	corpusGolden = "testdata/lint/corpus.golden"
	// corpusMin is the floor for the corpus size.
	corpusMin = 50
)

func init() {
	// Other golden tests of this package may declare -update too; one flag
	// serves them all.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// corpusFile is one Dockerfile of the corpus.
type corpusFile struct {
	Name string // repository-relative path
	Src  []byte
}

// repoRoot is the repository root as seen from the package directory.
const repoRoot = ".."

// isDockerfileName reports whether a file name is one that `strata lint`
// picks up in a directory.
func isDockerfileName(name string) bool {
	lower := strings.ToLower(name)
	return lower == "dockerfile" || lower == "containerfile" ||
		strings.HasPrefix(lower, "dockerfile.") || strings.HasSuffix(lower, ".dockerfile") ||
		strings.HasSuffix(lower, ".containerfile")
}

// loadCorpus reads the corpus in a stable order.
func loadCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	var files []corpusFile
	add := func(name string) {
		src, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, corpusFile{Name: name, Src: src})
	}
	for _, top := range []string{"testdata", "examples"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				// Conformance cases that expect both builders to fail are
				// broken on purpose.
				if _, err := os.Stat(filepath.Join(p, "expect-error")); err == nil {
					return filepath.SkipDir
				}
				return nil
			}
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			if strings.HasPrefix(name, corpusDir+"/") || isDockerfileName(d.Name()) {
				add(name)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	// testdata/busybox commits a script, not its Dockerfile: take the
	// Dockerfile from the script's heredoc.
	const script = "testdata/busybox/make-context.sh"
	src, err := os.ReadFile(filepath.Join(repoRoot, script))
	if err != nil {
		tb.Fatal(err)
	}
	df, ok := heredocBody(src, "DOCKERFILE")
	if !ok {
		tb.Fatalf("%s: no DOCKERFILE heredoc", script)
	}
	files = append(files, corpusFile{Name: path.Join(path.Dir(script), "Dockerfile"), Src: df})
	slices.SortFunc(files, func(a, b corpusFile) int { return strings.Compare(a.Name, b.Name) })
	return files
}

// heredocBody returns the body of the first <<'DELIM' heredoc in a shell
// script.
func heredocBody(script []byte, delim string) ([]byte, bool) {
	_, rest, ok := bytes.Cut(script, []byte("<<'"+delim+"'\n"))
	if !ok {
		return nil, false
	}
	body, _, ok := bytes.Cut(rest, []byte("\n"+delim+"\n"))
	if !ok {
		return nil, false
	}
	return append(body, '\n'), true
}

// TestCorpusParsesWithBuildKit checks that every corpus file is one BuildKit
// accepts, so that lint findings on it are about style, not syntax.
func TestCorpusParsesWithBuildKit(t *testing.T) {
	files := loadCorpus(t)
	n := 0
	for _, f := range files {
		if strings.HasPrefix(f.Name, corpusDir+"/") {
			n++
		}
	}
	if n < corpusMin {
		t.Errorf("%s holds %d files, want at least %d", corpusDir, n, corpusMin)
	}
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			res, err := parser.Parse(bytes.NewReader(f.Src))
			if err != nil {
				t.Fatalf("parser.Parse(%s) = %v", f.Name, err)
			}
			if _, _, err := instructions.Parse(res.AST, nil); err != nil {
				t.Fatalf("instructions.Parse(%s) = %v", f.Name, err)
			}
		})
	}
}

// corpusConfig is the configuration the corpus is linted with: defaults,
// every experimental rule on, no shellcheck (whose findings depend on the
// installed version; TestCorpusShellcheck covers it).
func corpusConfig() *Config {
	cfg := DefaultConfig()
	cfg.Experimental = true
	cfg.Shellcheck = false
	return cfg
}

// TestCorpusLints lints every corpus file: no panic, no syntax finding,
// findings that satisfy checkFindings, and per file the codes recorded in
// testdata/lint/corpus.golden (rewrite with `go test ./lint -run Corpus
// -update`, then review the diff).
func TestCorpusLints(t *testing.T) {
	files := loadCorpus(t)
	var golden strings.Builder
	golden.WriteString("# Codes `strata lint` reports on each corpus file (sorted, each once), with\n")
	golden.WriteString("# experimental rules on, shellcheck off. Regenerate: go test ./lint -run Corpus -update\n")
	for _, f := range files {
		var codes []string
		t.Run(f.Name, func(t *testing.T) {
			findings := lintNoPanic(t, f.Name, f.Src, corpusConfig())
			checkFindings(t, f.Name, f.Src, findings)
			for _, fd := range findings {
				if fd.Code == "DL1000" {
					t.Errorf("Lint(%s) = syntax finding at line %d: %s", f.Name, fd.Line, fd.Message)
				}
				codes = append(codes, fd.Code)
			}
		})
		slices.Sort(codes)
		codes = slices.Compact(codes)
		if len(codes) == 0 {
			codes = []string{"-"}
		}
		fmt.Fprintf(&golden, "%s: %s\n", f.Name, strings.Join(codes, " "))
	}
	goldenPath := filepath.Join(repoRoot, corpusGolden)
	if updateGolden() {
		if err := os.WriteFile(goldenPath, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if got := golden.String(); got != string(want) {
		t.Errorf("corpus codes differ from %s (review, then rewrite with -update):\n%s", corpusGolden, lineDiff(string(want), got))
	}
}

// TestCorpusShellcheck lints the corpus with shellcheck: no panic, and
// every ShellCheck finding inside a RUN (or ONBUILD RUN) instruction.
func TestCorpusShellcheck(t *testing.T) {
	needShellcheck(t)
	cfg := corpusConfig()
	cfg.Shellcheck = true
	for _, f := range loadCorpus(t) {
		t.Run(f.Name, func(t *testing.T) {
			findings := lintNoPanic(t, f.Name, f.Src, cfg)
			checkFindings(t, f.Name, f.Src, findings)
			doc := Parse(f.Name, f.Src)
			for _, fd := range findings {
				if !strings.HasPrefix(fd.Code, "SC") {
					continue
				}
				in := slices.IndexFunc(doc.All, func(in *Instruction) bool {
					isRun := in.Is("run") || in.Trigger != nil && in.Trigger.Is("run")
					return isRun && in.Line <= fd.Line && fd.Line <= in.EndLine
				})
				if in < 0 {
					t.Errorf("Lint(%s): %s at line %d, outside any RUN: %s", f.Name, fd.Code, fd.Line, fd.Message)
				}
			}
		})
	}
}

// lintNoPanic runs Lint and turns a panic into a test failure that names
// the file.
func lintNoPanic(t *testing.T, file string, src []byte, cfg *Config) (findings []Finding) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Lint(%s) panicked: %v", file, p)
		}
	}()
	return Lint(file, src, cfg)
}

// lineDiff lists the lines only in want (-) and only in got (+), matched
// by the file name before the colon.
func lineDiff(want, got string) string {
	index := func(s string) map[string]string {
		m := map[string]string{}
		for _, l := range strings.Split(s, "\n") {
			if k, _, ok := strings.Cut(l, ": "); ok && !strings.HasPrefix(l, "#") {
				m[k] = l
			}
		}
		return m
	}
	w, g := index(want), index(got)
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		if w[k] != g[k] {
			if w[k] != "" {
				fmt.Fprintf(&sb, "- %s\n", w[k])
			}
			if g[k] != "" {
				fmt.Fprintf(&sb, "+ %s\n", g[k])
			}
		}
	}
	if sb.Len() == 0 {
		return "(only the header differs)"
	}
	return sb.String()
}
