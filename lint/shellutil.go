package lint

import (
	"encoding/csv"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// shellCommands returns the simple commands a RUN (or ONBUILD RUN) runs:
// those of its shell script (shell form and heredocs, see Script), or for
// exec form the one command it names, where ["sh", "-c", script] is read as
// script. Commands of exec form have no Call. It returns nil for other
// instructions and, for shell form, when d declares a shell that is not
// POSIX (Document.NonPOSIXShell: its RUNs are not shell scripts, so rules
// reading commands stay quiet).
func shellCommands(d *Document, in *Instruction) []Command {
	if in.Trigger != nil {
		return shellCommands(d, in.Trigger)
	}
	run, ok := in.Cmd.(*instructions.RunCommand)
	if !ok {
		return nil
	}
	if run.PrependShell {
		if nonPOSIXShell(d) {
			return nil
		}
		return in.Commands()
	}
	argv := run.CmdLine
	if len(argv) == 0 {
		return nil
	}
	if len(argv) == 3 && isPOSIXShellName(argv[0]) && strings.HasPrefix(argv[1], "-") && strings.HasSuffix(argv[1], "c") {
		f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(argv[2]), "")
		if err != nil {
			return nil
		}
		return commandsIn(f)
	}
	return []Command{{Name: argv[0], Args: argv[1:]}}
}

// nonPOSIXShell reports whether d declares a non-POSIX shell (see
// Document.NonPOSIXShell).
func nonPOSIXShell(d *Document) bool { return d.NonPOSIXShell() }

// shellWrappers are commands that run the command given in their
// arguments, with the options of each that take a value.
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

// Unwrap returns the command a wrapper runs, named by its base name:
// `sudo -E apt-get install x` is apt-get, and so are `env
// DEBIAN_FRONTEND=noninteractive apt-get ...` and `/usr/bin/apt-get`.
// Wrappers nest; a wrapper that runs nothing comes back as it is.
func (c Command) Unwrap() Command {
	c.Name = path.Base(c.Name)
	for {
		next, ok := c.unwrapOnce()
		if !ok {
			return c
		}
		c = next
	}
}

// unwrapOnce returns the command a wrapper runs, if c is a wrapper that
// runs one.
func (c Command) unwrapOnce() (Command, bool) {
	valued, ok := shellWrappers[path.Base(c.Name)]
	if !ok {
		return c, false
	}
	i := 0
	for i < len(c.Args) {
		a := c.Args[i]
		if a == "--" {
			i++
			break
		}
		if path.Base(c.Name) == "env" && !strings.HasPrefix(a, "-") && strings.Contains(a, "=") {
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
		return c, false
	}
	return Command{Name: path.Base(c.Args[i]), Args: c.Args[i+1:], Call: c.Call}, true
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

// cacheMounts returns the targets of the cache mounts (--mount=type=cache)
// of a RUN or ONBUILD RUN.
func cacheMounts(in *Instruction) []string {
	if in.Trigger != nil {
		in = in.Trigger
	}
	if !in.Is("run") {
		return nil
	}
	var targets []string
	for _, flag := range in.Flags() {
		spec, ok := strings.CutPrefix(flag, "--mount=")
		if !ok {
			continue
		}
		spec = strings.Trim(spec, `"'`)
		fields, err := csv.NewReader(strings.NewReader(spec)).Read()
		if err != nil {
			continue
		}
		typ, target := "bind", ""
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			switch strings.ToLower(k) {
			case "type":
				typ = strings.ToLower(v)
			case "target", "dst", "destination":
				target = v
			}
		}
		if typ == "cache" && target != "" {
			targets = append(targets, target)
		}
	}
	return targets
}
