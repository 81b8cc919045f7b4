package lint

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// hadolint's rules DL3000-DL3033 (DL3005, DL3017 and DL3031 were retired
// by hadolint and are not here). Rules that read RUN commands also read
// ONBUILD RUN triggers, exec-form RUNs and heredoc scripts, look past
// wrappers such as sudo and env (Command.Unwrap), and stay quiet on words
// they cannot judge, such as a bare "$PACKAGES".

func hadolintURL(code string) string { return "https://github.com/hadolint/hadolint/wiki/" + code }

func init() {
	registerRules(
		&Rule{
			Code: "DL3000", Severity: Error, URL: hadolintURL("DL3000"),
			Message: "Use an absolute path for WORKDIR",
			Doc: `A relative WORKDIR is resolved against whatever WORKDIR came before, often
one set by the base image, so the directory silently changes with it.
Write the full path.

  WORKDIR app        # bad
  WORKDIR /srv/app   # good`,
			Check: checkAbsoluteWorkdir,
		},
		&Rule{
			Code: "DL3001", Severity: Info, URL: hadolintURL("DL3001"),
			Message: "Commands like ssh, vim, shutdown, service, ps, free, top, kill, mount and ifconfig make no sense in a build step",
			Doc: `A build step runs once, without a terminal, init system or network
interfaces of its own: interactive tools, service managers and process
or network inspection do nothing useful there.

  RUN service nginx start                  # bad
  CMD ["nginx", "-g", "daemon off;"]       # good: start it when the container runs`,
			Check: checkPointlessCommands,
		},
		&Rule{
			Code: "DL3002", Severity: Warning, URL: hadolintURL("DL3002"),
			Message: "The last USER of a stage should not be root",
			Doc: `A container that runs as root gives a process that escapes the
application full control of the container. Switch back to an unprivileged
user after the steps that need root.

  USER root
  RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10
  USER app           # good: the image runs as app`,
			Check: checkLastUserRoot,
		},
		&Rule{
			Code: "DL3003", Severity: Warning, URL: hadolintURL("DL3003"),
			Message: "Use WORKDIR to change directory instead of cd",
			Doc: `cd lasts only for the RUN it is in, which is easy to forget in the next
step; WORKDIR sets the directory for every following instruction and
documents it.

  RUN cd /src && make        # bad
  WORKDIR /src
  RUN make                   # good`,
			Check: checkCdInRun,
		},
		&Rule{
			Code: "DL3004", Severity: Error, URL: hadolintURL("DL3004"),
			Message: "Do not use sudo: it behaves unpredictably without a terminal; switch users with USER (or gosu at run time)",
			Doc: `Build steps already run as the current USER; sudo adds a setuid binary,
needs a tty and a sudoers setup, and its environment handling differs
between images.

  RUN sudo apt-get update          # bad
  USER root
  RUN apt-get update               # good`,
			Check: checkSudo,
		},
		&Rule{
			Code: "DL3006", Severity: Warning, URL: hadolintURL("DL3006"),
			Message: "Tag the base image explicitly",
			Doc: `Without a tag FROM takes whatever "latest" is when the image is built, so
two builds of the same Dockerfile can differ. Name a version (or a
digest). Earlier stages, scratch and ARG-built names are not checked.

  FROM debian             # bad
  FROM debian:12.5        # good`,
			Check: checkUntaggedImage,
		},
		&Rule{
			Code: "DL3007", Severity: Warning, URL: hadolintURL("DL3007"),
			Message: "Do not use the latest tag: pin the base image to a release tag",
			Doc: `"latest" moves whenever the image is republished, so builds are not
repeatable and can break without any change to the Dockerfile. A digest
next to the tag pins it and is fine.

  FROM node:latest        # bad
  FROM node:20.11         # good`,
			Check: checkLatestTag,
		},
		&Rule{
			Code: "DL3008", Severity: Warning, URL: hadolintURL("DL3008"),
			Message: "Pin versions in apt-get install: use <package>=<version>",
			Doc: `Unpinned packages install whatever the archive holds on the day of the
build, so rebuilding the same Dockerfile can produce a different image or
fail. Pin each package (a release with /suite or a local .deb also counts).

  RUN apt-get install -y curl                  # bad
  RUN apt-get install -y curl=7.88.1-10+deb12u5 # good`,
			Check: checkAptGetPinning,
		},
		&Rule{
			Code: "DL3009", Severity: Info, URL: hadolintURL("DL3009"),
			Message: "Delete the apt lists (rm -rf /var/lib/apt/lists/*) in the RUN that runs apt-get update",
			Doc: `apt-get update downloads package lists that stay in the layer and bloat
the image. Remove them in the same RUN, or keep them in a cache mount.
Checked in the final stage and in stages other stages build FROM.

  RUN apt-get update && apt-get install -y --no-install-recommends git=1:2.39.2-1.1    # bad
  RUN apt-get update && apt-get install -y --no-install-recommends git=1:2.39.2-1.1 \
   && rm -rf /var/lib/apt/lists/*                                                    # good`,
			Check: checkAptListsRemoved,
		},
		&Rule{
			Code: "DL3010", Severity: Info, URL: hadolintURL("DL3010"),
			Message: "Use ADD to extract an archive into the image instead of COPY and a RUN that unpacks it",
			Doc: `COPY followed by tar -x keeps the archive in a layer and costs a step;
ADD unpacks a local tar archive itself.

  COPY app.tar.gz /tmp/
  RUN tar -xzf /tmp/app.tar.gz -C /srv         # bad
  ADD app.tar.gz /srv/                         # good`,
			Check: checkCopiedArchiveExtracted,
		},
		&Rule{
			Code: "DL3011", Severity: Error, URL: hadolintURL("DL3011"),
			Message: "Valid ports range from 0 to 65535",
			Doc: `A TCP or UDP port is a 16-bit number; EXPOSE with a larger one cannot be
published.

  EXPOSE 80800     # bad
  EXPOSE 8080      # good`,
			Check: checkPortRange,
		},
		&Rule{
			Code: "DL3012", Severity: Error, URL: hadolintURL("DL3012"),
			Message: "A stage should have only one HEALTHCHECK",
			Doc: `Only the last HEALTHCHECK of an image takes effect; earlier ones are dead
code that misleads the reader.

  HEALTHCHECK CMD curl -f http://localhost/ || exit 1
  HEALTHCHECK CMD wget -q -O- http://localhost/     # bad: replaces the first`,
			Check: checkSingleHealthcheck,
		},
		&Rule{
			Code: "DL3013", Severity: Warning, URL: hadolintURL("DL3013"),
			Message: "Pin versions in pip install: use <package>==<version> or a requirements file",
			Doc: `An unpinned pip install takes the newest release on the day of the
build. Pin versions (any version specifier counts), install from a
requirements or constraints file, a local wheel or a git URL with @ref.

  RUN pip install requests                 # bad
  RUN pip install requests==2.31.0         # good`,
			Check: checkPipPinning,
		},
		&Rule{
			Code: "DL3014", Severity: Warning, URL: hadolintURL("DL3014"),
			Message: "Use apt-get install -y so the build does not wait for input",
			Doc: `Without -y (or --yes, --assume-yes, -qq) apt-get asks for confirmation
and, with no terminal in the build, aborts.

  RUN apt-get install curl=7.88.1-10       # bad
  RUN apt-get install -y curl=7.88.1-10    # good`,
			Check: checkAptGetYes,
		},
		&Rule{
			Code: "DL3015", Severity: Info, URL: hadolintURL("DL3015"),
			Message: "Avoid unneeded packages with apt-get install --no-install-recommends",
			Doc: `By default apt-get also installs recommended packages, which a container
rarely needs and which make the image larger.

  RUN apt-get install -y git=1:2.39.2-1.1                            # bad
  RUN apt-get install -y --no-install-recommends git=1:2.39.2-1.1    # good`,
			Check: checkAptGetNoRecommends,
		},
		&Rule{
			Code: "DL3016", Severity: Warning, URL: hadolintURL("DL3016"),
			Message: "Pin versions in npm install: use <package>@<version>",
			Doc: `npm install <package> takes the newest release on the day of the build.
Name a version, tag or range, a commit (#ref) for git URLs, or install
from package.json, a local folder or a tarball.

  RUN npm install -g typescript          # bad
  RUN npm install -g typescript@5.4.5    # good`,
			Check: checkNpmPinning,
		},
		&Rule{
			Code: "DL3018", Severity: Warning, URL: hadolintURL("DL3018"),
			Message: "Pin versions in apk add: use <package>=<version>",
			Doc: `apk add <package> takes whatever the repository holds on the day of the
build. Pin each package (=, ~ and local .apk files count).

  RUN apk add --no-cache curl             # bad
  RUN apk add --no-cache curl=8.5.0-r0    # good`,
			Check: checkApkPinning,
		},
		&Rule{
			Code: "DL3019", Severity: Info, URL: hadolintURL("DL3019"),
			Message: "Use apk add --no-cache instead of --update and removing /var/cache/apk/*",
			Doc: `--no-cache fetches the index for this command only and leaves no cache
in the layer. A cache mount on /var/cache/apk is fine too.

  RUN apk update && apk add curl=8.5.0-r0     # bad
  RUN apk add --no-cache curl=8.5.0-r0        # good`,
			Check: checkApkNoCache,
		},
		&Rule{
			Code: "DL3020", Severity: Error, URL: hadolintURL("DL3020"),
			Message: "Use COPY instead of ADD for files and folders",
			Doc: `ADD also fetches URLs and unpacks local tar archives; for plain files and
folders COPY says exactly what happens and nothing more.

  ADD requirements.txt /app/       # bad
  COPY requirements.txt /app/      # good
  ADD rootfs.tar.xz /              # fine: ADD unpacks it`,
			Check: checkAddForFiles,
		},
		&Rule{
			Code: "DL3021", Severity: Error, URL: hadolintURL("DL3021"),
			Message: "COPY with more than one source needs a destination that ends with /",
			Doc: `When COPY copies several sources the destination must be a directory, and
the build fails unless it is written with a trailing slash.

  COPY package.json package-lock.json /app      # bad
  COPY package.json package-lock.json /app/     # good`,
			Check: checkCopyDestSlash,
		},
		&Rule{
			Code: "DL3022", Severity: Warning, URL: hadolintURL("DL3022"),
			Message: "COPY --from should name a stage defined before it (or an image reference)",
			Doc: `COPY --from=<name> looks for an earlier stage with that name or index;
a name that is not one is pulled as an image, which is rarely what a typo
meant.

  FROM golang:1.22 AS build
  FROM alpine:3.19
  COPY --from=buld /out/app /app     # bad: no stage "buld"
  COPY --from=build /out/app /app    # good`,
			Check: checkCopyFromDefined,
		},
		&Rule{
			Code: "DL3023", Severity: Error, URL: hadolintURL("DL3023"),
			Message: "COPY --from cannot copy from the stage it is in",
			Doc: `A stage cannot read its own result while it is being built; BuildKit
rejects the cycle. Copy from an earlier stage.

  FROM golang:1.22 AS build
  COPY --from=build /out/app /app    # bad`,
			Check: checkCopyFromSelf,
		},
		&Rule{
			Code: "DL3024", Severity: Error, URL: hadolintURL("DL3024"),
			Message: "Stage names (FROM ... AS name) must be unique",
			Doc: `COPY --from and --target find a stage by name; two stages with the same
name (compared without case) make that ambiguous.

  FROM node:20 AS build
  FROM golang:1.22 AS build     # bad
  FROM golang:1.22 AS build-go  # good`,
			Check: checkUniqueStageNames,
		},
		&Rule{
			Code: "DL3025", Severity: Warning, URL: hadolintURL("DL3025"),
			Message: "Use JSON (exec) form for CMD and ENTRYPOINT",
			Doc: `In shell form the command runs under /bin/sh -c, which becomes PID 1 and
does not pass signals on, so docker stop has to kill the container.

  CMD node server.js              # bad
  CMD ["node", "server.js"]       # good`,
			Check: checkJSONCmd,
		},
		&Rule{
			Code: "DL3026", Severity: Error, URL: hadolintURL("DL3026"),
			Message: "Use only trusted registries in FROM",
			Doc: `With trustedRegistries configured, base images must come from one of them
(* wildcards allowed; docker.io covers images without a registry).
scratch and earlier stages are always fine.

  # trustedRegistries: [registry.example.com]
  FROM quay.io/org/tool:1.0                     # bad
  FROM registry.example.com/org/tool:1.0        # good`,
			Check: checkTrustedRegistry,
		},
		&Rule{
			Code: "DL3027", Severity: Warning, URL: hadolintURL("DL3027"),
			Message: "Do not use apt, it is meant for people at a terminal; use apt-get or apt-cache",
			Doc: `apt's command line and output are not a stable interface, and it warns
when it runs in a script. apt-get and apt-cache are.

  RUN apt install -y curl=7.88.1-10          # bad
  RUN apt-get install -y curl=7.88.1-10      # good`,
			Check: checkAptCommand,
		},
		&Rule{
			Code: "DL3028", Severity: Warning, URL: hadolintURL("DL3028"),
			Message: "Pin versions in gem install: use <gem>:<version> or -v <version>",
			Doc: `gem install <gem> takes the newest release on the day of the build. Pin
each gem, or give a version with -v/--version.

  RUN gem install bundler           # bad
  RUN gem install bundler:2.5.6     # good`,
			Check: checkGemPinning,
		},
		&Rule{
			Code: "DL3029", Severity: Warning, URL: hadolintURL("DL3029"),
			Message: "Do not use --platform with FROM, except $BUILDPLATFORM or $TARGETPLATFORM",
			Doc: `A fixed --platform ties the Dockerfile to one architecture and defeats
multi-platform builds; choose the platform when building.

  FROM --platform=linux/amd64 debian:12             # bad
  FROM --platform=$BUILDPLATFORM golang:1.22 AS b   # fine: cross-compiling`,
			Check: checkFromPlatform,
		},
		&Rule{
			Code: "DL3030", Severity: Warning, URL: hadolintURL("DL3030"),
			Message: "Use yum install -y so the build does not wait for input",
			Doc: `Without -y (or --assumeyes) yum asks for confirmation and, with no
terminal in the build, fails.

  RUN yum install httpd-2.4.57 && yum clean all       # bad
  RUN yum install -y httpd-2.4.57 && yum clean all    # good`,
			Check: checkYumYes,
		},
		&Rule{
			Code: "DL3032", Severity: Warning, URL: hadolintURL("DL3032"),
			Message: "Run yum clean all in the RUN that runs yum install",
			Doc: `yum keeps metadata and packages under /var/cache/yum, which stay in the
layer unless removed in the same RUN (or kept in a cache mount).

  RUN yum install -y httpd-2.4.57                     # bad
  RUN yum install -y httpd-2.4.57 && yum clean all    # good`,
			Check: checkYumClean,
		},
		&Rule{
			Code: "DL3033", Severity: Warning, URL: hadolintURL("DL3033"),
			Message: "Pin versions in yum install: use <package>-<version>",
			Doc: `yum install <package> takes the newest build in the repositories on the
day of the build. Pin each package (modules as <module>:<stream>).

  RUN yum install -y httpd && yum clean all           # bad
  RUN yum install -y httpd-2.4.57 && yum clean all    # good`,
			Check: checkYumPinning,
		},
	)
}

// eachRun calls fn with every RUN and ONBUILD RUN and the commands it
// runs, unwrapped (see Command.Unwrap).
func eachRun(d *Document, fn func(in *Instruction, cmds []Command)) {
	for _, in := range d.All {
		cmds := shellCommands(d, in)
		if len(cmds) == 0 {
			continue
		}
		for i, c := range cmds {
			cmds[i] = c.Unwrap()
		}
		fn(in, cmds)
	}
}

// reportRuns reports every RUN (and ONBUILD RUN) where some command
// satisfies bad.
func reportRuns(d *Document, r *Reporter, bad func(c Command) bool) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		if slices.ContainsFunc(cmds, bad) {
			r.Report(in)
		}
	})
}

// reportUnpinned reports the unpinned packages of a RUN as one finding.
func reportUnpinned(r *Reporter, in *Instruction, pkgs []string) {
	if len(pkgs) > 0 {
		r.Reportf(in, "%s (%s)", r.rule.Message, strings.Join(pkgs, ", "))
	}
}

// unpinnedPackages filters pkgs through pinned; words that start with an
// expansion ("$PACKAGES") cannot be judged and are left out.
func unpinnedPackages(pkgs []string, pinned func(string) bool) []string {
	var out []string
	for _, p := range pkgs {
		if p == "" || strings.HasPrefix(p, "$") || strings.HasPrefix(p, "`") || pinned(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// afterSubcommand returns the operands after the first that is one of
// subs, or nil when none is.
func afterSubcommand(ops []string, subs ...string) []string {
	for i, o := range ops {
		if slices.Contains(subs, o) {
			return ops[i+1:]
		}
	}
	return nil
}

// dropQuotes removes the quotes around a Dockerfile word.
func dropQuotes(s string) string { return strings.Trim(s, `"'`) }

// hasPathPrefix reports whether p is dir or inside it.
func hasPathPrefix(p, dir string) bool {
	p = dropQuotes(p)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func checkAbsoluteWorkdir(d *Document, r *Reporter) {
	for _, in := range d.All {
		wd, ok := in.Cmd.(*instructions.WorkdirCommand)
		if !ok {
			continue
		}
		p := dropQuotes(wd.Path)
		if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") || isWindowsAbs(p) {
			continue
		}
		r.Report(in)
	}
}

// isWindowsAbs reports whether p starts with a drive ("C:\", "C:/").
func isWindowsAbs(p string) bool {
	return len(p) >= 2 && p[1] == ':' && unicode.IsLetter(rune(p[0]))
}

var pointlessCommands = []string{"free", "ifconfig", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"}

func checkPointlessCommands(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		for _, c := range cmds {
			if slices.Contains(pointlessCommands, c.Name) {
				r.Reportf(in, "`%s` makes no sense in a build step", c.Name)
				return
			}
		}
	})
}

func checkLastUserRoot(d *Document, r *Reporter) {
	for _, st := range d.Stages {
		var last *Instruction
		for _, in := range st.Instructions {
			if _, ok := in.Cmd.(*instructions.UserCommand); ok {
				last = in
			}
		}
		if last == nil {
			continue
		}
		user := dropQuotes(last.Cmd.(*instructions.UserCommand).User)
		name, _, _ := strings.Cut(user, ":")
		if name == "root" || name == "0" {
			r.Report(last)
		}
	}
}

func checkCdInRun(d *Document, r *Reporter) {
	reportRuns(d, r, func(c Command) bool { return c.Name == "cd" })
}

func checkSudo(d *Document, r *Reporter) {
	for _, in := range d.All {
		for _, c := range shellCommands(d, in) {
			if usesSudo(c) {
				r.Report(in)
				break
			}
		}
	}
}

// usesSudo reports whether c is sudo or runs it through other wrappers.
func usesSudo(c Command) bool {
	for {
		if path.Base(c.Name) == "sudo" {
			return true
		}
		next, ok := c.unwrapOnce()
		if !ok {
			return false
		}
		c = next
	}
}

// imageRef is a FROM image reference split into its parts.
type imageRef struct {
	registry string // "" when none is written
	repo     string // the rest of the name, without tag or digest
	tag      string
	digest   string
}

func parseImageRef(s string) imageRef {
	var ref imageRef
	s, ref.digest, _ = strings.Cut(dropQuotes(s), "@")
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s, ref.tag = s[:i], s[i+1:]
	}
	if first, rest, ok := strings.Cut(s, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		ref.registry, s = first, rest
	}
	ref.repo = s
	return ref
}

// stageNamed reports whether name is the name of one of stages.
func stageNamed(stages []*Stage, name string) bool {
	return slices.ContainsFunc(stages, func(s *Stage) bool { return s.Name != "" && strings.EqualFold(s.Name, name) })
}

// baseImage is the image a stage builds FROM, as written.
func baseImage(st *Stage) string {
	if s, ok := st.From.Cmd.(*instructions.Stage); ok {
		return s.BaseName
	}
	return ""
}

func checkUntaggedImage(d *Document, r *Reporter) {
	for i, st := range d.Stages {
		base := baseImage(st)
		if base == "" || strings.EqualFold(base, "scratch") || strings.Contains(base, "$") || stageNamed(d.Stages[:i], base) {
			continue
		}
		if ref := parseImageRef(base); ref.tag == "" && ref.digest == "" {
			r.Report(st.From)
		}
	}
}

func checkLatestTag(d *Document, r *Reporter) {
	for _, st := range d.Stages {
		if ref := parseImageRef(baseImage(st)); ref.tag == "latest" && ref.digest == "" {
			r.Report(st.From)
		}
	}
}

// aptGetValued are apt-get options that take a value.
var aptGetValued = []string{"-t", "--target-release", "--default-release", "-o", "--option", "-c", "--config-file"}

func isAptGetInstall(c Command) bool { return c.Name == "apt-get" && c.HasArg("install") }

func checkAptGetPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			if isAptGetInstall(c) {
				bad = append(bad, unpinnedPackages(afterSubcommand(c.Operands(aptGetValued...), "install"), func(p string) bool {
					return strings.ContainsAny(p, "=/") || strings.HasSuffix(p, ".deb")
				})...)
			}
		}
		reportUnpinned(r, in, bad)
	})
}

func checkAptListsRemoved(d *Document, r *Reporter) {
	usedAsBase := func(st *Stage) bool {
		return st.Name != "" && slices.ContainsFunc(d.Stages, func(o *Stage) bool { return strings.EqualFold(baseImage(o), st.Name) })
	}
	final := len(d.Stages) - 1
	for _, in := range d.All {
		if !keepsAptLists(d, in) {
			continue
		}
		// An ONBUILD trigger runs in the image built FROM this one.
		if in.Trigger != nil || in.Stage == nil || in.Stage.Index == final || usedAsBase(in.Stage) {
			r.Report(in)
		}
	}
}

// keepsAptLists reports whether a RUN updates the apt lists and leaves
// them in its layer.
func keepsAptLists(d *Document, in *Instruction) bool {
	var updates, removes bool
	for _, c := range shellCommands(d, in) {
		c = c.Unwrap()
		switch {
		case (c.Name == "apt-get" || c.Name == "apt") && c.HasArg("update"):
			updates = true
		case c.Name == "rm" && slices.ContainsFunc(c.Operands(), func(p string) bool { return hasPathPrefix(p, "/var/lib/apt/lists") }):
			removes = true
		}
	}
	if !updates || removes {
		return false
	}
	mounts := cacheMounts(in)
	mounted := func(dir string) bool {
		return slices.ContainsFunc(mounts, func(t string) bool { return hasPathPrefix(t, dir) })
	}
	return !mounted("/var/lib/apt/lists") && !(mounted("/var/lib/apt") && mounted("/var/cache/apt"))
}

// tarExtensions are the suffixes of files ADD unpacks.
var tarExtensions = []string{".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz"}

func isTarArchive(p string) bool {
	p = dropQuotes(p)
	return slices.ContainsFunc(tarExtensions, func(ext string) bool { return strings.HasSuffix(p, ext) })
}

// fileBase is the last element of a Unix or Windows path.
func fileBase(p string) string {
	p = dropQuotes(p)
	return p[strings.LastIndexAny(p, `/\`)+1:]
}

var unpackCommands = []string{"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"}

// extractsArchives returns the base names of the files c unpacks.
func extractsArchives(c Command) []string {
	ops := c.Operands()
	switch {
	case slices.Contains(unpackCommands, c.Name):
	case c.Name == "tar":
		extract := c.HasArg("--extract", "--get") || slices.ContainsFunc(c.Args, func(a string) bool {
			return len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a, "x")
		})
		// Old-style bundled options: tar xzf file.tgz.
		if !extract && len(c.Args) > 0 && !strings.HasPrefix(c.Args[0], "-") && strings.Contains(c.Args[0], "x") {
			extract, ops = true, ops[1:]
		}
		if !extract {
			return nil
		}
	default:
		return nil
	}
	var names []string
	for _, o := range ops {
		names = append(names, fileBase(o))
	}
	return names
}

func checkCopiedArchiveExtracted(d *Document, r *Reporter) {
	for _, st := range d.Stages {
		copied := map[string][]*Instruction{} // archive base name -> COPYs
		reported := map[*Instruction]bool{}
		for _, in := range st.Instructions {
			if cp, ok := in.Cmd.(*instructions.CopyCommand); ok && cp.From == "" {
				if isTarArchive(cp.DestPath) {
					copied[fileBase(cp.DestPath)] = append(copied[fileBase(cp.DestPath)], in)
				} else {
					for _, src := range cp.SourcePaths {
						if isTarArchive(src) {
							copied[fileBase(src)] = append(copied[fileBase(src)], in)
						}
					}
				}
				continue
			}
			if in.Trigger != nil {
				continue
			}
			for _, c := range shellCommands(d, in) {
				for _, name := range extractsArchives(c.Unwrap()) {
					for _, cp := range copied[name] {
						if !reported[cp] {
							reported[cp] = true
							r.Report(cp)
						}
					}
				}
			}
		}
	}
}

func checkPortRange(d *Document, r *Reporter) {
	for _, in := range d.All {
		ex, ok := in.Cmd.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		for _, p := range ex.Ports {
			num, _, _ := strings.Cut(p, "/")
			lo, hi, _ := strings.Cut(num, "-")
			if portTooLarge(lo) || portTooLarge(hi) {
				r.Reportf(in, "%s (%s)", r.rule.Message, p)
				break
			}
		}
	}
}

// portTooLarge reports whether s is a number above 65535; other words
// (variables) are not judged.
func portTooLarge(s string) bool {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(s)
	return err != nil || n > 65535
}

func checkSingleHealthcheck(d *Document, r *Reporter) {
	for _, st := range d.Stages {
		seen := false
		for _, in := range st.Instructions {
			if !in.Is("healthcheck") {
				continue
			}
			if seen {
				r.Report(in)
			}
			seen = true
		}
	}
}

// pipValued are pip install options that take a value.
var pipValued = []string{
	"-b", "--build", "-c", "--constraint", "-e", "--editable", "--extra-index-url", "-f", "--find-links",
	"-i", "--index-url", "--implementation", "--no-binary", "--only-binary", "--platform", "--prefix",
	"--progress-bar", "--proxy", "--python-version", "-r", "--requirement", "--root", "--src", "-t", "--target",
	"--trusted-host", "--upgrade-strategy", "--abi", "--cache-dir", "--log", "--timeout", "--retries",
	"--exists-action", "--global-option", "--install-option", "-C", "--config-settings", "--cert", "--client-cert",
	"--report", "--python",
}

// pipInstall returns the arguments after `install` of a pip install
// (pip, pip3, pip3.12, python -m pip; not pipx or pipenv), and whether c
// is one.
func pipInstall(c Command) ([]string, bool) {
	args := c.Args
	switch {
	case c.Name == "pip" || strings.HasPrefix(c.Name, "pip") && strings.Trim(c.Name[3:], "0123456789.") == "":
	case strings.HasPrefix(c.Name, "python"):
		i := slices.Index(args, "-m")
		if i < 0 || i+1 >= len(args) || args[i+1] != "pip" {
			return nil, false
		}
		args = args[i+2:]
	default:
		return nil, false
	}
	// The subcommand is the first operand: `pip show install` installs
	// nothing.
	if ops := (Command{Args: args}).Operands(pipValued...); len(ops) == 0 || ops[0] != "install" {
		return nil, false
	}
	return argsAfterOperand(args, "install", pipValued)
}

// argsAfterOperand returns the arguments after the first operand equal to
// op (see Command.Operands for valued), and whether there is one.
func argsAfterOperand(args []string, op string, valued []string) ([]string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == op:
			return args[i+1:], true
		case a == "--":
			return nil, false
		case strings.HasPrefix(a, "-") && optionTakesNext(a, valued):
			i++
		}
	}
	return nil, false
}

var pipVersionOperators = []string{"==", ">=", "<=", ">", "<", "!=", "~=", "==="}

func pipPinned(p string) bool {
	switch {
	case slices.ContainsFunc(pipVersionOperators, func(op string) bool { return strings.Contains(p, op) }):
	case strings.Contains(p, "git+") && strings.Contains(p, "@"):
	case strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz"):
	case p == "." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/"):
	default:
		return false
	}
	return true
}

func checkPipPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			args, ok := pipInstall(c)
			if !ok {
				continue
			}
			sub := Command{Args: args}
			if sub.HasFlag("-r", "--requirement", "-c", "--constraint") || sub.HasArg(".") {
				continue
			}
			bad = append(bad, unpinnedPackages(sub.Operands(pipValued...), pipPinned)...)
		}
		reportUnpinned(r, in, bad)
	})
}

func checkAptGetYes(d *Document, r *Reporter) {
	reportRuns(d, r, func(c Command) bool {
		return isAptGetInstall(c) && !aptGetAssumesYes(c)
	})
}

// aptGetAssumesYes reports whether apt-get answers its prompts itself:
// -y, --yes, --assume-yes, --force-yes, -qq (quiet level 2), or the
// APT::Get::Assume-Yes option.
func aptGetAssumesYes(c Command) bool {
	if c.HasFlag("-y", "--yes", "--assume-yes", "--force-yes") {
		return true
	}
	quiet := 0
	for _, a := range c.Args {
		switch {
		case a == "--":
			return quiet >= 2
		case a == "--quiet=2", a == "-q=2":
			quiet += 2
		case a == "--quiet":
			quiet++
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			quiet += strings.Count(a, "q")
		case strings.Contains(strings.ToLower(a), "apt::get::assume-yes=true"):
			return true
		}
	}
	return quiet >= 2
}

func checkAptGetNoRecommends(d *Document, r *Reporter) {
	reportRuns(d, r, func(c Command) bool {
		return isAptGetInstall(c) && !c.HasFlag("--no-install-recommends") && !slices.ContainsFunc(c.Args, func(a string) bool {
			a = strings.ToLower(a)
			return strings.HasSuffix(a, "apt::install-recommends=false") || strings.HasSuffix(a, "apt::install-recommends=0")
		})
	})
}

// npmValued are npm options that take a value.
var npmValued = []string{"--loglevel", "--registry", "--prefix", "--cache", "--userconfig", "--globalconfig", "--tag", "-w", "--workspace", "--omit", "--include", "--location", "--before", "--fetch-timeout", "--fetch-retries", "--install-strategy"}

func npmPinned(p string) bool {
	for _, prefix := range []string{"git://", "git+ssh://", "git+http://", "git+https://"} {
		if strings.HasPrefix(p, prefix) {
			return strings.Contains(p, "#")
		}
	}
	for _, suffix := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	for _, prefix := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	if strings.HasPrefix(p, "@") { // @scope/name@version
		_, p, _ = strings.Cut(p, "/")
	}
	return strings.Contains(p, "@")
}

func checkNpmPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			if c.Name != "npm" {
				continue
			}
			ops := c.Operands(npmValued...)
			if len(ops) == 0 || !slices.Contains([]string{"install", "i", "add"}, ops[0]) {
				continue
			}
			bad = append(bad, unpinnedPackages(ops[1:], npmPinned)...)
		}
		reportUnpinned(r, in, bad)
	})
}

// apkValued are apk options that take a value.
var apkValued = []string{"-t", "--virtual", "-X", "--repository", "-p", "--root", "--keys-dir", "--cache-dir", "--arch", "--repositories-file"}

func isApkAdd(c Command) bool { return c.Name == "apk" && c.HasArg("add") }

func checkApkPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			if isApkAdd(c) {
				bad = append(bad, unpinnedPackages(afterSubcommand(c.Operands(apkValued...), "add"), func(p string) bool {
					return strings.ContainsAny(p, "=~") || strings.HasSuffix(p, ".apk")
				})...)
			}
		}
		reportUnpinned(r, in, bad)
	})
}

func checkApkNoCache(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		if slices.ContainsFunc(cacheMounts(in), func(t string) bool {
			return hasPathPrefix(t, "/var/cache/apk") || hasPathPrefix(t, "/etc/apk/cache")
		}) {
			return
		}
		if slices.ContainsFunc(cmds, func(c Command) bool { return isApkAdd(c) && !c.HasFlag("--no-cache") }) {
			r.Report(in)
		}
	})
}

// isRemoteSource reports whether an ADD source is fetched rather than
// copied: a URL or a git repository.
func isRemoteSource(s string) bool {
	s = dropQuotes(s)
	for _, prefix := range []string{"http://", "https://", "git://", "git@", "ssh://"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func checkAddForFiles(d *Document, r *Reporter) {
	for _, in := range d.All {
		add, ok := in.Cmd.(*instructions.AddCommand)
		if !ok {
			continue
		}
		if slices.ContainsFunc(add.SourcePaths, func(s string) bool {
			return !isTarArchive(s) && !isRemoteSource(s) && !strings.HasPrefix(dropQuotes(s), "$")
		}) {
			r.Report(in)
		}
	}
}

func checkCopyDestSlash(d *Document, r *Reporter) {
	for _, in := range d.All {
		cp, ok := in.Cmd.(*instructions.CopyCommand)
		if !ok || len(cp.SourcePaths)+len(cp.SourceContents) < 2 {
			continue
		}
		if dest := dropQuotes(cp.DestPath); !strings.HasSuffix(dest, "/") && !strings.HasSuffix(dest, `\`) {
			r.Report(in)
		}
	}
}

// copyFrom returns the --from of a COPY, or "" when it has none or it is
// built from variables.
func copyFrom(in *Instruction) string {
	cp, ok := in.Cmd.(*instructions.CopyCommand)
	if !ok || strings.Contains(cp.From, "$") {
		return ""
	}
	return dropQuotes(cp.From)
}

// stageIndex is the index of in's stage, -1 before the first FROM.
func stageIndex(in *Instruction) int {
	if in.Stage == nil {
		return -1
	}
	return in.Stage.Index
}

func checkCopyFromDefined(d *Document, r *Reporter) {
	for _, in := range d.All {
		from := copyFrom(in)
		if from == "" || strings.ContainsAny(from, ":/@") { // an image reference
			continue
		}
		cur := stageIndex(in)
		if n, err := strconv.Atoi(from); err == nil {
			if n > cur {
				r.Report(in)
			}
			continue
		}
		if !stageNamed(d.Stages[:cur+1], from) {
			r.Report(in)
		}
	}
}

func checkCopyFromSelf(d *Document, r *Reporter) {
	for _, in := range d.All {
		from := copyFrom(in)
		if from == "" || in.Stage == nil {
			continue
		}
		if n, err := strconv.Atoi(from); err == nil && n == in.Stage.Index || in.Stage.Name != "" && strings.EqualFold(from, in.Stage.Name) {
			r.Report(in)
		}
	}
}

func checkUniqueStageNames(d *Document, r *Reporter) {
	for i, st := range d.Stages {
		if st.Name != "" && stageNamed(d.Stages[:i], st.Name) {
			r.Report(st.From)
		}
	}
}

func checkJSONCmd(d *Document, r *Reporter) {
	for _, in := range d.All {
		if !in.Is("cmd", "entrypoint") || in.ParseErr != nil || in.IsJSON() {
			continue
		}
		if fix, ok := jsonFormFix(d, in); ok {
			r.ReportFix(in, fix, "%s", r.rule.Message)
			continue
		}
		r.Report(in)
	}
}

// dockerHub are the names of Docker Hub's registry.
var dockerHub = []string{"docker.io", "index.docker.io", "registry-1.docker.io", "hub.docker.com"}

func checkTrustedRegistry(d *Document, r *Reporter) {
	trusted := r.Config().TrustedRegistries
	if len(trusted) == 0 {
		return
	}
	allowed := func(registry string) bool {
		return slices.ContainsFunc(trusted, func(pattern string) bool {
			ok, _ := path.Match(pattern, registry)
			return ok || slices.Contains(dockerHub, registry) && slices.Contains(dockerHub, pattern)
		})
	}
	for i, st := range d.Stages {
		base := baseImage(st)
		if base == "" || strings.EqualFold(base, "scratch") || stageNamed(d.Stages[:i], base) {
			continue
		}
		ref := parseImageRef(base)
		registry := ref.registry
		if registry == "" {
			if strings.HasPrefix(ref.repo, "$") {
				continue
			}
			registry = "docker.io"
		}
		if strings.Contains(registry, "$") || allowed(registry) {
			continue
		}
		r.Reportf(st.From, "%s (%s is not in trustedRegistries)", r.rule.Message, registry)
	}
}

func checkAptCommand(d *Document, r *Reporter) {
	reportRuns(d, r, func(c Command) bool { return c.Name == "apt" })
}

// gemSwitches are gem install options that take no value (all others
// are taken to take one, as most do).
var gemSwitches = []string{
	"-N", "--no-document", "--no-ri", "--no-rdoc", "--user-install", "--no-user-install", "-f", "--force", "--no-force",
	"-l", "--local", "-r", "--remote", "-b", "--both", "--conservative", "--minimal-deps", "--prerelease", "--no-prerelease",
	"--development", "--development-all", "--ignore-dependencies", "--wrappers", "--no-wrappers", "-E", "--env-shebang",
	"--no-env-shebang", "--default", "--explain", "--lock", "--no-lock", "--suggestions", "--no-suggestions",
	"--clear-sources", "-q", "--quiet", "-V", "--verbose", "--no-verbose", "--backtrace", "--debug", "--silent",
	"--vendor", "--post-install-message", "--no-post-install-message", "--update-sources", "--no-update-sources",
	"--format-executable", "--no-format-executable", "-u", "--no-http-proxy",
}

// gemInstallGems returns the gems a gem install names, and false when c
// is not one or gives a version with -v/--version.
func gemInstallGems(c Command) ([]string, bool) {
	if c.Name != "gem" {
		return nil, false
	}
	args := c.Args
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[:i] // build options follow
	}
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-v" || a == "--version" || strings.HasPrefix(a, "--version=") || strings.HasPrefix(a, "-v") && len(a) > 2 && unicode.IsDigit(rune(a[2])):
			return nil, false
		case !strings.HasPrefix(a, "-"):
			ops = append(ops, a)
		case !strings.Contains(a, "=") && !slices.Contains(gemSwitches, a) && (strings.HasPrefix(a, "--") || len(a) == 2):
			i++ // its value
		}
	}
	if len(ops) == 0 || ops[0] != "install" && ops[0] != "i" {
		return nil, false
	}
	return ops[1:], true
}

func checkGemPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			if gems, ok := gemInstallGems(c); ok {
				bad = append(bad, unpinnedPackages(gems, func(g string) bool {
					return strings.Contains(g, ":") || strings.HasSuffix(g, ".gem")
				})...)
			}
		}
		reportUnpinned(r, in, bad)
	})
}

func checkFromPlatform(d *Document, r *Reporter) {
	for _, st := range d.Stages {
		s, ok := st.From.Cmd.(*instructions.Stage)
		if !ok {
			continue
		}
		p := dropQuotes(s.Platform)
		if p != "" && !strings.Contains(p, "BUILDPLATFORM") && !strings.Contains(p, "TARGETPLATFORM") {
			r.Report(st.From)
		}
	}
}

// yumValued are yum options that take a value.
var yumValued = []string{"-c", "--config", "--installroot", "--enablerepo", "--disablerepo", "--releasever", "--setopt", "-x", "--exclude", "-d", "--debuglevel", "-e", "--errorlevel", "--rpmverbosity", "-R", "--randomwait", "--downloaddir", "--color"}

func isYumInstall(c Command) bool { return c.Name == "yum" && c.HasArg("install") }

func checkYumYes(d *Document, r *Reporter) {
	reportRuns(d, r, func(c Command) bool {
		return c.Name == "yum" && c.HasArg("install", "groupinstall", "localinstall") && !c.HasFlag("-y", "--assumeyes")
	})
}

func checkYumClean(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		if !slices.ContainsFunc(cmds, isYumInstall) {
			return
		}
		cleans := slices.ContainsFunc(cmds, func(c Command) bool {
			return c.Name == "yum" && c.HasArg("clean") ||
				c.Name == "rm" && slices.ContainsFunc(c.Operands(), func(p string) bool { return hasPathPrefix(p, "/var/cache/yum") })
		})
		if !cleans && !slices.ContainsFunc(cacheMounts(in), func(t string) bool { return hasPathPrefix(t, "/var/cache/yum") }) {
			r.Report(in)
		}
	})
}

// yumPackagePinned reports whether a yum package names a version: a
// dash followed by version-like parts, one starting with a digit (or an
// expansion), or an .rpm file.
func yumPackagePinned(p string) bool {
	if strings.HasSuffix(p, ".rpm") {
		return true
	}
	parts := strings.Split(p, "-")
	if len(parts) < 2 {
		return false
	}
	digit := false
	for _, part := range parts[1:] {
		if strings.Contains(part, "$") {
			digit = true
			continue
		}
		if part == "" || strings.Trim(part, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.~^_:+") != "" {
			return false
		}
		digit = digit || unicode.IsDigit(rune(part[0]))
	}
	return digit
}

func checkYumPinning(d *Document, r *Reporter) {
	eachRun(d, func(in *Instruction, cmds []Command) {
		var bad []string
		for _, c := range cmds {
			if !isYumInstall(c) {
				continue
			}
			ops := c.Operands(yumValued...)
			if slices.Contains(ops, "module") {
				bad = append(bad, unpinnedPackages(afterSubcommand(ops, "install"), func(m string) bool { return strings.Contains(m, ":") })...)
			} else {
				bad = append(bad, unpinnedPackages(afterSubcommand(ops, "install"), yumPackagePinned)...)
			}
		}
		reportUnpinned(r, in, bad)
	})
}
