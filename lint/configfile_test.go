package lint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// envMap is an environment for LoadConfig.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigLookup(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string // under a temporary root; "home/" is $HOME
		env   map[string]string // values relative to the root for HOME and XDG_CONFIG_HOME
		df    string            // the Dockerfile, relative to the root
		want  string            // the file found, relative to the root; "" for none
	}{
		{
			name:  "next to the Dockerfile",
			files: map[string]string{"repo/.hadolint.yaml": "", "repo/Dockerfile": ""},
			df:    "repo/Dockerfile",
			want:  "repo/.hadolint.yaml",
		},
		{
			name:  "yml spelling",
			files: map[string]string{"repo/.hadolint.yml": ""},
			df:    "repo/Dockerfile",
			want:  "repo/.hadolint.yml",
		},
		{
			name:  "yaml before yml",
			files: map[string]string{"repo/.hadolint.yml": "", "repo/.hadolint.yaml": ""},
			df:    "repo/Dockerfile",
			want:  "repo/.hadolint.yaml",
		},
		{
			name:  "upward from the Dockerfile's folder",
			files: map[string]string{"repo/.git/HEAD": "", "repo/.hadolint.yaml": "", "repo/a/b/Dockerfile": ""},
			df:    "repo/a/b/Dockerfile",
			want:  "repo/.hadolint.yaml",
		},
		{
			name:  "the nearest wins",
			files: map[string]string{"repo/.hadolint.yaml": "", "repo/a/.hadolint.yml": ""},
			df:    "repo/a/b/Dockerfile",
			want:  "repo/a/.hadolint.yml",
		},
		{
			name:  "not above the git root",
			files: map[string]string{".hadolint.yaml": "", "repo/.git/HEAD": ""},
			df:    "repo/Dockerfile",
			want:  "",
		},
		{
			name:  "git root as a file (worktree)",
			files: map[string]string{".hadolint.yaml": "", "repo/.git": "gitdir: elsewhere"},
			df:    "repo/Dockerfile",
			want:  "",
		},
		{
			name:  "XDG_CONFIG_HOME",
			files: map[string]string{"repo/.git/HEAD": "", "xdg/hadolint.yaml": "", "home/.hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home", "XDG_CONFIG_HOME": "xdg"},
			df:    "repo/Dockerfile",
			want:  "xdg/hadolint.yaml",
		},
		{
			name:  "the project before the user",
			files: map[string]string{"repo/.git/HEAD": "", "repo/.hadolint.yaml": "", "xdg/hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home", "XDG_CONFIG_HOME": "xdg"},
			df:    "repo/Dockerfile",
			want:  "repo/.hadolint.yaml",
		},
		{
			name:  "~/.config without XDG_CONFIG_HOME",
			files: map[string]string{"repo/.git/HEAD": "", "home/.config/hadolint.yml": "", "home/.hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home"},
			df:    "repo/Dockerfile",
			want:  "home/.config/hadolint.yml",
		},
		{
			name:  "~/.config after XDG_CONFIG_HOME",
			files: map[string]string{"repo/.git/HEAD": "", "home/.config/hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home", "XDG_CONFIG_HOME": "xdg"},
			df:    "repo/Dockerfile",
			want:  "home/.config/hadolint.yaml",
		},
		{
			name:  "~/.hadolint/hadolint.yaml",
			files: map[string]string{"repo/.git/HEAD": "", "home/.hadolint/hadolint.yaml": "", "home/.hadolint/config.yaml": "", "home/.hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home"},
			df:    "repo/Dockerfile",
			want:  "home/.hadolint/hadolint.yaml",
		},
		{
			name:  "~/.hadolint/config.yaml",
			files: map[string]string{"repo/.git/HEAD": "", "home/.hadolint/config.yaml": "", "home/.hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home"},
			df:    "repo/Dockerfile",
			want:  "home/.hadolint/config.yaml",
		},
		{
			name:  "~/.hadolint.yaml last",
			files: map[string]string{"repo/.git/HEAD": "", "home/.hadolint.yaml": ""},
			env:   map[string]string{"HOME": "home"},
			df:    "repo/Dockerfile",
			want:  "home/.hadolint.yaml",
		},
		{
			name:  "a directory of that name is not a configuration",
			files: map[string]string{"repo/.git/HEAD": "", "repo/.hadolint.yaml/x": ""},
			df:    "repo/Dockerfile",
			want:  "",
		},
		{
			name:  "standard input: from the current directory",
			files: map[string]string{"cwd/.hadolint.yaml": ""},
			df:    "-",
			want:  "cwd/.hadolint.yaml",
		},
		{
			name:  "the current directory after the Dockerfile's",
			files: map[string]string{"cwd/.hadolint.yaml": "", "other/.git/HEAD": ""},
			df:    "other/Dockerfile",
			want:  "cwd/.hadolint.yaml",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			if err := os.MkdirAll(filepath.Join(root, "cwd"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(filepath.Join(root, "cwd"))
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = filepath.Join(root, v)
			}
			df := tc.df
			if df != "-" {
				df = filepath.Join(root, df)
			}
			cfg, err := LoadConfig(df, "", envMap(env))
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tc.want != "" {
				want = filepath.Join(root, tc.want)
			}
			if cfg.File != want {
				t.Errorf("LoadConfig(%s) used %q, want %q", tc.df, cfg.File, want)
			}
		})
	}
}

func TestConfigExplicitFile(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"repo/.hadolint.yaml": "ignored: [DL3006]\n",
		"ci.yaml":             "ignored: [DL3008]\n",
	})
	t.Chdir(root)
	cfg, err := LoadConfig(filepath.Join(root, "repo/Dockerfile"), filepath.Join(root, "ci.yaml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DL3008"}; !reflect.DeepEqual(cfg.Ignored, want) {
		t.Errorf("--config: Ignored = %q, want %q", cfg.Ignored, want)
	}
	_, err = LoadConfig("Dockerfile", filepath.Join(root, "missing.yaml"), envMap(nil))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != filepath.Join(root, "missing.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing --config file: err = %v, want a *ConfigError naming the file", err)
	}
}

func TestConfigFile(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		name string
		yaml string
		want *Config
	}{
		{name: "empty file", yaml: "", want: DefaultConfig()},
		{name: "only a comment", yaml: "# nothing here\n", want: DefaultConfig()},
		{
			name: "every key",
			yaml: `failure-threshold: warning
format: json
ignored:
  - DL3000
  - SC1010
label-schema:
  author: text
  contact: email
  created: rfc3339
  version: semver
  documentation: url
  git-revision: hash
  license: spdx
no-color: true
no-fail: yes
override:
  error: [DL3001, DL3002]
  warning:
    - DL3042
  info: [DL3032]
  style: [DL3015]
strict-labels: true
disable-ignore-pragma: true
verbose: on
trustedRegistries:
  - docker.io
  - my-company.com:5000
  - "*.gcr.io"
`,
			want: &Config{
				Ignored:           []string{"DL3000", "SC1010"},
				Override:          map[string]Severity{"DL3001": Error, "DL3002": Error, "DL3042": Warning, "DL3032": Info, "DL3015": Style},
				TrustedRegistries: []string{"docker.io", "my-company.com:5000", "*.gcr.io"},
				LabelSchema: map[string]string{"author": "text", "contact": "email", "created": "rfc3339", "version": "semver",
					"documentation": "url", "git-revision": "hash", "license": "spdx"},
				StrictLabels: true, FailureThreshold: Warning, NoFail: true, DisableIgnorePragma: true,
				Format: "json", Shellcheck: true, NoColor: true, Verbose: true,
			},
		},
		{
			name: "one trusted registry as a string, hadolint's other spellings",
			yaml: "trusted-registries: docker.io\noutput-format: sarif\n",
			want: &Config{TrustedRegistries: []string{"docker.io"}, FailureThreshold: Info, Format: "sarif", Shellcheck: true},
		},
		{
			name: "none is a threshold; null lists are empty",
			yaml: "failure-threshold: none\nignored:\noverride:\n",
			want: &Config{FailureThreshold: Ignore, Format: "tty", Shellcheck: true},
		},
		{
			name: "a code under two severities takes the worse",
			yaml: "override:\n  style: [DL3008]\n  warning: [DL3008]\n",
			want: &Config{Override: map[string]Severity{"DL3008": Warning}, FailureThreshold: Info, Format: "tty", Shellcheck: true},
		},
		{
			name: "lower-case codes",
			yaml: "ignored: [dl3008, sc2086, StageNameCasing]\n",
			want: &Config{Ignored: []string{"DL3008", "SC2086", "StageNameCasing"}, FailureThreshold: Info, Format: "tty", Shellcheck: true},
		},
		{
			name: "no-fail false",
			yaml: "no-fail: false\nstrict-labels: off\n",
			want: DefaultConfig(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, ".hadolint.yaml")
			writeFiles(t, dir, map[string]string{".hadolint.yaml": tc.yaml})
			got, err := LoadConfig(filepath.Join(dir, "Dockerfile"), "", envMap(nil))
			if err != nil {
				t.Fatal(err)
			}
			tc.want.File = file
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadConfig(%q) =\n%+v\nwant\n%+v", tc.yaml, got, tc.want)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		name string
		yaml string
		line int
		key  string
		msg  string // the error, after the file name
	}{
		{"unknown key", "ignored: [DL3008]\nignore: [DL3006]\n", 2, "ignore", ":2: ignore: unknown key (did you mean ignored?)"},
		{"unknown key far from any", "colour: never\n", 1, "colour", ":1: colour: unknown key (want one of disable-ignore-pragma, failure-threshold, format, ignored, label-schema, no-color, no-fail, output-format, override, strict-labels, trusted-registries, trustedRegistries, verbose)"},
		{"unknown severity in override", "override:\n  eror: [DL3008]\n", 2, "override.eror", ":2: override.eror: unknown severity (did you mean error?)"},
		{"ignore is not an override", "override:\n  ignore: [DL3008]\n", 2, "override.ignore", ":2: override.ignore: unknown severity (want error, warning, info or style)"},
		{"unknown threshold", "failure-threshold: fatal\n", 1, "failure-threshold", `:1: failure-threshold: unknown severity "fatal" (want error, warning, info, style or none)`},
		{"unknown format", "format: jsn\n", 1, "format", `:1: format: unknown format "jsn" (did you mean json?)`},
		{"hadolint format strata lacks", "format: sonarqube\n", 1, "format", `:1: format: format "sonarqube" is hadolint's, not supported by strata (want tty, json, sarif, checkstyle, gnu, codeclimate, gitlab_codeclimate, junit)`},
		{"unknown label type", "label-schema:\n  author: name\n", 2, "label-schema.author", `:2: label-schema.author: unknown label type "name" (want text, url, semver, hash, rfc3339, spdx, email)`},
		{"ignored not a list", "ignored: DL3008\n", 1, "ignored", `:1: ignored: want a list of strings, got "DL3008"`},
		{"code not a string", "ignored:\n  - 3008\n", 2, "ignored", `:2: ignored: want a string, got "3008"`},
		{"override code not a code", "override:\n  error:\n    - DL3008\n    - x y\n", 4, "override.error", `:4: override.error: "x y" is not a rule code`},
		{"not a code", "ignored: [\"DL 3008\"]\n", 1, "ignored", `:1: ignored: "DL 3008" is not a rule code`},
		{"bool not a bool", "no-fail: sometimes\n", 1, "no-fail", `:1: no-fail: want true or false, got "sometimes"`},
		{"bool a list", "strict-labels: [true]\n", 1, "strict-labels", `:1: strict-labels: want true or false, got a list`},
		{"override not a mapping", "override: [DL3008]\n", 1, "override", `:1: override: want a mapping of severities to lists of codes (error:, warning:, info:, style:)`},
		{"label schema not a mapping", "label-schema: [author]\n", 1, "label-schema", `:1: label-schema: want a mapping of label names to types`},
		{"trusted registries a mapping", "trustedRegistries:\n  a: b\n", 2, "trustedRegistries", `:2: trustedRegistries: want a list of strings, got a mapping`},
		{"key given twice", "ignored: [DL3008]\nignored: [DL3006]\n", 2, "ignored", ":2: ignored: given twice"},
		{"alias given twice", "format: json\noutput-format: tty\n", 2, "output-format", ":2: output-format: given twice"},
		{"not a mapping", "- DL3008\n", 1, "", ":1: want a mapping of settings (ignored:, override:, ...)"},
		{"yaml syntax", "ignored: [DL3008\n", 1, "", ":1: did not find expected ',' or ']'"},
		{"yaml tab", "ignored:\n\t- DL3008\n", 2, "", ":2: found character that cannot start any token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, ".hadolint.yaml")
			writeFiles(t, dir, map[string]string{".hadolint.yaml": tc.yaml})
			_, err := LoadConfig(filepath.Join(dir, "Dockerfile"), "", envMap(nil))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig(%q) = %v, want a *ConfigError", tc.yaml, err)
			}
			if ce.File != file || ce.Line != tc.line || ce.Key != tc.key {
				t.Errorf("LoadConfig(%q): error at %s:%d key %q, want %s:%d key %q", tc.yaml, ce.File, ce.Line, ce.Key, file, tc.line, tc.key)
			}
			if got, want := err.Error(), file+tc.msg; got != want {
				t.Errorf("LoadConfig(%q) error:\n got %s\nwant %s", tc.yaml, got, want)
			}
		})
	}
}

func TestConfigEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		name string
		file string // .hadolint.yaml, "" for none
		env  map[string]string
		want *Config
	}{
		{
			name: "every variable",
			env: map[string]string{
				"HADOLINT_NOFAIL": "1", "HADOLINT_VERBOSE": "yes", "HADOLINT_FORMAT": "checkstyle",
				"HADOLINT_FAILURE_THRESHOLD": "error",
				"HADOLINT_OVERRIDE_ERROR":    "DL3010,DL3020", "HADOLINT_OVERRIDE_WARNING": "DL3011",
				"HADOLINT_OVERRIDE_INFO": "DL3012", "HADOLINT_OVERRIDE_STYLE": "DL3013 , DL3014",
				"HADOLINT_IGNORE": "DL3000,SC1010", "HADOLINT_TRUSTED_REGISTRIES": "docker.io,quay.io",
				"HADOLINT_REQUIRE_LABELS": "maintainer:text,version:semver", "HADOLINT_STRICT_LABELS": "true",
				"HADOLINT_DISABLE_IGNORE_PRAGMA": "on", "NO_COLOR": "1",
			},
			want: &Config{
				Ignored:           []string{"DL3000", "SC1010"},
				Override:          map[string]Severity{"DL3010": Error, "DL3020": Error, "DL3011": Warning, "DL3012": Info, "DL3013": Style, "DL3014": Style},
				TrustedRegistries: []string{"docker.io", "quay.io"},
				LabelSchema:       map[string]string{"maintainer": "text", "version": "semver"},
				StrictLabels:      true, FailureThreshold: Error, NoFail: true, DisableIgnorePragma: true,
				Format: "checkstyle", Shellcheck: true, NoColor: true, Verbose: true,
			},
		},
		{
			name: "the environment over the file; lists add up",
			file: "no-fail: true\nfailure-threshold: style\nformat: json\nignored: [DL3006]\noverride:\n  error: [DL3008]\nlabel-schema:\n  version: text\n",
			env: map[string]string{
				"HADOLINT_NOFAIL": "0", "HADOLINT_FAILURE_THRESHOLD": "warning", "HADOLINT_FORMAT": "gnu",
				"HADOLINT_IGNORE": "DL3007", "HADOLINT_OVERRIDE_STYLE": "DL3008", "HADOLINT_REQUIRE_LABELS": "version:semver",
			},
			want: &Config{
				Ignored:          []string{"DL3006", "DL3007"},
				Override:         map[string]Severity{"DL3008": Style},
				LabelSchema:      map[string]string{"version": "semver"},
				FailureThreshold: Warning, Format: "gnu", Shellcheck: true,
			},
		},
		{
			name: "hadolint's other name for trusted registries",
			env:  map[string]string{"HADOLINT_ALLOWED_REGISTRIES": "docker.io"},
			want: &Config{TrustedRegistries: []string{"docker.io"}, FailureThreshold: Info, Format: "tty", Shellcheck: true},
		},
		{
			name: "NO_COLOR set to anything",
			env:  map[string]string{"NO_COLOR": "0"},
			want: &Config{NoColor: true, FailureThreshold: Info, Format: "tty", Shellcheck: true},
		},
		{
			name: "empty variables are unset",
			file: "no-fail: true\n",
			env:  map[string]string{"HADOLINT_NOFAIL": "", "NO_COLOR": "", "HADOLINT_FORMAT": ""},
			want: &Config{NoFail: true, FailureThreshold: Info, Format: "tty", Shellcheck: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				writeFiles(t, dir, map[string]string{".hadolint.yaml": tc.file})
				tc.want.File = filepath.Join(dir, ".hadolint.yaml")
			}
			got, err := LoadConfig(filepath.Join(dir, "Dockerfile"), "", envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadConfig with %v =\n%+v\nwant\n%+v", tc.env, got, tc.want)
			}
		})
	}
}

func TestConfigEnvironmentErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		key, value, msg string
	}{
		{"HADOLINT_NOFAIL", "maybe", `environment variable HADOLINT_NOFAIL: "maybe" is neither true (1, y, yes, on, true) nor false (0, n, no, off, false)`},
		{"HADOLINT_FORMAT", "xml", `environment variable HADOLINT_FORMAT: unknown format "xml" (want tty, json, sarif, checkstyle, gnu, codeclimate, gitlab_codeclimate, junit)`},
		{"HADOLINT_FAILURE_THRESHOLD", "high", `environment variable HADOLINT_FAILURE_THRESHOLD: unknown severity "high" (want error, warning, info, style or none)`},
		{"HADOLINT_OVERRIDE_ERROR", "DL3008;DL3009", `environment variable HADOLINT_OVERRIDE_ERROR: "DL3008;DL3009" is not a rule code`},
		{"HADOLINT_IGNORE", "DL 3008", `environment variable HADOLINT_IGNORE: "DL 3008" is not a rule code`},
		{"HADOLINT_REQUIRE_LABELS", "maintainer", `environment variable HADOLINT_REQUIRE_LABELS: label schema "maintainer": want LABEL:TYPE, for example maintainer:text`},
		{"HADOLINT_REQUIRE_LABELS", "version:number", `environment variable HADOLINT_REQUIRE_LABELS: label version: unknown label type "number" (want text, url, semver, hash, rfc3339, spdx, email)`},
		{"HADOLINT_STRICT_LABELS", "2", `environment variable HADOLINT_STRICT_LABELS: "2" is neither true (1, y, yes, on, true) nor false (0, n, no, off, false)`},
	}
	for _, tc := range cases {
		_, err := LoadConfig("-", "", envMap(map[string]string{tc.key: tc.value}))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key || ce.File != "" {
			t.Errorf("%s=%s: err = %v, want a *ConfigError for the variable", tc.key, tc.value, err)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("%s=%s:\n got %s\nwant %s", tc.key, tc.value, err, tc.msg)
		}
	}
}

func TestParseLabelSchema(t *testing.T) {
	label, typ, err := ParseLabelSchema(" org.opencontainers.image.version : semver ")
	if label != "org.opencontainers.image.version" || typ != "semver" || err != nil {
		t.Errorf("ParseLabelSchema = %q, %q, %v", label, typ, err)
	}
	for _, bad := range []string{"", ":text", "a", "a:", "a:b"} {
		if _, _, err := ParseLabelSchema(bad); err == nil {
			t.Errorf("ParseLabelSchema(%q) did not fail", bad)
		}
	}
}
