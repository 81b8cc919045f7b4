package lint

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"mvdan.cc/sh/v3/syntax"
)

// hadolint's rules DL4000 to DL4006: deprecated and repeated instructions
// and shell hygiene. DL4002 does not exist in hadolint.

func init() {
	registerRules(dl4000, dl4001, dl4003, dl4004, dl4005, dl4006)
}

var dl4000 = &Rule{
	Code:     "DL4000",
	Severity: Error,
	Message:  "MAINTAINER is deprecated: use a label such as org.opencontainers.image.authors",
	Doc: `MAINTAINER was deprecated in Docker 1.13; labels carry the same information
in a form tools read. strata lint --fix rewrites MAINTAINER into the OCI
authors label.

Bad:  MAINTAINER Jane Doe <jane@example.com>
Good: LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"`,
	URL: hadolintWiki("DL4000"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if _, ok := in.Cmd.(*instructions.MaintainerCommand); !ok {
				continue
			}
			if fix, ok := maintainerFix(d, in); ok {
				r.ReportFix(in, fix, "%s", r.rule.Message)
			} else {
				r.Report(in)
			}
		}
	},
}

var dl4001 = &Rule{
	Code:     "DL4001",
	Severity: Warning,
	Message:  "Both wget and curl are used; pick one",
	Doc: `Two download tools do the same job and both have to be installed, kept up to
date and scanned. Use one of them throughout the stage.

Bad:  RUN wget -q https://example.com/a.tgz
      RUN curl -fsSLO https://example.com/b.tgz
Good: RUN curl -fsSLO https://example.com/a.tgz \
       && curl -fsSLO https://example.com/b.tgz`,
	URL: hadolintWiki("DL4001"),
	Check: func(d *Document, r *Reporter) {
		type key struct {
			stage   *Stage
			onbuild bool
		}
		used := map[key]map[string]bool{}
		for _, in := range d.All {
			var tools []string
			for _, c := range runCommands(d, in) {
				if n := path.Base(c.Name); (n == "curl" || n == "wget") && !slices.Contains(tools, n) {
					tools = append(tools, n)
				}
			}
			if len(tools) == 0 {
				continue
			}
			k := key{in.Stage, in.Trigger != nil}
			if used[k] == nil {
				used[k] = map[string]bool{}
			}
			for _, t := range tools {
				used[k][t] = true
			}
			if len(used[k]) == 2 {
				r.Report(in)
			}
		}
	},
}

// repeatedInStage reports every instruction named name after the first in
// each stage: only the last one takes effect.
func repeatedInStage(name string) func(*Document, *Reporter) {
	return func(d *Document, r *Reporter) {
		for _, st := range d.Stages {
			seen := false
			for _, in := range st.Instructions {
				if !in.Is(name) {
					continue
				}
				if seen {
					r.Report(in)
				}
				seen = true
			}
		}
	}
}

var dl4003 = &Rule{
	Code:     "DL4003",
	Severity: Warning,
	Message:  "More than one CMD in the stage: only the last one takes effect",
	Doc: `A stage has one default command; each CMD replaces the one before it, so all
but the last are dead code that misleads readers.

Bad:  CMD ["nginx"]
      CMD ["nginx", "-g", "daemon off;"]
Good: CMD ["nginx", "-g", "daemon off;"]`,
	URL:   hadolintWiki("DL4003"),
	Check: repeatedInStage("cmd"),
}

var dl4004 = &Rule{
	Code:     "DL4004",
	Severity: Error,
	Message:  "More than one ENTRYPOINT in the stage: only the last one takes effect",
	Doc: `A stage has one entrypoint; each ENTRYPOINT replaces the one before it (and
resets CMD), so all but the last are dead code that misleads readers.

Bad:  ENTRYPOINT ["/docker-entrypoint.sh"]
      ENTRYPOINT ["/usr/bin/tini", "--"]
Good: ENTRYPOINT ["/usr/bin/tini", "--", "/docker-entrypoint.sh"]`,
	URL:   hadolintWiki("DL4004"),
	Check: repeatedInStage("entrypoint"),
}

var dl4005 = &Rule{
	Code:     "DL4005",
	Severity: Warning,
	Message:  "Use SHELL to change the default shell instead of linking /bin/sh",
	Doc: `Replacing /bin/sh with a link changes the shell for every program in the
image, not only for the Dockerfile's RUNs, and hides the choice from readers.
The SHELL instruction changes the shell RUN uses and nothing else.

Bad:  RUN ln -sf /bin/bash /bin/sh
Good: SHELL ["/bin/bash", "-c"]`,
	URL: hadolintWiki("DL4005"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if ops := c.Operands("-t", "--target-directory", "-S", "--suffix"); path.Base(c.Name) == "ln" && len(ops) > 1 && ops[len(ops)-1] == "/bin/sh" {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl4006 = &Rule{
	Code:     "DL4006",
	Severity: Warning,
	Message:  `RUN has a pipe but the shell has no pipefail: set SHELL ["/bin/bash", "-o", "pipefail", "-c"] first`,
	Doc: `A pipeline's status is its last command's, so in "curl ... | tar x" a failed
download goes unnoticed and the build goes on with a broken layer. Set a SHELL
with -o pipefail (bash, zsh, ash, ksh), or begin the script with
"set -o pipefail". Exec-form RUNs and ONBUILD triggers are not checked.

Bad:  RUN curl -fsSL https://example.com/x.tgz | tar -xz
Good: SHELL ["/bin/bash", "-o", "pipefail", "-c"]
      RUN curl -fsSL https://example.com/x.tgz | tar -xz`,
	URL: hadolintWiki("DL4006"),
	Check: func(d *Document, r *Reporter) {
		if nonPOSIXShell(d) {
			return
		}
		// exempt: the stage's SHELL sets pipefail or is not POSIX.
		exempt := map[*Stage]bool{}
		for _, st := range d.Stages {
			ok := false
			if p := parentStage(d, st); p != nil {
				ok = exempt[p]
			}
			for _, in := range st.Instructions {
				switch c := in.Cmd.(type) {
				case *instructions.ShellCommand:
					ok = shellFailsPipes(c.Shell)
				case *instructions.RunCommand:
					if !ok && c.PrependShell && pipeWithoutPipefail(in) {
						r.Report(in)
					}
				}
			}
			exempt[st] = ok
		}
	},
}

// shellFailsPipes reports whether a SHELL makes a failing pipeline fail
// the RUN (a POSIX shell given -o pipefail), or is not a POSIX shell at all
// (then pipes are its own business).
func shellFailsPipes(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	name := strings.TrimSuffix(strings.ToLower(path.Base(strings.ReplaceAll(argv[0], `\`, "/"))), ".exe")
	switch name {
	case "pwsh", "powershell", "cmd":
		return true
	case "bash", "zsh", "ash", "ksh", "mksh":
		return setsPipefail(argv[1:])
	}
	return false
}

// setsPipefail reports whether shell options turn on pipefail: "-o
// pipefail", also with other letters grouped before the o ("-eo
// pipefail").
func setsPipefail(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, "o") && args[i+1] == "pipefail" {
			return true
		}
	}
	return false
}

// pipeWithoutPipefail reports whether the RUN's script has a pipeline
// that no earlier `set -o pipefail` in the script covers.
func pipeWithoutPipefail(in *Instruction) bool {
	f, err := in.Shell()
	if err != nil || f == nil {
		return false
	}
	var pipe, pipefail syntax.Pos
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.BinaryCmd:
			if (n.Op == syntax.Pipe || n.Op == syntax.PipeAll) && !pipe.IsValid() {
				pipe = n.OpPos
			}
		case *syntax.CallExpr:
			if len(n.Args) > 0 && WordText(n.Args[0]) == "set" && !pipefail.IsValid() {
				args := make([]string, len(n.Args)-1)
				for i, w := range n.Args[1:] {
					args[i] = WordText(w)
				}
				if setsPipefail(args) {
					pipefail = n.Pos()
				}
			}
		}
		return true
	})
	return pipe.IsValid() && !(pipefail.IsValid() && pipefail.Offset() < pipe.Offset())
}
