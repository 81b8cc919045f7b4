package lint

import (
	"slices"
	"strings"
)

// shellCommands returns the simple commands of in's shell script (a
// shell-form or heredoc RUN, or an ONBUILD RUN), or nil when there is none
// or when d declares a shell that is not POSIX (its RUNs are not shell
// scripts, so rules that read commands must stay quiet).
func shellCommands(d *Document, in *Instruction) []Command {
	if nonPOSIXShell(d) {
		return nil
	}
	return in.Commands()
}

// nonPOSIXShell reports whether d declares a non-POSIX shell (for example
// with `# hadolint shell=powershell`).
//
// WIRE(shell pragma): this is the one place that decides it; return
// d.NonPOSIXShell() once Document has it.
func nonPOSIXShell(d *Document) bool { return false }

// shellWrappers are commands that run the command given in their arguments,
// with the options of each that take a value.
var shellWrappers = map[string][]string{
	"sudo":    {"-u", "--user", "-g", "--group", "-C", "--close-from", "-D", "--chdir", "-h", "--host", "-p", "--prompt", "-r", "--role", "-t", "--type", "-U", "--other-user", "-T", "--command-timeout"},
	"env":     {"-u", "--unset", "-C", "--chdir"},
	"command": nil,
	"builtin": nil,
	"exec":    {"-a"},
	"nohup":   nil,
	"time":    {"-f", "--format", "-o", "--output"},
	"nice":    {"-n", "--adjustment"},
	"busybox": nil,
}

// Unwrap returns the command a wrapper runs: `sudo -E apt-get install x`
// is apt-get, and so is `env DEBIAN_FRONTEND=noninteractive apt-get ...`.
// Wrappers nest; a command that is not a wrapper, or a wrapper that runs
// nothing, comes back as it is.
func (c Command) Unwrap() Command {
	for {
		valued, ok := shellWrappers[c.Name]
		if !ok {
			return c
		}
		i := 0
		for i < len(c.Args) {
			a := c.Args[i]
			if a == "--" {
				i++
				break
			}
			if c.Name == "env" && !strings.HasPrefix(a, "-") && strings.Contains(a, "=") {
				i++ // NAME=value
				continue
			}
			if !strings.HasPrefix(a, "-") || a == "-" {
				break
			}
			i++
			if optionTakesNext(a, valued) {
				i++
			}
		}
		if i >= len(c.Args) {
			return c
		}
		c = Command{Name: c.Args[i], Args: c.Args[i+1:], Call: c.Call}
	}
}

// Operands returns the arguments that are not options, in order. valued
// lists the options that take a value ("-t", "--target-release"); their
// value is skipped when it is a separate argument (`-t bookworm`,
// `--target-release bookworm`), not when it is attached (`-tbookworm`,
// `--target-release=bookworm`). Short options may be grouped (`-yt
// bookworm`). Everything after "--" is an operand.
func (c Command) Operands(valued ...string) []string {
	var out []string
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case a == "--":
			return append(out, c.Args[i+1:]...)
		case a == "-" || !strings.HasPrefix(a, "-"):
			out = append(out, a)
		case optionTakesNext(a, valued):
			i++
		}
	}
	return out
}

// optionTakesNext reports whether the option argument a (starting with
// "-") consumes the next argument as its value.
func optionTakesNext(a string, valued []string) bool {
	if strings.HasPrefix(a, "--") {
		return !strings.Contains(a, "=") && slices.Contains(valued, a)
	}
	// A short group: the first valued letter takes the rest of the group,
	// or the next argument when it is last.
	for j := 1; j < len(a); j++ {
		if slices.Contains(valued, "-"+a[j:j+1]) {
			return j == len(a)-1
		}
	}
	return false
}

// HasArg reports whether any argument equals one of args.
func (c Command) HasArg(args ...string) bool {
	for _, a := range c.Args {
		if slices.Contains(args, a) {
			return true
		}
	}
	return false
}
