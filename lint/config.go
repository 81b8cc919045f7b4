package lint

// Config is the configuration rules and the engine read, with hadolint's
// meaning (see LoadConfig for the files and environment it comes from).
type Config struct {
	// Ignored rule codes are not reported.
	Ignored []string
	// Override sets the severity of rules by code.
	Override map[string]Severity
	// TrustedRegistries, when not empty, are the only registries FROM may
	// use (DL3026).
	TrustedRegistries []string
	// LabelSchema maps required label names to their type: text, url,
	// semver, hash, rfc3339, spdx or email (DL3049-DL3058).
	LabelSchema map[string]string
	// StrictLabels reports labels not in LabelSchema (DL3050).
	StrictLabels bool
	// FailureThreshold is the least severity that makes lint fail.
	FailureThreshold Severity
	// NoFail makes lint exit 0 whatever it finds.
	NoFail bool
	// DisableIgnorePragma makes the suppressions written in a Dockerfile
	// inert: `# hadolint ignore=`, `# hadolint global ignore=` and the
	// skip list of BuildKit's `# check=` directive.
	DisableIgnorePragma bool
	// Format is the output format name.
	Format string
	// Experimental enables experimental rules.
	Experimental bool
	// DockerIgnore are the build context's .dockerignore patterns, as
	// ReadDockerIgnore returns them; CopyIgnoredFile reports COPY and ADD
	// sources they exclude. The CLI reads them from the context directory
	// (the Dockerfile's folder unless told otherwise); nil disables the check.
	DockerIgnore []string
	// Shellcheck runs the shellcheck program, when it is installed, on
	// RUN scripts (DefaultConfig turns it on; `--no-shellcheck` off).
	Shellcheck bool
	// NoColor turns colour off in the tty format.
	NoColor bool
	// Verbose asks the command to say which configuration it used.
	Verbose bool
	// File is the configuration file the settings came from ("" if none).
	File string

	// pragmas are the current document's pragmas; Check sets them on its
	// own copy of the configuration.
	pragmas *pragmas
}

// DefaultConfig is the configuration without any file: every rule at its
// default severity, failing on info and worse (hadolint's default).
func DefaultConfig() *Config {
	return &Config{FailureThreshold: Info, Format: "tty", Shellcheck: true}
}
