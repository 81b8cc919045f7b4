package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/util/suggest"
	"go.yaml.in/yaml/v3"
)

// ConfigError is configuration lint cannot use: a file that does not read
// or parse, a key it does not know, a value of the wrong type, an unknown
// severity, format or label type. It names where the setting was: the
// file (and line) or the environment variable.
type ConfigError struct {
	// File is the configuration file; "" for an environment variable.
	File string
	// Line is the 1-based line in File, 0 if unknown.
	Line int
	// Key is the setting: "override.error", "HADOLINT_FAILURE_THRESHOLD".
	Key string
	Err error
}

func (e *ConfigError) Error() string {
	var where string
	switch {
	case e.File == "":
		where = "environment variable " + e.Key
	case e.Line > 0 && e.Key != "":
		where = fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Key)
	case e.Line > 0:
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Key != "":
		where = e.File + ": " + e.Key
	default:
		where = e.File
	}
	return where + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig builds the configuration for linting dockerfilePath ("-" or ""
// for standard input), as hadolint does, from (later wins):
//
//   - DefaultConfig;
//   - the configuration file: explicit when given (--config), else the
//     first .hadolint.yaml or .hadolint.yml found from the Dockerfile's
//     folder upward (stopping at the root of its git repository), then in
//     the current directory, then in the user's configuration:
//     $XDG_CONFIG_HOME/hadolint.yaml, ~/.config/hadolint.yaml,
//     ~/.hadolint/hadolint.yaml, ~/.hadolint/config.yaml, ~/.hadolint.yaml
//     (each also as .yml);
//   - the environment: HADOLINT_NOFAIL, HADOLINT_VERBOSE, HADOLINT_FORMAT,
//     HADOLINT_FAILURE_THRESHOLD, HADOLINT_OVERRIDE_{ERROR,WARNING,INFO,STYLE},
//     HADOLINT_IGNORE, HADOLINT_TRUSTED_REGISTRIES, HADOLINT_REQUIRE_LABELS,
//     HADOLINT_STRICT_LABELS, HADOLINT_DISABLE_IGNORE_PRAGMA and NO_COLOR.
//
// Lists (ignored codes, trusted registries, label schema, overrides) add
// up; a setting given again replaces the earlier one. Command-line flags
// go on top of the result. env reads the environment (nil: os.Getenv); it
// also gives HOME and XDG_CONFIG_HOME. Any setting lint cannot use is a
// *ConfigError, never ignored.
func LoadConfig(dockerfilePath string, explicit string, env func(string) string) (*Config, error) {
	if env == nil {
		env = os.Getenv
	}
	cfg := DefaultConfig()
	file := explicit
	if file == "" {
		file = findConfigFile(dockerfilePath, env)
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &ConfigError{File: file, Err: err}
		}
		layer, err := parseConfigFile(file, data)
		if err != nil {
			return nil, err
		}
		layer.applyTo(cfg)
		cfg.File = file
	}
	layer, err := configFromEnv(env)
	if err != nil {
		return nil, err
	}
	layer.applyTo(cfg)
	return cfg, nil
}

// configNames are the names of a project's configuration file.
var configNames = []string{".hadolint.yaml", ".hadolint.yml"}

// findConfigFile returns the configuration file for dockerfilePath, "" if
// there is none.
func findConfigFile(dockerfilePath string, env func(string) string) string {
	var dirs []string
	cwd, _ := os.Getwd()
	start := cwd
	if dockerfilePath != "" && dockerfilePath != "-" {
		start = filepath.Dir(dockerfilePath)
	}
	if abs, err := filepath.Abs(start); err == nil {
		for dir := abs; ; {
			dirs = append(dirs, dir)
			if isRegularFile(filepath.Join(dir, ".git")) || isDirectory(filepath.Join(dir, ".git")) {
				break // the repository's root: a configuration above it is not the project's
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if cwd != "" && !slices.Contains(dirs, cwd) {
		dirs = append(dirs, cwd)
	}
	var candidates []string
	for _, dir := range dirs {
		for _, name := range configNames {
			candidates = append(candidates, filepath.Join(dir, name))
		}
	}
	home := env("HOME")
	xdg := env("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	if xdg != "" {
		candidates = append(candidates, filepath.Join(xdg, "hadolint.yaml"), filepath.Join(xdg, "hadolint.yml"))
	}
	if home != "" {
		candidates = append(candidates,
			filepath.Join(home, ".config", "hadolint.yaml"), filepath.Join(home, ".config", "hadolint.yml"),
			filepath.Join(home, ".hadolint", "hadolint.yaml"), filepath.Join(home, ".hadolint", "hadolint.yml"),
			filepath.Join(home, ".hadolint", "config.yaml"), filepath.Join(home, ".hadolint", "config.yml"),
			filepath.Join(home, ".hadolint.yaml"), filepath.Join(home, ".hadolint.yml"),
		)
	}
	for _, c := range candidates {
		if isRegularFile(c) {
			return c
		}
	}
	return ""
}

func isRegularFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDirectory(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// configLayer is the settings one source (a file, the environment, the
// command line) gives; nil pointers are settings it leaves alone.
type configLayer struct {
	ignored             []string
	override            map[string]Severity
	trusted             []string
	labels              map[string]string
	strictLabels        *bool
	noFail              *bool
	noColor             *bool
	verbose             *bool
	disableIgnorePragma *bool
	threshold           *Severity
	format              *string
}

// applyTo lays l over c.
func (l *configLayer) applyTo(c *Config) {
	for _, code := range l.ignored {
		if !slices.Contains(c.Ignored, code) {
			c.Ignored = append(c.Ignored, code)
		}
	}
	if len(l.override) > 0 && c.Override == nil {
		c.Override = map[string]Severity{}
	}
	for code, s := range l.override {
		c.Override[code] = s
	}
	for _, r := range l.trusted {
		if !slices.Contains(c.TrustedRegistries, r) {
			c.TrustedRegistries = append(c.TrustedRegistries, r)
		}
	}
	if len(l.labels) > 0 && c.LabelSchema == nil {
		c.LabelSchema = map[string]string{}
	}
	for name, typ := range l.labels {
		c.LabelSchema[name] = typ
	}
	setIf(&c.StrictLabels, l.strictLabels)
	setIf(&c.NoFail, l.noFail)
	setIf(&c.NoColor, l.noColor)
	setIf(&c.Verbose, l.verbose)
	setIf(&c.DisableIgnorePragma, l.disableIgnorePragma)
	setIf(&c.FailureThreshold, l.threshold)
	setIf(&c.Format, l.format)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// addOverride records that codes have severity s. Within one source a code
// named under two severities takes the more severe.
func (l *configLayer) addOverride(s Severity, codes []string) {
	if l.override == nil {
		l.override = map[string]Severity{}
	}
	for _, c := range codes {
		if old, ok := l.override[c]; !ok || s < old {
			l.override[c] = s
		}
	}
}

// LabelTypes are the types a label schema may require.
var LabelTypes = []string{"text", "url", "semver", "hash", "rfc3339", "spdx", "email"}

// ParseLabelSchema reads a `label:type` item (--require-label,
// HADOLINT_REQUIRE_LABELS).
func ParseLabelSchema(item string) (label, typ string, err error) {
	label, typ, ok := strings.Cut(item, ":")
	label, typ = strings.TrimSpace(label), strings.TrimSpace(typ)
	if !ok || label == "" {
		return "", "", fmt.Errorf("label schema %q: want LABEL:TYPE, for example maintainer:text", item)
	}
	if err := checkLabelType(typ); err != nil {
		return "", "", fmt.Errorf("label %s: %w", label, err)
	}
	return label, typ, nil
}

func checkLabelType(typ string) error {
	if slices.Contains(LabelTypes, typ) {
		return nil
	}
	return fmt.Errorf("unknown label type %q (want %s)", typ, strings.Join(LabelTypes, ", "))
}

// configKeys are the keys of a configuration file; the aliases hadolint
// also reads map to the same setting.
var configKeys = []string{
	"disable-ignore-pragma", "failure-threshold", "format", "ignored", "label-schema",
	"no-color", "no-fail", "output-format", "override", "strict-labels",
	"trusted-registries", "trustedRegistries", "verbose",
}

// parseConfigFile reads a configuration file's YAML.
func parseConfigFile(file string, data []byte) (*configLayer, error) {
	l := &configLayer{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, err := yamlSyntaxError(err)
		return nil, &ConfigError{File: file, Line: line, Err: err}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return l, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return l, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ConfigError{File: file, Line: root.Line, Err: errors.New("want a mapping of settings (ignored:, override:, ...)")}
	}
	fail := func(n *yaml.Node, key string, err error) error {
		var ne *yamlNodeError
		if errors.As(err, &ne) {
			n, err = ne.node, ne.err
		}
		return &ConfigError{File: file, Line: n.Line, Key: key, Err: err}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			return nil, fail(k, "", errors.New("a key must be a name"))
		}
		canonical := key
		switch key {
		case "output-format":
			canonical = "format"
		case "trusted-registries":
			canonical = "trustedRegistries"
		}
		if seen[canonical] {
			return nil, fail(k, key, errors.New("given twice"))
		}
		seen[canonical] = true
		switch canonical {
		case "ignored":
			codes, err := yamlCodes(v)
			if err != nil {
				return nil, fail(v, key, err)
			}
			l.ignored = codes
		case "override":
			if err := parseOverride(file, key, v, l); err != nil {
				return nil, err
			}
		case "trustedRegistries":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				l.trusted = []string{v.Value} // hadolint takes one registry or a list
				break
			}
			regs, err := yamlStrings(v)
			if err != nil {
				return nil, fail(v, key, err)
			}
			l.trusted = regs
		case "label-schema":
			if err := parseLabelSchema(file, key, v, l); err != nil {
				return nil, err
			}
		case "strict-labels", "no-fail", "no-color", "verbose", "disable-ignore-pragma":
			b, err := yamlBool(v)
			if err != nil {
				return nil, fail(v, key, err)
			}
			dst := map[string]**bool{
				"strict-labels": &l.strictLabels, "no-fail": &l.noFail, "no-color": &l.noColor,
				"verbose": &l.verbose, "disable-ignore-pragma": &l.disableIgnorePragma,
			}[canonical]
			*dst = &b
		case "failure-threshold":
			s, err := yamlString(v)
			if err == nil {
				var sev Severity
				sev, err = ParseSeverity(s)
				l.threshold = &sev
			}
			if err != nil {
				return nil, fail(v, key, err)
			}
		case "format":
			s, err := yamlString(v)
			if err == nil {
				s, err = ParseFormat(s)
				l.format = &s
			}
			if err != nil {
				return nil, fail(v, key, err)
			}
		default:
			return nil, fail(k, key, unknownKey(key, configKeys))
		}
	}
	return l, nil
}

func unknownKey(key string, known []string) error {
	if s, ok := suggest.Search(key, known, true); ok {
		return fmt.Errorf("unknown key (did you mean %s?)", s)
	}
	return fmt.Errorf("unknown key (want one of %s)", strings.Join(known, ", "))
}

// parseOverride reads `override: {error: [...], warning: [...], ...}`.
func parseOverride(file, key string, v *yaml.Node, l *configLayer) error {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return &ConfigError{File: file, Line: v.Line, Key: key, Err: errors.New("want a mapping of severities to lists of codes (error:, warning:, info:, style:)")}
	}
	levels := []string{"error", "warning", "info", "style"}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, list := v.Content[i], v.Content[i+1]
		sub := key + "." + k.Value
		if !slices.Contains(levels, k.Value) {
			err := fmt.Errorf("unknown severity (want error, warning, info or style)")
			if s, ok := suggest.Search(k.Value, levels, false); ok {
				err = fmt.Errorf("unknown severity (did you mean %s?)", s)
			}
			return &ConfigError{File: file, Line: k.Line, Key: sub, Err: err}
		}
		sev, _ := ParseSeverity(k.Value)
		codes, err := yamlCodes(list)
		if err != nil {
			line := list.Line
			var ne *yamlNodeError
			if errors.As(err, &ne) {
				line, err = ne.node.Line, ne.err
			}
			return &ConfigError{File: file, Line: line, Key: sub, Err: err}
		}
		l.addOverride(sev, codes)
	}
	return nil
}

// parseLabelSchema reads `label-schema: {name: type, ...}`.
func parseLabelSchema(file, key string, v *yaml.Node, l *configLayer) error {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return &ConfigError{File: file, Line: v.Line, Key: key, Err: errors.New("want a mapping of label names to types")}
	}
	l.labels = map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, t := v.Content[i], v.Content[i+1]
		sub := key + "." + k.Value
		typ, err := yamlString(t)
		if err == nil {
			err = checkLabelType(typ)
		}
		if err != nil {
			return &ConfigError{File: file, Line: t.Line, Key: sub, Err: err}
		}
		l.labels[k.Value] = typ
	}
	return nil
}

// yamlString reads a string scalar.
func yamlString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return "", fmt.Errorf("want a string, got %s", yamlDescribe(n))
	}
	return n.Value, nil
}

// yamlStrings reads a list of strings (null is an empty list).
func yamlStrings(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list of strings, got %s", yamlDescribe(n))
	}
	var out []string
	for _, item := range n.Content {
		s, err := yamlString(item)
		if err != nil {
			return nil, &yamlNodeError{item, err}
		}
		out = append(out, s)
	}
	return out, nil
}

// yamlNodeError is an error about a node inside the value of a key (an
// item of a list), which is where the error is.
type yamlNodeError struct {
	node *yaml.Node
	err  error
}

func (e *yamlNodeError) Error() string { return e.err.Error() }

// yamlCodes reads a list of rule codes.
func yamlCodes(n *yaml.Node) ([]string, error) {
	list, err := yamlStrings(n)
	if err != nil {
		return nil, err
	}
	for i, c := range list {
		if !ruleCodeRE.MatchString(c) {
			return nil, &yamlNodeError{n.Content[i], fmt.Errorf("%q is not a rule code", c)}
		}
		list[i] = normalizeCode(c)
	}
	return list, nil
}

// yamlBool reads true/false (and YAML 1.1's yes/no, on/off).
func yamlBool(n *yaml.Node) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, fmt.Errorf("want true or false, got %s", yamlDescribe(n))
	}
	return b, nil
}

func yamlDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlSyntaxError splits a YAML syntax error into its line (0 if it has
// none) and the rest of the message.
func yamlSyntaxError(err error) (int, error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, errors.New(msg[len(m[0]):])
	}
	return 0, errors.New(strings.TrimPrefix(msg, "yaml: "))
}

// configFromEnv reads hadolint's environment variables.
func configFromEnv(env func(string) string) (*configLayer, error) {
	l := &configLayer{}
	fail := func(key string, err error) error { return &ConfigError{Key: key, Err: err} }
	flags := []struct {
		key string
		dst **bool
	}{
		{"HADOLINT_NOFAIL", &l.noFail},
		{"HADOLINT_VERBOSE", &l.verbose},
		{"HADOLINT_STRICT_LABELS", &l.strictLabels},
		{"HADOLINT_DISABLE_IGNORE_PRAGMA", &l.disableIgnorePragma},
	}
	for _, f := range flags {
		v := env(f.key)
		if v == "" {
			continue
		}
		b, err := envTruthy(v)
		if err != nil {
			return nil, fail(f.key, err)
		}
		*f.dst = &b
	}
	// https://no-color.org: set and not empty, whatever the value.
	if env("NO_COLOR") != "" {
		t := true
		l.noColor = &t
	}
	if v := env("HADOLINT_FORMAT"); v != "" {
		f, err := ParseFormat(v)
		if err != nil {
			return nil, fail("HADOLINT_FORMAT", err)
		}
		l.format = &f
	}
	if v := env("HADOLINT_FAILURE_THRESHOLD"); v != "" {
		s, err := ParseSeverity(v)
		if err != nil {
			return nil, fail("HADOLINT_FAILURE_THRESHOLD", err)
		}
		l.threshold = &s
	}
	for _, o := range []struct {
		key string
		sev Severity
	}{
		{"HADOLINT_OVERRIDE_ERROR", Error},
		{"HADOLINT_OVERRIDE_WARNING", Warning},
		{"HADOLINT_OVERRIDE_INFO", Info},
		{"HADOLINT_OVERRIDE_STYLE", Style},
	} {
		codes, err := envCodes(env(o.key))
		if err != nil {
			return nil, fail(o.key, err)
		}
		if len(codes) > 0 {
			l.addOverride(o.sev, codes)
		}
	}
	codes, err := envCodes(env("HADOLINT_IGNORE"))
	if err != nil {
		return nil, fail("HADOLINT_IGNORE", err)
	}
	l.ignored = codes
	// HADOLINT_ALLOWED_REGISTRIES is the name hadolint's code reads.
	for _, key := range []string{"HADOLINT_TRUSTED_REGISTRIES", "HADOLINT_ALLOWED_REGISTRIES"} {
		l.trusted = append(l.trusted, envList(env(key))...)
	}
	for _, item := range envList(env("HADOLINT_REQUIRE_LABELS")) {
		name, typ, err := ParseLabelSchema(item)
		if err != nil {
			return nil, fail("HADOLINT_REQUIRE_LABELS", err)
		}
		if l.labels == nil {
			l.labels = map[string]string{}
		}
		l.labels[name] = typ
	}
	return l, nil
}

// envTruthy reads a yes/no environment value as hadolint does (1, y, yes,
// on, true), and refuses values that are neither.
func envTruthy(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "y", "yes", "on", "true":
		return true, nil
	case "0", "n", "no", "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither true (1, y, yes, on, true) nor false (0, n, no, off, false)", v)
}

// envList splits a comma-separated value, dropping empty items.
func envList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envCodes(v string) ([]string, error) {
	codes := envList(v)
	for i, c := range codes {
		if !ruleCodeRE.MatchString(c) {
			return nil, fmt.Errorf("%q is not a rule code", c)
		}
		codes[i] = normalizeCode(c)
	}
	return codes, nil
}
