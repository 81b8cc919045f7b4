package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests run `strata lint` and `strata build --check` as users do:
// the binary (strataBin), files in a temporary repository, a HOME without
// configuration and no HADOLINT_* variables but those a case sets. They
// need neither root nor a registry.

// DL1001 is the engine's own rule, so these tests do not move when other
// rules change: off by default, a warning with this configuration.
const (
	dl1001Config  = "override:\n  warning: [DL1001]\n"
	pragmaFile    = "FROM scratch\n# hadolint ignore=DL3008\n"
	cleanFile     = "FROM scratch\n"
	dl1001Message = "Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`."
)

// lintRepo makes a temporary git repository (a .git folder, where the
// configuration lookup stops) with files (path → content).
func lintRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// strataIn runs strata in dir with stdin and the environment variables
// env ("K=V") on top of a clean one.
func strataIn(t *testing.T, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(strataBin(t), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "HADOLINT_") || k == "NO_COLOR" || k == "HOME" || k == "XDG_CONFIG_HOME" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running strata: %v", err)
	}
	return r
}

func TestLintCommand(t *testing.T) {
	warning := "Dockerfile:2 DL1001 warning: " + dl1001Message + "\n"
	cases := []struct {
		name   string
		files  map[string]string
		dir    string // where to run, under the repository
		stdin  string
		env    []string
		args   []string
		code   int
		stdout string // exact
		stderr string // contained
	}{
		{name: "clean", files: map[string]string{"Dockerfile": cleanFile}, code: 0},
		{name: "finding", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			code: 1, stdout: warning, stderr: "1 finding(s) at or above info"},
		{name: "finding below the default threshold", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": "override:\n  style: [DL1001]\n"},
			code: 0, stdout: "Dockerfile:2 DL1001 style: " + dl1001Message + "\n"},
		{name: "explicit path", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"Dockerfile"}, code: 1, stdout: warning},
		{name: "--no-fail", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--no-fail"}, code: 0, stdout: warning},
		{name: "no-fail in the file", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config + "no-fail: true\n"},
			code: 0, stdout: warning},
		{name: "HADOLINT_NOFAIL", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"HADOLINT_NOFAIL=1"}, code: 0, stdout: warning},
		{name: "threshold above", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--failure-threshold", "error"}, code: 0, stdout: warning},
		{name: "threshold at", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"-t", "warning"}, code: 1, stdout: warning, stderr: "at or above warning"},
		{name: "threshold none", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": "override:\n  style: [DL1001]\n"},
			args: []string{"-t", "none"}, code: 1, stdout: "Dockerfile:2 DL1001 style: " + dl1001Message + "\n"},
		{name: "environment over the file", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config + "failure-threshold: warning\n"},
			env: []string{"HADOLINT_FAILURE_THRESHOLD=error"}, code: 0, stdout: warning},
		{name: "flag over the environment", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"HADOLINT_FAILURE_THRESHOLD=error"}, args: []string{"-t", "warning"}, code: 1, stdout: warning},
		{name: "--ignore", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--ignore", "DL1001"}, code: 0},
		{name: "HADOLINT_IGNORE", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"HADOLINT_IGNORE=DL3008,DL1001"}, code: 0},
		{name: "--error", files: map[string]string{"Dockerfile": pragmaFile},
			args: []string{"--error", "DL1001"}, code: 1, stdout: "Dockerfile:2 DL1001 error: " + dl1001Message + "\n"},
		{name: "global ignore", files: map[string]string{"Dockerfile": "# hadolint global ignore=DL1001\n" + pragmaFile, ".hadolint.yaml": dl1001Config},
			code: 0},
		{name: "json", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--format", "json"}, code: 1,
			stdout: `[{"code":"DL1001","column":1,"file":"Dockerfile","level":"warning","line":2,"message":"` + dl1001Message + `"}]` + "\n"},
		{name: "HADOLINT_FORMAT", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"HADOLINT_FORMAT=gnu"}, code: 1, stdout: "Dockerfile:2:1: DL1001 warning: " + dl1001Message + "\n"},
		{name: "format flag over HADOLINT_FORMAT", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"HADOLINT_FORMAT=gnu"}, args: []string{"-f", "tty"}, code: 1, stdout: warning},
		{name: "no colour off a terminal", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config},
			env: []string{"TERM=xterm-256color"}, code: 1, stdout: warning},
		{name: "standard input", files: map[string]string{".hadolint.yaml": dl1001Config},
			stdin: pragmaFile, args: []string{"-"}, code: 1, stdout: "-:2 DL1001 warning: " + dl1001Message + "\n"},
		{name: "configuration from the Dockerfile's folder", files: map[string]string{"sub/dir/Dockerfile": pragmaFile, "sub/.hadolint.yaml": dl1001Config},
			args: []string{"sub/dir/Dockerfile"}, code: 1, stdout: "sub/dir/Dockerfile:2 DL1001 warning: " + dl1001Message + "\n"},
		{name: "configuration from the folder, run elsewhere", files: map[string]string{"sub/Dockerfile": pragmaFile, "sub/.hadolint.yaml": dl1001Config, "other/x": ""},
			dir: "other", args: []string{"../sub/Dockerfile"}, code: 1, stdout: "../sub/Dockerfile:2 DL1001 warning: " + dl1001Message + "\n"},
		{name: "--config", files: map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config, "ci.yaml": "override:\n  error: [DL1001]\n"},
			args: []string{"--config", "ci.yaml"}, code: 1, stdout: "Dockerfile:2 DL1001 error: " + dl1001Message + "\n"},
		{name: "--verbose", files: map[string]string{"Dockerfile": cleanFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--verbose"}, code: 0, stderr: "Dockerfile: configuration "},
		{name: "syntax error", files: map[string]string{"Dockerfile": "FROM scratch\nRUNN x\n"},
			code: 1, stdout: "Dockerfile:2 DL1000 error: unknown instruction: RUNN (did you mean RUN?)\n"},
		{name: "--disable-ignore-pragma", files: map[string]string{"Dockerfile": "# hadolint global ignore=DL1001\n" + pragmaFile, ".hadolint.yaml": dl1001Config},
			args: []string{"--disable-ignore-pragma"}, code: 1, stdout: "Dockerfile:3 DL1001 warning: " + dl1001Message + "\n"},

		// Usage and configuration errors: exit 2, nothing on stdout.
		{name: "unknown key", files: map[string]string{"Dockerfile": cleanFile, ".hadolint.yaml": "ignore: [DL3008]\n"},
			code: 2, stderr: ".hadolint.yaml:1: ignore: unknown key (did you mean ignored?)"},
		{name: "unknown severity", files: map[string]string{"Dockerfile": cleanFile, ".hadolint.yaml": "override:\n  fatal: [DL3008]\n"},
			code: 2, stderr: ".hadolint.yaml:2: override.fatal: unknown severity"},
		{name: "unknown label type", files: map[string]string{"Dockerfile": cleanFile, ".hadolint.yaml": "label-schema:\n  version: number\n"},
			code: 2, stderr: `.hadolint.yaml:2: label-schema.version: unknown label type "number"`},
		{name: "bad environment", files: map[string]string{"Dockerfile": cleanFile},
			env: []string{"HADOLINT_FAILURE_THRESHOLD=severe"}, code: 2, stderr: "environment variable HADOLINT_FAILURE_THRESHOLD"},
		{name: "missing --config", files: map[string]string{"Dockerfile": cleanFile},
			args: []string{"--config", "nope.yaml"}, code: 2, stderr: "nope.yaml"},
		{name: "unknown format", files: map[string]string{"Dockerfile": cleanFile},
			args: []string{"-f", "xml"}, code: 2, stderr: `unknown format "xml"`},
		{name: "unknown threshold", files: map[string]string{"Dockerfile": cleanFile},
			args: []string{"-t", "severe"}, code: 2, stderr: "--failure-threshold"},
		{name: "bad --require-label", files: map[string]string{"Dockerfile": cleanFile},
			args: []string{"--require-label", "version"}, code: 2, stderr: "--require-label"},
		{name: "unknown flag", files: map[string]string{"Dockerfile": cleanFile},
			args: []string{"--colour"}, code: 2},
		{name: "missing file", files: map[string]string{}, args: []string{"Nope"}, code: 2, stderr: "Nope"},
		{name: "no Dockerfile here", files: map[string]string{}, code: 2, stderr: "no Dockerfile in the current directory"},
		{name: "no Dockerfile in a folder", files: map[string]string{"docs/README": ""}, args: []string{"docs"}, code: 2, stderr: "no Dockerfiles found"},
		{name: "--diff alone", files: map[string]string{"Dockerfile": cleanFile}, args: []string{"--diff"}, code: 2},

		// Rule documentation.
		{name: "--explain", args: []string{"--explain", "DL1001"}, code: 0,
			stdout: "DL1001 (off by default)\n" + dl1001Message + "\n"},
		{name: "--explain in lower case", args: []string{"--explain", "dl1001"}, code: 0,
			stdout: "DL1001 (off by default)\n" + dl1001Message + "\n"},
		{name: "--explain unknown", args: []string{"--explain", "DL10001"}, code: 2, stderr: `unknown rule "DL10001" (did you mean DL1001?)`},
		{name: "--explain nothing like it", args: []string{"--explain", "Zzzzzzzz"}, code: 2, stderr: "see --list-rules"},
		{name: "--list-rules", args: []string{"--list-rules"}, code: 0, stdout: "DL1001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.files == nil {
				tc.files = map[string]string{}
			}
			dir := lintRepo(t, tc.files)
			r := strataIn(t, filepath.Join(dir, tc.dir), tc.stdin, tc.env, append([]string{"lint"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("strata lint %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), r.code, tc.code, r.stdout, r.stderr)
			}
			switch {
			case strings.HasPrefix(tc.name, "--explain") && tc.code == 0:
				if !strings.HasPrefix(r.stdout, tc.stdout) {
					t.Errorf("stdout = %q, want it to start with %q", r.stdout, tc.stdout)
				}
			case tc.name == "--list-rules":
				if !strings.Contains(r.stdout, tc.stdout) {
					t.Errorf("stdout = %q, want it to list %s", r.stdout, tc.stdout)
				}
			case r.stdout != tc.stdout:
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, tc.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.stderr)
			}
		})
	}
}

func TestLintDirectories(t *testing.T) {
	files := map[string]string{
		".hadolint.yaml":                    dl1001Config,
		"Dockerfile":                        pragmaFile,
		"a/Dockerfile":                      pragmaFile,
		"b/x.Dockerfile":                    pragmaFile,
		"b/Dockerfile.dev":                  pragmaFile,
		"b/Dockerfile.dev.dockerignore":     "*\n",
		"c/Containerfile":                   pragmaFile,
		"c/app.containerfile":               pragmaFile,
		"c/notes.txt":                       "not a Dockerfile\n",
		".git/Dockerfile":                   pragmaFile,
		"vendor/Dockerfile":                 pragmaFile,
		"deep/vendor/Dockerfile":            pragmaFile,
		"deep/keep/Dockerfile":              pragmaFile,
		"deep/keep/generated.Dockerfile":    pragmaFile,
		"deep/keep/Dockerfile.dockerignore": "*\n",
	}
	dir := lintRepo(t, files)
	lines := func(paths ...string) string {
		var b strings.Builder
		for _, p := range paths {
			b.WriteString(p + ":2:1: DL1001 warning: " + dl1001Message + "\n")
		}
		return b.String()
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"everything", []string{"."}, lines("Dockerfile", "a/Dockerfile", "b/Dockerfile.dev", "b/x.Dockerfile", "c/Containerfile", "c/app.containerfile",
			"deep/keep/Dockerfile", "deep/keep/generated.Dockerfile", "deep/vendor/Dockerfile", "vendor/Dockerfile")},
		{"exclude at any depth", []string{".", "--exclude", "vendor"}, lines("Dockerfile", "a/Dockerfile", "b/Dockerfile.dev", "b/x.Dockerfile", "c/Containerfile", "c/app.containerfile",
			"deep/keep/Dockerfile", "deep/keep/generated.Dockerfile")},
		{"anchored exclude", []string{".", "--exclude", "/vendor/"}, lines("Dockerfile", "a/Dockerfile", "b/Dockerfile.dev", "b/x.Dockerfile", "c/Containerfile", "c/app.containerfile",
			"deep/keep/Dockerfile", "deep/keep/generated.Dockerfile", "deep/vendor/Dockerfile")},
		{"exclude, re-include, exclude", []string{"deep", "b", "--exclude", "deep/*", "--exclude", "!deep/keep", "--exclude", "*.Dockerfile"},
			lines("deep/keep/Dockerfile", "b/Dockerfile.dev")},
		{"files and folders", []string{"c", "a/Dockerfile"}, lines("c/Containerfile", "c/app.containerfile", "a/Dockerfile")},
		{"excluded file", []string{"a/Dockerfile", "vendor/Dockerfile", "--exclude", "vendor"}, lines("a/Dockerfile")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := strataIn(t, dir, "", nil, append([]string{"lint", "-f", "gnu"}, tc.args...)...)
			if r.code != 1 || r.stdout != tc.want {
				t.Errorf("strata lint %s: exit %d\n%s\nwant exit 1 and\n%s\nstderr: %s", strings.Join(tc.args, " "), r.code, r.stdout, tc.want, r.stderr)
			}
		})
	}
}

// Several files make one document: one SARIF run, one JSON array.
func TestLintSeveralFilesOneDocument(t *testing.T) {
	dir := lintRepo(t, map[string]string{
		".hadolint.yaml": dl1001Config,
		"a/Dockerfile":   pragmaFile,
		"b/Dockerfile":   pragmaFile + "# hadolint ignore=DL3006\n",
		"c/Dockerfile":   cleanFile,
	})
	r := strataIn(t, dir, "", nil, "lint", "-f", "sarif", "a", "b", "c")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	var log struct {
		Version string
		Runs    []struct {
			Tool    struct{ Driver struct{ Name string } }
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatalf("SARIF output: %v\n%s", err, r.stdout)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "strata" {
		t.Fatalf("want one SARIF 2.1.0 run by strata, got %+v", log)
	}
	var got []string
	for _, res := range log.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		got = append(got, res.RuleID+"@"+loc.ArtifactLocation.URI+":"+strconv.Itoa(loc.Region.StartLine))
	}
	if want := "DL1001@a/Dockerfile:2 DL1001@b/Dockerfile:2 DL1001@b/Dockerfile:3"; strings.Join(got, " ") != want {
		t.Errorf("SARIF results %v, want %s", got, want)
	}

	r = strataIn(t, dir, "", nil, "lint", "-f", "json", "a", "b", "c")
	var findings []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &findings); err != nil || len(findings) != 3 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("JSON output for three files: %v\n%s", err, r.stdout)
	}
}

func TestLintFix(t *testing.T) {
	if r := strataIn(t, t.TempDir(), "", nil, "lint", "--explain", "FromAsCasing"); r.code != 0 {
		t.Skip("FromAsCasing, the fixable rule this test uses, is not registered")
	}
	const before = "FROM scratch as base\n# keep me\nCOPY a /a\n"
	const after = "FROM scratch AS base\n# keep me\nCOPY a /a\n"
	dir := lintRepo(t, map[string]string{"Dockerfile": before})
	if err := os.Chmod(filepath.Join(dir, "Dockerfile"), 0o640); err != nil {
		t.Fatal(err)
	}

	r := strataIn(t, dir, "", nil, "lint", "--fix", "--diff")
	wantDiff := "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n-FROM scratch as base\n+FROM scratch AS base\n # keep me\n COPY a /a\n"
	if r.code != 1 || r.stdout != wantDiff {
		t.Errorf("--fix --diff: exit %d, stdout\n%s\nwant exit 1 and\n%s\nstderr: %s", r.code, r.stdout, wantDiff, r.stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "Dockerfile")); string(data) != before {
		t.Errorf("--fix --diff changed the file:\n%s", data)
	}

	r = strataIn(t, dir, before, nil, "lint", "--fix", "-")
	if r.code != 0 || r.stdout != after {
		t.Errorf("--fix -: exit %d, stdout\n%s\nwant\n%s\nstderr: %s", r.code, r.stdout, after, r.stderr)
	}

	r = strataIn(t, dir, "", nil, "lint", "--fix")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("--fix: exit %d, stdout %q (what is left after fixing), stderr %s", r.code, r.stdout, r.stderr)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if string(data) != after {
		t.Errorf("--fix wrote\n%s\nwant\n%s", data, after)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "Dockerfile")); fi.Mode().Perm() != 0o640 {
		t.Errorf("--fix changed the mode to %v", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".strata-") {
			t.Errorf("--fix left %s behind", e.Name())
		}
	}

	r = strataIn(t, dir, "", nil, "lint", "--fix", "--diff")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("--fix --diff of a fixed file: exit %d, stdout %q", r.code, r.stdout)
	}

	// A symbolic link stays a link to the fixed file.
	if err := os.WriteFile(filepath.Join(dir, "real.Dockerfile"), []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.Dockerfile", filepath.Join(dir, "link.Dockerfile")); err != nil {
		t.Fatal(err)
	}
	if r = strataIn(t, dir, "", nil, "lint", "--fix", "link.Dockerfile"); r.code != 0 {
		t.Errorf("--fix through a link: exit %d, stderr %s", r.code, r.stderr)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link.Dockerfile")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("--fix replaced the link: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "real.Dockerfile")); string(data) != after {
		t.Errorf("--fix through a link wrote\n%s", data)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\nthirteen"
	want := "--- a/Dockerfile\n+++ b/Dockerfile\n" +
		"@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n" +
		"@@ -9,4 +9,5 @@\n 9\n 10\n 11\n-12\n+twelve\n+thirteen\n\\ No newline at end of file\n"
	if got := unifiedDiff("Dockerfile", []byte(a), []byte(b)); got != want {
		t.Errorf("unifiedDiff =\n%s\nwant\n%s", got, want)
	}
	// Edits close together share a hunk.
	got := unifiedDiff("D", []byte("a\nb\nc\nd\ne\n"), []byte("A\nb\nc\nd\nE\n"))
	if want := "--- a/D\n+++ b/D\n@@ -1,5 +1,5 @@\n-a\n+A\n b\n c\n d\n-e\n+E\n"; got != want {
		t.Errorf("unifiedDiff =\n%s\nwant\n%s", got, want)
	}
	// Adding to an empty file.
	got = unifiedDiff("D", nil, []byte("x\n"))
	if want := "--- a/D\n+++ b/D\n@@ -0,0 +1,1 @@\n+x\n"; got != want {
		t.Errorf("unifiedDiff =\n%s\nwant\n%s", got, want)
	}
}

func TestBuildCheck(t *testing.T) {
	dir := lintRepo(t, map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": dl1001Config})
	r := strataIn(t, dir, "", nil, "build", "--check", "--cache-dir", t.TempDir(), ".")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "Dockerfile:2 DL1001 warning: "+dl1001Message+"\n") || !strings.Contains(r.stderr, "not building") {
		t.Errorf("build --check with a warning: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// From standard input, with the configuration of the current directory.
	r = strataIn(t, dir, pragmaFile, nil, "build", "--check", "--cache-dir", t.TempDir(), "-f", "-", ".")
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2 DL1001 warning: ") {
		t.Errorf("build --check -f -: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	dir = lintRepo(t, map[string]string{"Dockerfile": pragmaFile, ".hadolint.yaml": "ignore: [DL3008]\n"})
	r = strataIn(t, dir, "", nil, "build", "--check", "--cache-dir", t.TempDir(), ".")
	if r.code != 2 || !strings.Contains(r.stderr, ".hadolint.yaml:1: ignore: unknown key") {
		t.Errorf("build --check with a bad configuration: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// Without shellcheck, lint says so on stderr, unless told not to run it.
func TestLintWithoutShellcheck(t *testing.T) {
	dir := lintRepo(t, map[string]string{"Dockerfile": cleanFile})
	r := strataIn(t, dir, "", []string{"PATH=" + t.TempDir()}, "lint")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "note: shellcheck is not installed") {
		t.Errorf("no shellcheck: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = strataIn(t, dir, "", []string{"PATH=" + t.TempDir()}, "lint", "--no-shellcheck")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("--no-shellcheck: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// Engine behaviour end to end on real rules: the experimental switch, the
// check directive, and a BuildKit check that is the same as a hadolint
// rule (MaintainerDeprecated is DL4000).
func TestLintRealRules(t *testing.T) {
	for _, code := range []string{"InvalidDefinitionDescription", "MaintainerDeprecated", "DL4000", "StageNameCasing"} {
		if r := strataIn(t, t.TempDir(), "", nil, "lint", "--explain", code); r.code != 0 {
			t.Skipf("%s is not registered", code)
		}
	}
	const described = "FROM scratch\n# some words\nARG x=1\n"
	const maintainer = "FROM scratch\nMAINTAINER someone\n"
	cases := []struct {
		name, src  string
		args       []string
		has, lacks string
	}{
		{"experimental rules are off", described, nil, "", "InvalidDefinitionDescription"},
		{"--experimental", described, []string{"--experimental"}, "-:3:1: InvalidDefinitionDescription warning", ""},
		{"check=experimental", "# check=experimental=InvalidDefinitionDescription\n" + described, nil, "-:4:1: InvalidDefinitionDescription warning", ""},
		{"one finding for the same problem", maintainer, nil, "-:2:1: DL4000", "MaintainerDeprecated"},
		{"--ignore of the BuildKit name", maintainer, []string{"--ignore", "MaintainerDeprecated"}, "", "DL4000"},
		{"check=skip of the BuildKit name", "# check=skip=MaintainerDeprecated\n" + maintainer, nil, "", "DL4000"},
		{"a check is a warning", "FROM scratch AS Base\n", nil, "-:1:1: StageNameCasing warning", ""},
		{"check=error=true", "# check=error=true\nFROM scratch AS Base\n", nil, "-:2:1: StageNameCasing error", ""},
		{"inline ignore of the BuildKit name", "FROM scratch\n# hadolint ignore=MaintainerDeprecated\nMAINTAINER someone\n", nil, "", "DL4000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := strataIn(t, t.TempDir(), tc.src, nil, append([]string{"lint", "-f", "gnu", "--no-fail", "-"}, tc.args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, tc.has) || tc.lacks != "" && strings.Contains(r.stdout, tc.lacks) {
				t.Errorf("exit %d, stdout:\n%s\nwant it to have %q and not %q; stderr %s", r.code, r.stdout, tc.has, tc.lacks, r.stderr)
			}
		})
	}
}

// TestLintCopyIgnoredFile: strata lint reads the .dockerignore beside the
// Dockerfile (the <name>.dockerignore first), as docker build --check does
// for that folder as context.
func TestLintCopyIgnoredFile(t *testing.T) {
	dir := writeContext(t, "FROM alpine:3.20\nCOPY secret.txt /x\nCOPY app.txt /y\n", map[string]string{
		".dockerignore": "secret.txt\n", "secret.txt": "s", "app.txt": "a",
	})
	r := strata(t, "lint", "--format", "gnu", "--no-shellcheck", filepath.Join(dir, "Dockerfile"))
	if !strings.Contains(r.stdout, ":2:") || !strings.Contains(r.stdout, "CopyIgnoredFile") || strings.Contains(r.stdout, ":3:") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.dockerignore"), []byte("app.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = strata(t, "lint", "--format", "gnu", "--no-shellcheck", filepath.Join(dir, "Dockerfile"))
	if strings.Contains(r.stdout, ":2:") || !strings.Contains(r.stdout, ":3:") {
		t.Errorf("with Dockerfile.dockerignore, stdout:\n%s", r.stdout)
	}
}

// TestLintFixStdinReportsWhatRemains: `--fix -` prints the fixed file on
// stdout and still fails on the findings the fixes cannot remove.
func TestLintFixStdinReportsWhatRemains(t *testing.T) {
	r := strataIn(t, t.TempDir(), "FROM debian\nENV A b\n", nil, "lint", "--no-shellcheck", "--fix", "-")
	if r.stdout != "FROM debian\nENV A=b\n" || r.code != 1 || !strings.Contains(r.stderr, "DL3006") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = strataIn(t, t.TempDir(), "FROM debian:12\nENV A b\n", nil, "lint", "--no-shellcheck", "--fix", "-")
	if r.stdout != "FROM debian:12\nENV A=b\n" || r.code != 0 {
		t.Errorf("clean after fix: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
