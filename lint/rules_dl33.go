package lint

import (
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// hadolint's rules DL3034 to DL3067: zypper, dnf, pip, yarn and go
// commands in RUN, ENV/ARG/COPY/USER/LABEL checks, the label schema, and
// stage-level checks. DL3039 was removed from hadolint and is not here.

func init() {
	registerRules(
		dl3034, dl3035, dl3036, dl3037, dl3038, dl3040, dl3041, dl3042,
		dl3043, dl3044, dl3045, dl3046, dl3047, dl3048, dl3049, dl3050,
		dl3051, dl3052, dl3053, dl3054, dl3055, dl3056, dl3057, dl3058,
		dl3059, dl3060, dl3061, dl3062, dl3063, dl3064, dl3065, dl3066,
		dl3067,
	)
}

func hadolintWiki(code string) string { return "https://github.com/hadolint/hadolint/wiki/" + code }

// --- zypper ---------------------------------------------------------------

// zypperValued are zypper's options that take a separate value.
var zypperValued = []string{
	"-R", "--root", "-c", "--config", "-D", "--reposd-dir", "-C", "--cache-dir",
	"--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir", "-r", "--repo",
	"-t", "--type", "--from", "-p", "--plus-repo", "--plus-content", "--userdata",
}

// zypperAction is a zypper command's subcommand and the operands after it;
// ok is false for other commands.
func zypperAction(c Command) (sub string, rest []string, ok bool) {
	if path.Base(c.Name) != "zypper" {
		return "", nil, false
	}
	ops := c.Operands(zypperValued...)
	if len(ops) == 0 {
		return "", nil, true
	}
	return ops[0], ops[1:], true
}

var dl3034 = &Rule{
	Code:     "DL3034",
	Severity: Warning,
	Message:  "zypper may stop to ask for confirmation: add -y (`zypper install -y <package>`) or the global -n",
	Doc: `A build has no one to answer zypper's prompts, so an install, removal or patch
without a non-interactive switch hangs or aborts. Pass -y/--no-confirm to the
subcommand or -n/--non-interactive to zypper itself.

Bad:  RUN zypper install httpd=2.4.46
Good: RUN zypper install -y httpd=2.4.46 && zypper clean`,
	URL: hadolintWiki("DL3034"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				sub, _, ok := zypperAction(c)
				if !ok || !slices.Contains([]string{"install", "in", "remove", "rm", "source-install", "si", "patch"}, sub) {
					continue
				}
				if !c.HasFlag("-y", "--no-confirm", "-n", "--non-interactive") {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3035 = &Rule{
	Code:     "DL3035",
	Severity: Warning,
	Message:  "Do not run `zypper dist-upgrade` in a Dockerfile",
	Doc: `A distribution upgrade inside an image build pulls whatever the repositories
hold that day: the image changes from build to build and may break. Use a
newer base image instead, and install or update only the packages you need.

Bad:  RUN zypper dist-upgrade -y
Good: FROM opensuse/leap:15.6`,
	URL: hadolintWiki("DL3035"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if sub, _, ok := zypperAction(c); ok && (sub == "dist-upgrade" || sub == "dup") {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3036 = &Rule{
	Code:     "DL3036",
	Severity: Warning,
	Message:  "Run `zypper clean` after installing packages with zypper",
	Doc: `zypper keeps downloaded packages and repository metadata under
/var/cache/zypp. Left in the layer they only make the image bigger; clean the
cache in the same RUN as the install (or install through a cache mount).

Bad:  RUN zypper install -y mariadb=10.6
Good: RUN zypper install -y mariadb=10.6 && zypper clean -a`,
	URL: hadolintWiki("DL3036"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if cacheMountedAt(in, "/var/cache/zypp") {
				continue
			}
			cmds := runCommands(d, in)
			install := lastIndex(cmds, func(c Command) bool {
				sub, _, ok := zypperAction(c)
				return ok && (sub == "install" || sub == "in")
			})
			clean := lastIndex(cmds, func(c Command) bool {
				sub, _, ok := zypperAction(c)
				return ok && (sub == "clean" || sub == "cc")
			})
			if install >= 0 && clean < install {
				r.Report(in)
			}
		}
	},
}

var dl3037 = &Rule{
	Code:     "DL3037",
	Severity: Warning,
	Message:  "Pin the versions of zypper packages: `zypper install -y <package>=<version>`",
	Doc: `Without a version, zypper installs whatever is newest when the image is built,
so two builds of the same Dockerfile can differ. Pin each package with =, >=,
<= (quote or escape < and >), or install an .rpm file.

Bad:  RUN zypper install -y tomcat
Good: RUN zypper install -y tomcat=9.0.39 && zypper clean`,
	URL: hadolintWiki("DL3037"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				sub, pkgs, ok := zypperAction(c)
				if !ok || (sub != "install" && sub != "in") {
					continue
				}
				if slices.ContainsFunc(pkgs, func(p string) bool {
					return !strings.ContainsAny(p, "=<>") && !strings.HasSuffix(p, ".rpm")
				}) {
					r.Report(in)
					break
				}
			}
		}
	},
}

// --- dnf ------------------------------------------------------------------

// dnfValued are dnf's and microdnf's options that take a separate value.
var dnfValued = []string{
	"-c", "--config", "--installroot", "--releasever", "-x", "--exclude",
	"--enablerepo", "--disablerepo", "--repo", "--repoid", "-d", "--debuglevel",
	"-e", "--errorlevel", "--forcearch", "--downloaddir", "--destdir",
	"--comment", "--color", "--rpmverbosity", "--setopt", "--setvar",
}

// dnfAction is a dnf or microdnf command's action ("install", "clean",
// "module install", "group install") and the operands after it; ok is
// false for other commands.
func dnfAction(c Command) (tool, action string, rest []string, ok bool) {
	tool = path.Base(c.Name)
	if tool != "dnf" && tool != "microdnf" && tool != "dnf5" {
		return "", "", nil, false
	}
	ops := c.Operands(dnfValued...)
	switch {
	case len(ops) == 0:
		return tool, "", nil, true
	case len(ops) > 1 && (ops[0] == "module" || ops[0] == "group" || ops[0] == "groups"):
		return tool, ops[0] + " " + ops[1], ops[2:], true
	}
	return tool, ops[0], ops[1:], true
}

func isDnfInstall(action string) bool {
	return action == "install" || strings.HasSuffix(action, " install") ||
		action == "groupinstall" || action == "localinstall"
}

var dl3038 = &Rule{
	Code:     "DL3038",
	Severity: Warning,
	Message:  "dnf needs -y to run unattended: `dnf install -y <package>`",
	Doc: `dnf asks for confirmation before installing; in a build nobody answers and
the step fails. Pass -y (--assumeyes) to dnf and microdnf installs.

Bad:  RUN dnf install httpd-2.4.57 && dnf clean all
Good: RUN dnf install -y httpd-2.4.57 && dnf clean all`,
	URL: hadolintWiki("DL3038"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if _, action, _, ok := dnfAction(c); ok && isDnfInstall(action) && !c.HasFlag("-y", "--assumeyes") {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3040 = &Rule{
	Code:     "DL3040",
	Severity: Warning,
	Message:  "Run `dnf clean all` after installing packages with dnf",
	Doc: `dnf leaves repository metadata and packages in its cache; in the layer they
are dead weight. Clean up in the same RUN as the install, with the same tool
(dnf or microdnf), or remove /var/cache/dnf (/var/cache/yum), or install
through a cache mount.

Bad:  RUN dnf install -y mariadb-10.5
Good: RUN dnf install -y mariadb-10.5 && dnf clean all`,
	URL: hadolintWiki("DL3040"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if cacheMountedAt(in, "/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5") {
				continue
			}
			cmds := runCommands(d, in)
			removed := lastIndex(cmds, func(c Command) bool {
				return path.Base(c.Name) == "rm" && slices.ContainsFunc(c.Operands(), func(p string) bool {
					return strings.HasPrefix(p, "/var/cache/dnf") || strings.HasPrefix(p, "/var/cache/yum")
				})
			})
			for _, tool := range []string{"dnf", "microdnf", "dnf5"} {
				install := lastIndex(cmds, func(c Command) bool {
					t, action, _, ok := dnfAction(c)
					return ok && t == tool && isDnfInstall(action)
				})
				clean := lastIndex(cmds, func(c Command) bool {
					t, action, _, ok := dnfAction(c)
					return ok && t == tool && action == "clean"
				})
				if install >= 0 && clean < install && removed < install {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3041 = &Rule{
	Code:     "DL3041",
	Severity: Warning,
	Message:  "Pin the versions of dnf packages: `dnf install -y <package>-<version>`",
	Doc: `An unpinned dnf install takes whatever version the repositories offer on the
day of the build. Name packages with their version (name-version, an epoch is
allowed), modules with their stream (name:stream), or install .rpm files. A
version from a variable counts when the variable is declared with ARG or ENV.

Bad:  RUN dnf install -y tomcat && dnf clean all
Good: RUN dnf install -y tomcat-9.0.1 && dnf module install -y nodejs:18 && dnf clean all`,
	URL: hadolintWiki("DL3041"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			var declared map[string]bool
			for _, c := range runCommands(d, in) {
				_, action, operands, ok := dnfAction(c)
				if !ok {
					continue
				}
				pinned := func(p string) bool {
					switch {
					case strings.HasPrefix(p, "@"), strings.HasSuffix(p, ".rpm"):
						return true // groups cannot be pinned; rpm files are
					case strings.Contains(p, "$"):
						if declared == nil {
							declared = declaredVars(d, in)
						}
						return slices.ContainsFunc(varRefs(p), func(v string) bool { return declared[v] })
					}
					return rpmVersioned(p)
				}
				switch action {
				case "install":
				case "module install":
					pinned = func(m string) bool { return strings.Contains(m, ":") }
				default:
					continue
				}
				if !allOf(operands, pinned) {
					r.Report(in)
					break
				}
			}
		}
	},
}

// rpmVersioned reports whether p reads as name-version[-release]: after the
// first dash, only version characters, with a part that starts with a
// digit ("rpm-sign-4.16.1.3", "openssl-1:1.1.1k", "gcc-c++-8.5.0").
func rpmVersioned(p string) bool {
	parts := strings.Split(p, "-")
	if len(parts) < 2 {
		return false
	}
	digit := false
	for _, part := range parts[1:] {
		if part == "" {
			return false
		}
		for _, ch := range part {
			if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || strings.ContainsRune(".~^_:+", ch)) {
				return false
			}
		}
		digit = digit || part[0] >= '0' && part[0] <= '9'
	}
	return digit
}

// --- pip ------------------------------------------------------------------

// runsPipInstall reports whether c runs `pip install` (see pipInstall,
// which DL3013 uses too).
func runsPipInstall(c Command) bool {
	c.Name = path.Base(c.Name)
	_, ok := pipInstall(c)
	return ok
}

// pipNoCacheInScript finds PIP_NO_CACHE_DIR set to a true value anywhere
// in the script (`PIP_NO_CACHE_DIR=1 pip ...`, `export PIP_NO_CACHE_DIR=on`).
var pipNoCacheInScript = regexp.MustCompile(`(?i)\bPIP_NO_CACHE_DIR=["']?(1|true|on|yes)\b`)

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

var dl3042 = &Rule{
	Code:     "DL3042",
	Severity: Warning,
	Message:  "pip keeps its download cache in the image: use `pip install --no-cache-dir <package>`",
	Doc: `pip caches every wheel it downloads under ~/.cache/pip, which ends up in the
layer for nothing. Pass --no-cache-dir, set PIP_NO_CACHE_DIR to a true value
(ENV in the stage or one it builds on, or in the RUN itself), or mount a cache
at the pip cache directory so it never reaches the image.

Bad:  RUN pip install django==5.0
Good: RUN pip install --no-cache-dir django==5.0`,
	URL: hadolintWiki("DL3042"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			cmds := runCommands(d, in)
			if !slices.ContainsFunc(cmds, func(c Command) bool { return runsPipInstall(c) && !c.HasFlag("--no-cache-dir") }) {
				continue
			}
			if script, _ := in.Script(); pipNoCacheInScript.MatchString(script) {
				continue
			}
			if cacheMountedAt(in, "pip", "/root/.cache") {
				continue
			}
			if !in.OnBuild && in.Trigger == nil {
				if v, ok := envBefore(d, in, "PIP_NO_CACHE_DIR"); ok && truthy(v) {
					continue
				}
			}
			r.Report(in)
		}
	},
}

// --- instructions ---------------------------------------------------------

var dl3043 = &Rule{
	Code:     "DL3043",
	Severity: Error,
	Message:  "ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER",
	Doc: `An ONBUILD trigger runs in the image that builds FROM this one. Docker refuses
triggers that would start a new stage (FROM), chain more triggers (ONBUILD)
or set deprecated metadata (MAINTAINER).

Bad:  ONBUILD FROM debian:bookworm
Good: ONBUILD RUN make -C /src`,
	URL: hadolintWiki("DL3043"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if !in.Is("onbuild") || in.Node.Next == nil || len(in.Node.Next.Children) == 0 {
				continue
			}
			trigger := in.Node.Next.Children[0].Value
			if slices.Contains([]string{"onbuild", "from", "maintainer"}, strings.ToLower(trigger)) {
				r.Reportf(in, "ONBUILD cannot trigger %s", strings.ToUpper(trigger))
			}
		}
	},
}

var dl3044 = &Rule{
	Code:     "DL3044",
	Severity: Error,
	Message:  "ENV refers to a variable it defines itself; the reference sees the old value",
	Doc: `All the variables of one ENV instruction are expanded with the values from
before it, so a reference to a name defined in the same ENV does not see the
new value (it is empty unless defined earlier). Split the ENV in two.

Bad:  ENV APP_HOME=/app APP_BIN=$APP_HOME/bin
Good: ENV APP_HOME=/app
      ENV APP_BIN=$APP_HOME/bin`,
	URL: hadolintWiki("DL3044"),
	Check: func(d *Document, r *Reporter) {
		defined := map[string]bool{}
		for _, in := range d.All {
			switch c := in.Cmd.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					defined[a.Key] = true
				}
			case *instructions.EnvCommand:
				var bad []string
				for i, kv := range c.Env {
					if defined[kv.Key] || slices.Contains(bad, kv.Key) {
						continue
					}
					for j, other := range c.Env {
						if j != i && slices.Contains(varRefs(other.Value), kv.Key) {
							bad = append(bad, kv.Key)
							break
						}
					}
				}
				for _, kv := range c.Env {
					defined[kv.Key] = true
				}
				if len(bad) > 0 {
					r.Reportf(in, "ENV refers to %s, which it defines itself; split the ENV in two", quoteList(bad))
				}
			}
		}
	},
}

var windowsDrive = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

var dl3045 = &Rule{
	Code:     "DL3045",
	Severity: Warning,
	Message:  "COPY to a relative destination without WORKDIR set",
	Doc: `A relative COPY destination is resolved against the working directory, which
comes from the base image unless a WORKDIR in this stage (or in the stage it
builds on) sets it. Set WORKDIR first or use an absolute destination.

Bad:  COPY package.json .       (no WORKDIR in the stage)
Good: WORKDIR /app
      COPY package.json .`,
	URL: hadolintWiki("DL3045"),
	Check: func(d *Document, r *Reporter) {
		workdir := map[*Stage]bool{}
		for _, st := range d.Stages {
			set := false
			if parent := parentStage(d, st); parent != nil {
				set = workdir[parent]
			}
			for _, in := range st.Instructions {
				switch c := in.Cmd.(type) {
				case *instructions.WorkdirCommand:
					set = true
				case *instructions.CopyCommand:
					dest := strings.Trim(c.DestPath, `"'`)
					if !set && !strings.HasPrefix(dest, "/") && !strings.HasPrefix(dest, "$") && !windowsDrive.MatchString(dest) {
						r.Report(in)
					}
				}
			}
			workdir[st] = set
		}
	},
}

var dl3046 = &Rule{
	Code:     "DL3046",
	Severity: Warning,
	Message:  "useradd with a high UID and without -l makes the image huge",
	Doc: `useradd records every user in /var/log/lastlog and faillog, files indexed by
UID. With a large UID they become huge sparse files that image layers store
in full. Pass -l (--no-log-init) or use a UID below 100000.

Bad:  RUN useradd -u 123456 app
Good: RUN useradd -l -u 123456 app`,
	URL: hadolintWiki("DL3046"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if path.Base(c.Name) != "useradd" || c.HasFlag("-l", "--no-log-init") {
					continue
				}
				if uid := optionValue(c, "-u", "--uid"); len(uid) > 5 && allDigits(uid) {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3047 = &Rule{
	Code:     "DL3047",
	Severity: Info,
	Message:  "wget without --progress fills the build log: use `wget --progress=dot:giga <url>`, or -q/-nv",
	Doc: `wget's default progress bar is redrawn as a new log line in non-interactive
builds, so a large download writes thousands of lines. Choose a compact
progress style, or silence it with -q/--quiet, -nv/--no-verbose, or send the
log to a file with -o/-a.

Bad:  RUN wget https://example.com/big.tar.gz
Good: RUN wget --progress=dot:giga https://example.com/big.tar.gz`,
	URL: hadolintWiki("DL3047"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if path.Base(c.Name) != "wget" {
					continue
				}
				if !c.HasFlag("--progress", "-q", "--quiet", "-nv", "--no-verbose", "-o", "--output-file", "-a", "--append-output") {
					r.Report(in)
					break
				}
			}
		}
	},
}

// --- labels ---------------------------------------------------------------

// labelPair is a LABEL key and value with their quotes removed.
type labelPair struct{ key, value string }

// labelPairs are the labels a LABEL instruction sets; nil for other
// instructions.
func labelPairs(d *Document, in *Instruction) []labelPair {
	c, ok := in.Cmd.(*instructions.LabelCommand)
	if !ok {
		return nil
	}
	out := make([]labelPair, len(c.Labels))
	for i, kv := range c.Labels {
		out[i] = labelPair{dequote(kv.Key, d.Escape), dequote(kv.Value, d.Escape)}
	}
	return out
}

// labelKeyProblem says what is wrong with a label key, "" if nothing.
func labelKeyProblem(k string) string {
	switch {
	case k == "":
		return "is empty"
	case k[0] < 'a' || k[0] > 'z':
		return "must start with a lower-case letter"
	case !(k[len(k)-1] >= 'a' && k[len(k)-1] <= 'z' || k[len(k)-1] >= '0' && k[len(k)-1] <= '9'):
		return "must end with a lower-case letter or a digit"
	case strings.IndexFunc(k, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') }) >= 0:
		return "may only hold lower-case letters, digits, dots and dashes"
	case strings.HasPrefix(k, "com.docker.") || strings.HasPrefix(k, "io.docker.") || strings.HasPrefix(k, "org.dockerproject."):
		return "uses a namespace reserved by Docker"
	case strings.Contains(k, "..") || strings.Contains(k, "--"):
		return "has two separators in a row"
	}
	return ""
}

var dl3048 = &Rule{
	Code:     "DL3048",
	Severity: Style,
	Message:  "Invalid label key",
	Doc: `Docker recommends label keys in reverse-DNS form: lower-case letters, digits,
dots and dashes, starting with a letter and ending with a letter or digit,
without repeated separators, and outside the com.docker., io.docker. and
org.dockerproject. namespaces, which Docker reserves.

Bad:  LABEL Version=1.0 com.docker.owner=me
Good: LABEL org.opencontainers.image.version=1.0`,
	URL: hadolintWiki("DL3048"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, l := range labelPairs(d, in) {
				if p := labelKeyProblem(l.key); p != "" {
					r.Reportf(in, "Invalid label key %q: it %s", l.key, p)
					break
				}
			}
		}
	},
}

// labelSchemaKeys are the configured label names of one type (all when typ
// is ""), sorted.
func labelSchemaKeys(cfg *Config, typ string) []string {
	var keys []string
	for k, t := range cfg.LabelSchema {
		if typ == "" || strings.EqualFold(t, typ) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// stagesWithout returns the stages that lack something has finds in a
// stage itself: those where neither the stage nor the stages it builds on
// (FROM <stage>) have it, and no stage built on it has it either; with
// copySources, a stage other stages COPY --from is excused too.
func stagesWithout(d *Document, has func(*Stage) bool, copySources bool) []*Stage {
	carries := make([]bool, len(d.Stages))
	parent := make([]int, len(d.Stages))
	for i, st := range d.Stages {
		parent[i] = -1
		if p := parentStage(d, st); p != nil {
			parent[i] = p.Index
		}
		carries[i] = has(st) || parent[i] >= 0 && carries[parent[i]]
	}
	excused := make([]bool, len(d.Stages))
	for i := range d.Stages {
		if has(d.Stages[i]) {
			for p := parent[i]; p >= 0; p = parent[p] {
				excused[p] = true
			}
		}
	}
	if copySources {
		for _, st := range d.Stages {
			for _, in := range st.Instructions {
				if c, ok := in.Cmd.(*instructions.CopyCommand); ok && c.From != "" {
					if src := stageByRef(d, c.From, st.Index); src != nil {
						excused[src.Index] = true
					}
				}
			}
		}
	}
	var out []*Stage
	for i, st := range d.Stages {
		if !carries[i] && !excused[i] {
			out = append(out, st)
		}
	}
	return out
}

var dl3049 = &Rule{
	Code:     "DL3049",
	Severity: Info,
	Message:  "A label required by the label schema is missing",
	Doc: `With a label schema configured (label-schema in .hadolint.yaml), every image
the Dockerfile produces must carry each label of the schema. A stage passes if
it sets the label, builds on a stage that does, is built on by a stage that
does, or only serves as a COPY --from source.

Bad:  FROM alpine:3.20              # label-schema: {version: semver}
Good: FROM alpine:3.20
      LABEL version=1.2.3`,
	URL: hadolintWiki("DL3049"),
	Check: func(d *Document, r *Reporter) {
		for _, key := range labelSchemaKeys(r.Config(), "") {
			has := func(st *Stage) bool {
				return slices.ContainsFunc(st.Instructions, func(in *Instruction) bool {
					return slices.ContainsFunc(labelPairs(d, in), func(l labelPair) bool { return l.key == key })
				})
			}
			for _, st := range stagesWithout(d, has, true) {
				r.Reportf(st.From, "Label %q is missing", key)
			}
		}
	},
}

var dl3050 = &Rule{
	Code:     "DL3050",
	Severity: Info,
	Message:  "Label not in the label schema (strict labels)",
	Doc: `With strict-labels on, only the labels named in the label schema may be set;
anything else is reported so that images carry exactly the agreed metadata.

Bad:  LABEL version=1.2.3 team=infra    # label-schema: {version: semver}
Good: LABEL version=1.2.3`,
	URL: hadolintWiki("DL3050"),
	Check: func(d *Document, r *Reporter) {
		cfg := r.Config()
		if !cfg.StrictLabels {
			return
		}
		for _, in := range d.All {
			var extra []string
			for _, l := range labelPairs(d, in) {
				if _, ok := cfg.LabelSchema[l.key]; !ok {
					extra = append(extra, l.key)
				}
			}
			if len(extra) > 0 {
				r.Reportf(in, "Label %s not in the label schema (strict labels)", quoteList(extra))
			}
		}
	},
}

// labelTypeRule builds a rule that checks the values of the schema's
// labels of one type.
func labelTypeRule(code string, sev Severity, typ, message, doc string, valid func(string) bool) *Rule {
	return &Rule{
		Code:     code,
		Severity: sev,
		Message:  strings.ReplaceAll(message, "%q", "<label>"),
		Doc:      doc,
		URL:      hadolintWiki(code),
		Check: func(d *Document, r *Reporter) {
			keys := labelSchemaKeys(r.Config(), typ)
			if len(keys) == 0 {
				return
			}
			for _, in := range d.All {
				for _, l := range labelPairs(d, in) {
					if slices.Contains(keys, l.key) && !valid(l.value) {
						r.Reportf(in, message, l.key)
					}
				}
			}
		},
	}
}

var dl3051 = labelTypeRule("DL3051", Warning, "", "Label %q is empty",
	`A label the schema requires must have a value; an empty one satisfies the
letter of the schema but not its purpose.

Bad:  LABEL maintainer=""
Good: LABEL maintainer="ops@example.com"`,
	func(v string) bool { return v != "" })

var dl3052 = labelTypeRule("DL3052", Warning, "url", "Label %q is not a valid URL",
	`Labels of type url in the label schema must hold an absolute URL, with a
scheme, that tools can follow.

Bad:  LABEL org.opencontainers.image.source=github.com/acme/app
Good: LABEL org.opencontainers.image.source=https://github.com/acme/app`,
	validURL)

var dl3053 = labelTypeRule("DL3053", Warning, "rfc3339", "Label %q is not an RFC 3339 time",
	`Labels of type rfc3339 in the label schema must hold a time in RFC 3339 form,
with date, time and offset, so that tools can parse and compare it.

Bad:  LABEL org.opencontainers.image.created="June 1st"
Good: LABEL org.opencontainers.image.created=2024-06-01T12:00:00Z`,
	func(v string) bool {
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	})

var dl3054 = labelTypeRule("DL3054", Warning, "spdx", "Label %q is not a valid SPDX license identifier",
	`Labels of type spdx in the label schema must name licenses with SPDX
identifiers (an SPDX expression such as "MIT OR Apache-2.0" is accepted too),
so that license scanners understand them.

Bad:  LABEL org.opencontainers.image.licenses="Apache License"
Good: LABEL org.opencontainers.image.licenses=Apache-2.0`,
	validSPDX)

var dl3055 = labelTypeRule("DL3055", Warning, "hash", "Label %q is not a git commit hash",
	`Labels of type hash in the label schema must hold a git commit hash: 40
lower-case hexadecimal digits, or the 7-digit short form.

Bad:  LABEL org.opencontainers.image.revision=main
Good: LABEL org.opencontainers.image.revision=43c572f1272b6b3171dd1db9e41b7027128ce080`,
	func(v string) bool {
		return (len(v) == 40 || len(v) == 7) && strings.Trim(v, "0123456789abcdef") == ""
	})

var dl3056 = labelTypeRule("DL3056", Warning, "semver", "Label %q is not a semantic version",
	`Labels of type semver in the label schema must hold a semantic version
(MAJOR.MINOR.PATCH with optional pre-release and build parts, no leading v).

Bad:  LABEL org.opencontainers.image.version=v1.2
Good: LABEL org.opencontainers.image.version=1.2.0-rc.1`,
	semverPattern.MatchString)

var dl3058 = labelTypeRule("DL3058", Warning, "email", "Label %q is not a valid email address (RFC 5322)",
	`Labels of type email in the label schema must hold a bare email address
(RFC 5322 addr-spec), without a display name.

Bad:  LABEL maintainer="Jane Doe"
Good: LABEL maintainer=jane@example.com`,
	validEmail)

// semverPattern is semver.org's grammar.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func validURL(v string) bool {
	if v == "" || strings.ContainsAny(v, " \t\n") {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}

func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == v
}

var dl3057 = &Rule{
	Code:     "DL3057",
	Severity: Ignore,
	Message:  "No HEALTHCHECK in this stage",
	Doc: `Without a HEALTHCHECK, the container runtime only knows whether the process
runs, not whether it works. A stage passes if it has a HEALTHCHECK (NONE
counts, as an explicit choice), builds on a stage that has one, or is built on
by one that has. Off by default; enable it with an override.

Bad:  FROM nginx:1.27
Good: FROM nginx:1.27
      HEALTHCHECK CMD curl -fs http://localhost/ || exit 1`,
	URL: hadolintWiki("DL3057"),
	Check: func(d *Document, r *Reporter) {
		has := func(st *Stage) bool {
			return slices.ContainsFunc(st.Instructions, func(in *Instruction) bool { return in.Is("healthcheck") })
		}
		for _, st := range stagesWithout(d, has, false) {
			r.Report(st.From)
		}
	},
}

// --- stages and instruction order ----------------------------------------

var dl3059 = &Rule{
	Code:     "DL3059",
	Severity: Info,
	Message:  "Consecutive RUN instructions; consider merging them",
	Doc: `Each RUN makes a layer. Two RUNs in a row that each run one command are
usually better as one, which makes fewer layers and lets a later cleanup
shrink the same layer. RUNs that already chain commands, or use different
flags (--mount, --network), are left alone.

Bad:  RUN apt-get update
      RUN apt-get install -y curl=8.5.0-2
Good: RUN apt-get update && apt-get install -y curl=8.5.0-2`,
	URL: hadolintWiki("DL3059"),
	Check: func(d *Document, r *Reporter) {
		var prev *Instruction
		for _, in := range d.All {
			if !in.Is("run") {
				prev = nil
				continue
			}
			if prev != nil && slices.Equal(prev.Flags(), in.Flags()) && runCommandCount(prev) <= 1 && runCommandCount(in) <= 1 {
				r.Report(in)
			}
			prev = in
		}
	},
}

// runCommandCount is how many simple commands a RUN runs (1 in exec form).
func runCommandCount(in *Instruction) int {
	if _, ok := in.Script(); !ok {
		return 1
	}
	return len(in.Commands())
}

var dl3060 = &Rule{
	Code:     "DL3060",
	Severity: Info,
	Message:  "`yarn install` without `yarn cache clean` afterwards",
	Doc: `yarn keeps every package it downloads in its global cache. In a stage that
becomes the image (the last one, or one another stage builds on) that cache is
dead weight: clean it in the same RUN, or mount a cache for it.

Bad:  RUN yarn install --frozen-lockfile
Good: RUN yarn install --frozen-lockfile && yarn cache clean`,
	URL: hadolintWiki("DL3060"),
	Check: func(d *Document, r *Reporter) {
		kept := map[*Stage]bool{}
		if n := len(d.Stages); n > 0 {
			kept[d.Stages[n-1]] = true
		}
		for _, st := range d.Stages {
			if p := parentStage(d, st); p != nil {
				kept[p] = true
			}
		}
		for _, in := range d.All {
			if !in.OnBuild && in.Trigger == nil && !kept[in.Stage] {
				continue
			}
			if cacheMountedAt(in, "yarn", ".cache") {
				continue
			}
			cmds := runCommands(d, in)
			install := lastIndex(cmds, func(c Command) bool { return path.Base(c.Name) == "yarn" && c.HasArg("install") })
			clean := lastIndex(cmds, func(c Command) bool {
				if path.Base(c.Name) == "rm" {
					return slices.ContainsFunc(c.Operands(), func(p string) bool { return strings.Contains(p, "yarn") && strings.Contains(p, "cache") })
				}
				ops := c.Operands()
				return path.Base(c.Name) == "yarn" && len(ops) >= 2 && ops[0] == "cache" && ops[1] == "clean"
			})
			if install >= 0 && clean < install {
				r.Report(in)
			}
		}
	},
}

var dl3061 = &Rule{
	Code:     "DL3061",
	Severity: Error,
	Message:  "Instruction before FROM: a Dockerfile must begin with FROM, ARG or comments",
	Doc: `Only ARG instructions (and comments and parser directives) may come before
the first FROM; anything else has no stage to belong to.

Bad:  LABEL team=infra
      FROM alpine:3.20
Good: ARG VERSION=3.20
      FROM alpine:${VERSION}
      LABEL team=infra`,
	URL: hadolintWiki("DL3061"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			if in.Is("from") {
				return
			}
			if !in.Is("arg") {
				r.Report(in)
			}
		}
	},
}

// goValued are the go command's flags that take a separate value.
var goValued = []string{
	"o", "C", "p", "asmflags", "buildmode", "compiler", "gccgoflags", "gcflags",
	"installsuffix", "ldflags", "mod", "modfile", "overlay", "pgo", "pkgdir", "tags",
	"toolexec", "exec", "covermode", "coverpkg",
}

// goOperands are the operands of a go command after its subcommand.
func goOperands(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && slices.Contains(goValued, name) {
			i++
		}
	}
	return out
}

// goPinned reports whether a go package argument is pinned: a local path,
// a standard pattern, or pkg@version with a version other than latest or
// none.
func goPinned(p string) bool {
	switch {
	case p == "." || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/"):
		return true
	case p == "std" || p == "cmd" || p == "all" || p == "tool":
		return true
	}
	at := strings.LastIndex(p, "@")
	return at >= 0 && !slices.Contains([]string{"latest", "none", "upgrade", "patch", ""}, p[at+1:])
}

var dl3062 = &Rule{
	Code:     "DL3062",
	Severity: Warning,
	Message:  "Pin the version of Go packages: `go install <package>@<version>`",
	Doc: `go install, go get and go run of a remote package without a version (or with
@latest) build whatever was published last, so the image changes without the
Dockerfile changing. Give each package an explicit @version; local paths are
fine.

Bad:  RUN go install golang.org/x/tools/gopls@latest
Good: RUN go install golang.org/x/tools/gopls@v0.16.1`,
	URL: hadolintWiki("DL3062"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			for _, c := range runCommands(d, in) {
				if path.Base(c.Name) != "go" {
					continue
				}
				ops := goOperands(c.Args)
				if len(ops) == 0 {
					continue
				}
				var pkgs []string
				switch ops[0] {
				case "install", "get":
					pkgs = ops[1:]
				case "run":
					pkgs = ops[1:min(2, len(ops))] // the rest are the program's arguments
				}
				if !allOf(pkgs, goPinned) {
					r.Report(in)
					break
				}
			}
		}
	},
}

var dl3063 = &Rule{
	Code:     "DL3063",
	Severity: Warning,
	Message:  "Stage name is a reserved word",
	Doc: `"scratch" and "context" have a meaning of their own in FROM and COPY --from;
a stage with one of those names is confusing at best and unreachable at
worst. Pick another name.

Bad:  FROM golang:1.22 AS scratch
Good: FROM golang:1.22 AS build`,
	URL: hadolintWiki("DL3063"),
	Check: func(d *Document, r *Reporter) {
		for _, st := range d.Stages {
			if n := strings.ToLower(st.Name); n == "scratch" || n == "context" {
				r.Reportf(st.From, "Stage name %q is a reserved word", st.Name)
			}
		}
	},
}

// sensitiveNames are variable names that commonly hold credentials.
var sensitiveNames = []string{
	"ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY", "BITTREX_API_KEY", "BITTREX_API_SECRET", "CF_PASSWORD",
	"CF_USERNAME", "CIRCLE_TOKEN", "CI_DEPLOY_PASSWORD", "CI_DEPLOY_USER",
	"DOCKERHUB_PASSWORD", "DOCKER_EMAIL", "DOCKER_PASSWORD", "DOCKER_USERNAME",
	"FACEBOOK_ACCESS_TOKEN", "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET", "FIREBASE_API_TOKEN",
	"FIREBASE_TOKEN", "FOSSA_API_KEY", "GH_ENTERPRISE_TOKEN", "GH_TOKEN",
	"GITHUB_ENTERPRISE_TOKEN", "GITHUB_TOKEN", "HEROKU_API_KEY", "HEROKU_API_USER",
	"NPM_AUTH_TOKEN", "NPM_TOKEN", "OKTA_AUTHN_GROUPID", "OKTA_CLIENT_ORGURL",
	"OKTA_CLIENT_TOKEN", "OKTA_OAUTH2_CLIENTID", "OKTA_OAUTH2_CLIENTSECRET", "OPENAI_API_KEY",
	"OS_PASSWORD", "OS_USERNAME", "POSTGRES_PASSWORD", "SLACK_TOKEN", "STRIPE_API_KEY",
	"STRIPE_DEVICE_NAME", "TRAVIS_OS_NAME", "TRAVIS_SECURE_ENV_VARS", "TRAVIS_SUDO",
	"VAULT_CLIENT_KEY", "VAULT_TOKEN",
}

// sensitiveParts are name fragments that suggest a secret.
var sensitiveParts = []string{"api_key", "client_key", "password", "private", "secret", "token", "username"}

func sensitiveName(name string) bool {
	lower := strings.ToLower(name)
	return slices.Contains(sensitiveNames, strings.ToUpper(name)) ||
		slices.ContainsFunc(sensitiveParts, func(p string) bool { return strings.Contains(lower, p) })
}

var dl3064 = &Rule{
	Code:     "DL3064",
	Severity: Warning,
	Message:  "ARG or ENV name suggests sensitive data, which would be kept in the image",
	Doc: `ENV values are stored in the image config and ARG values in its history, where
anyone who can pull the image can read them. Pass credentials as build
secrets (RUN --mount=type=secret) instead.

Bad:  ARG GITHUB_TOKEN
      RUN git clone https://$GITHUB_TOKEN@github.com/acme/app
Good: RUN --mount=type=secret,id=github_token \
          git clone https://$(cat /run/secrets/github_token)@github.com/acme/app`,
	URL: hadolintWiki("DL3064"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			cmd := in.Cmd
			if in.Trigger != nil {
				cmd = in.Trigger.Cmd
			}
			var names []string
			switch c := cmd.(type) {
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					names = append(names, a.Key)
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					names = append(names, kv.Key)
				}
			}
			var bad []string
			for _, n := range names {
				if sensitiveName(n) {
					bad = append(bad, n)
				}
			}
			if len(bad) > 0 {
				r.Reportf(in, "%s may hold sensitive data, which ARG and ENV keep in the image; use a build secret", quoteList(bad))
			}
		}
	},
}

var dl3065 = &Rule{
	Code:     "DL3065",
	Severity: Warning,
	Message:  "`FROM --platform=$TARGETPLATFORM` is redundant: it is the default",
	Doc: `A stage is built for the target platform unless told otherwise, so naming
$TARGETPLATFORM adds nothing. --platform is useful with other values, such as
$BUILDPLATFORM for cross-compiling stages.

Bad:  FROM --platform=$TARGETPLATFORM alpine:3.20
Good: FROM alpine:3.20`,
	URL: hadolintWiki("DL3065"),
	Check: func(d *Document, r *Reporter) {
		for _, st := range d.Stages {
			if s, ok := st.From.Cmd.(*instructions.Stage); ok {
				if p := strings.Trim(s.Platform, `"'`); p == "$TARGETPLATFORM" || p == "${TARGETPLATFORM}" {
					r.Report(st.From)
				}
			}
		}
	},
}

var dl3066 = &Rule{
	Code:     "DL3066",
	Severity: Info,
	Message:  "The image's USER is a name: use a numeric UID, which the host can resolve",
	Doc: `Platforms that check whether a container runs as root (Kubernetes'
runAsNonRoot, for one) can only do so from a numeric UID; a user name needs
the image's /etc/passwd. Only the last USER of the final stage matters. A UID
taken from an ARG or ENV variable is accepted.

Bad:  USER app
Good: USER 10001:10001`,
	URL: hadolintWiki("DL3066"),
	Check: func(d *Document, r *Reporter) {
		if len(d.Stages) == 0 {
			return
		}
		var last *Instruction
		for _, in := range d.Stages[len(d.Stages)-1].Instructions {
			if _, ok := in.Cmd.(*instructions.UserCommand); ok {
				last = in
			}
		}
		if last == nil {
			return
		}
		uid, _, _ := strings.Cut(strings.Trim(last.Cmd.(*instructions.UserCommand).User, `"'`), ":")
		if allDigits(uid) && uid != "" {
			return
		}
		if refs := varRefs(uid); len(refs) > 0 {
			declared := declaredVars(d, last)
			if slices.ContainsFunc(refs, func(v string) bool { return declared[v] }) {
				return
			}
		}
		r.Report(last)
	},
}

var dl3067 = &Rule{
	Code:     "DL3067",
	Severity: Warning,
	Message:  "COPY --from copies the whole filesystem of another stage",
	Doc: `Copying / of one stage onto / of another duplicates every file of the source
stage, base image included, into one layer: the image grows and the point of
the multi-stage build is lost. Copy only the files you need.

Bad:  COPY --from=build / /
Good: COPY --from=build /out/app /usr/local/bin/app`,
	URL: hadolintWiki("DL3067"),
	Check: func(d *Document, r *Reporter) {
		for _, in := range d.All {
			c, ok := in.Cmd.(*instructions.CopyCommand)
			if !ok || c.From == "" || dequote(c.DestPath, d.Escape) != "/" {
				continue
			}
			if slices.ContainsFunc(c.SourcePaths, func(p string) bool { return dequote(p, d.Escape) == "/" }) {
				r.Report(in)
			}
		}
	},
}

// --- helpers --------------------------------------------------------------

// runCommands returns the commands of in's shell script (RUN or ONBUILD
// RUN) with wrappers such as sudo and env looked past.
func runCommands(d *Document, in *Instruction) []Command {
	cmds := shellCommands(d, in)
	for i := range cmds {
		cmds[i] = cmds[i].Unwrap()
	}
	return cmds
}

// lastIndex is the index of the last command matching f, -1 if none.
func lastIndex(cmds []Command, f func(Command) bool) int {
	for i := len(cmds) - 1; i >= 0; i-- {
		if f(cmds[i]) {
			return i
		}
	}
	return -1
}

func allOf(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// optionValue is the value of the first of the options found in c's
// arguments ("-u 1000", "-u1000", "--uid 1000", "--uid=1000"), "" if none.
func optionValue(c Command, short, long string) string {
	for i, a := range c.Args {
		switch {
		case a == "--":
			return ""
		case a == short || a == long:
			if i+1 < len(c.Args) {
				return c.Args[i+1]
			}
		case strings.HasPrefix(a, long+"="):
			return a[len(long)+1:]
		case len(short) == 2 && strings.HasPrefix(a, short) && len(a) > 2:
			return a[2:]
		}
	}
	return ""
}

// quoteList formats names for a message: `A`, `A` and `B`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// cacheMountedAt reports whether the RUN (or ONBUILD RUN) mounts a build
// cache at a target containing one of the fragments: what it caches there
// never reaches the image.
func cacheMountedAt(in *Instruction, fragments ...string) bool {
	return slices.ContainsFunc(cacheMounts(in), func(target string) bool {
		return slices.ContainsFunc(fragments, func(f string) bool { return strings.Contains(target, f) })
	})
}

// parentStage is the stage st builds on (FROM <earlier stage name>), nil
// when it builds on an image.
func parentStage(d *Document, st *Stage) *Stage {
	s, ok := st.From.Cmd.(*instructions.Stage)
	if !ok {
		return nil
	}
	for i := st.Index - 1; i >= 0; i-- {
		if d.Stages[i].Name != "" && strings.EqualFold(d.Stages[i].Name, s.BaseName) {
			return d.Stages[i]
		}
	}
	return nil
}

// stageByRef finds the stage a COPY --from in stage at refers to, by name
// or index; nil for an image.
func stageByRef(d *Document, ref string, at int) *Stage {
	if n, err := strconv.Atoi(ref); err == nil {
		if n >= 0 && n < at {
			return d.Stages[n]
		}
		return nil
	}
	for i := at - 1; i >= 0; i-- {
		if d.Stages[i].Name != "" && strings.EqualFold(d.Stages[i].Name, ref) {
			return d.Stages[i]
		}
	}
	return nil
}

// stageLineage is st and the stages it builds on, nearest first.
func stageLineage(d *Document, st *Stage) []*Stage {
	var out []*Stage
	for ; st != nil && len(out) <= len(d.Stages); st = parentStage(d, st) {
		out = append(out, st)
	}
	return out
}

// envBefore is the value an ENV gave name before in, in in's stage or the
// stages it builds on.
func envBefore(d *Document, in *Instruction, name string) (string, bool) {
	for _, st := range stageLineage(d, in.Stage) {
		val, found := "", false
		for _, i := range st.Instructions {
			if i == in {
				break
			}
			if c, ok := i.Cmd.(*instructions.EnvCommand); ok {
				for _, kv := range c.Env {
					if kv.Key == name {
						val, found = dequote(kv.Value, d.Escape), true
					}
				}
			}
		}
		if found {
			return val, true
		}
	}
	return "", false
}

// declaredVars are the names in can refer to: ARGs declared before the
// first FROM or earlier in its stage, and ARGs and ENVs of the stages it
// builds on and of its own stage before it.
func declaredVars(d *Document, in *Instruction) map[string]bool {
	out := map[string]bool{}
	add := func(i *Instruction) {
		switch c := i.Cmd.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				out[a.Key] = true
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				out[kv.Key] = true
			}
		}
	}
	for _, i := range d.MetaArgs {
		add(i)
	}
	for _, st := range stageLineage(d, in.Stage) {
		for _, i := range st.Instructions {
			if i == in {
				break
			}
			add(i)
		}
	}
	return out
}

// varRefs are the variable names text refers to as $NAME or ${NAME...},
// outside single quotes and not escaped.
func varRefs(text string) []string {
	var out []string
	single := false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\'':
			single = !single
		case c == '\\':
			i++
		case c == '$' && !single && i+1 < len(text):
			j := i + 1
			if text[j] == '{' {
				j++
			}
			k := j
			for k < len(text) && (text[k] == '_' || text[k] >= 'a' && text[k] <= 'z' || text[k] >= 'A' && text[k] <= 'Z' || k > j && text[k] >= '0' && text[k] <= '9') {
				k++
			}
			if k > j {
				out = append(out, text[j:k])
			}
			i = k - 1
		}
	}
	return out
}

// dequote removes the quotes of a Dockerfile word as the builder does:
// 'single' and "double" quoted parts are joined, and the escape character
// escapes the next one (in double quotes only before ", $ and itself).
func dequote(s string, escape rune) string {
	if !strings.ContainsAny(s, `"'`+string(escape)) {
		return s
	}
	var b strings.Builder
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case c == escape && quote != '\'' && i+1 < len(rs):
			if quote == '"' && rs[i+1] != '"' && rs[i+1] != '$' && rs[i+1] != escape {
				b.WriteRune(c)
				continue
			}
			i++
			b.WriteRune(rs[i])
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// --- SPDX -----------------------------------------------------------------

var (
	spdxLicenses   = spdxSet(spdxLicenseList)
	spdxExceptions = spdxSet(spdxExceptionList)
)

func spdxSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, id := range strings.Fields(list) {
		m[strings.ToLower(id)] = true
	}
	return m
}

// validSPDX reports whether v is an SPDX license identifier or license
// expression ("MIT", "Apache-2.0 OR MIT", "GPL-2.0-only WITH
// Classpath-exception-2.0", "LicenseRef-acme"). Identifiers compare without
// regard to case, as the SPDX specification says.
func validSPDX(v string) bool {
	v = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(v)
	p := &spdxParser{toks: strings.Fields(v)}
	return len(p.toks) > 0 && p.expr() && p.i == len(p.toks)
}

type spdxParser struct {
	toks []string
	i    int
}

func (p *spdxParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// expr parses term {(AND|OR) term}.
func (p *spdxParser) expr() bool {
	if !p.term() {
		return false
	}
	for op := strings.ToUpper(p.peek()); op == "AND" || op == "OR"; op = strings.ToUpper(p.peek()) {
		p.i++
		if !p.term() {
			return false
		}
	}
	return true
}

// term parses "(" expr ")" or a license with an optional WITH exception.
func (p *spdxParser) term() bool {
	switch tok := p.peek(); {
	case tok == "(":
		p.i++
		if !p.expr() || p.peek() != ")" {
			return false
		}
		p.i++
		return true
	case tok == "" || tok == ")":
		return false
	default:
		p.i++
		id := strings.ToLower(strings.TrimSuffix(tok, "+"))
		if !spdxLicenses[id] && !strings.HasPrefix(id, "licenseref-") && !strings.HasPrefix(id, "documentref-") {
			return false
		}
		if strings.ToUpper(p.peek()) == "WITH" {
			p.i++
			exc := strings.ToLower(p.peek())
			if !spdxExceptions[exc] && !strings.HasPrefix(exc, "addition-ref-") {
				return false
			}
			p.i++
		}
		return true
	}
}

// spdxLicenseList and spdxExceptionList are the SPDX license list 3.x
// identifiers (current and deprecated) and license exceptions.

const spdxLicenseList = "" +
	"0BSD 3D-Slicer-1.0 AAL ADSL AFL-1.1 AFL-1.2 AFL-2.0 AFL-2.1 AFL-3.0 AGPL-1.0 AGPL-1.0-only " +
	"AGPL-1.0-or-later AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later ALGLIB-Documentation AMD-newlib " +
	"AMDPLPA AML AML-glslang AMPAS ANTLR-PD ANTLR-PD-fallback APAFML APL-1.0 APSL-1.0 APSL-1.1 " +
	"APSL-1.2 APSL-2.0 ASWF-Digital-Assets-1.0 ASWF-Digital-Assets-1.1 Abstyles AdaCore-doc " +
	"Adobe-2006 Adobe-Display-PostScript Adobe-Glyph Adobe-Utopia Advanced-Cryptics-Dictionary " +
	"Afmparse Aladdin Apache-1.0 Apache-1.1 Apache-2.0 App-s2p Arphic-1999 Artistic-1.0 " +
	"Artistic-1.0-Perl Artistic-1.0-cl8 Artistic-2.0 Artistic-dist Aspell-RU BOLA-1.1 " +
	"BSD-1-Clause BSD-2-Clause BSD-2-Clause-Darwin BSD-2-Clause-FreeBSD BSD-2-Clause-NetBSD " +
	"BSD-2-Clause-Patent BSD-2-Clause-Views BSD-2-Clause-first-lines " +
	"BSD-2-Clause-pkgconf-disclaimer BSD-3-Clause BSD-3-Clause-Attribution BSD-3-Clause-Clear " +
	"BSD-3-Clause-HP BSD-3-Clause-LBNL BSD-3-Clause-Modification " +
	"BSD-3-Clause-No-Military-License BSD-3-Clause-No-Nuclear-License " +
	"BSD-3-Clause-No-Nuclear-License-2014 BSD-3-Clause-No-Nuclear-Warranty " +
	"BSD-3-Clause-Open-MPI BSD-3-Clause-Sun BSD-3-Clause-Tso BSD-3-Clause-acpica " +
	"BSD-3-Clause-flex BSD-4-Clause BSD-4-Clause-Shortened BSD-4-Clause-UC BSD-4.3RENO " +
	"BSD-4.3TAHOE BSD-Advertising-Acknowledgement BSD-Attribution-HPND-disclaimer " +
	"BSD-Inferno-Nettverk BSD-Mark-Modifications BSD-Protection BSD-Source-Code " +
	"BSD-Source-beginning-file BSD-Systemics BSD-Systemics-W3Works BSL-1.0 BUSL-1.1 Baekmuk " +
	"Bahyph Barr Beerware BitTorrent-1.0 BitTorrent-1.1 Bitstream-Charter Bitstream-Vera " +
	"BlueOak-1.0.0 Boehm-GC Boehm-GC-without-fee Borceux Brian-Gladman-2-Clause " +
	"Brian-Gladman-3-Clause Buddy C-UDA-1.0 CAL-1.0 CAL-1.0-Combined-Work-Exception CAPEC-tou " +
	"CATOSL-1.1 CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-2.5-AU CC-BY-3.0 CC-BY-3.0-AT CC-BY-3.0-AU " +
	"CC-BY-3.0-DE CC-BY-3.0-IGO CC-BY-3.0-NL CC-BY-3.0-US CC-BY-4.0 CC-BY-NC-1.0 CC-BY-NC-2.0 " +
	"CC-BY-NC-2.5 CC-BY-NC-3.0 CC-BY-NC-3.0-DE CC-BY-NC-4.0 CC-BY-NC-ND-1.0 CC-BY-NC-ND-2.0 " +
	"CC-BY-NC-ND-2.5 CC-BY-NC-ND-3.0 CC-BY-NC-ND-3.0-DE CC-BY-NC-ND-3.0-IGO CC-BY-NC-ND-4.0 " +
	"CC-BY-NC-SA-1.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-2.0-DE CC-BY-NC-SA-2.0-FR CC-BY-NC-SA-2.0-UK " +
	"CC-BY-NC-SA-2.5 CC-BY-NC-SA-3.0 CC-BY-NC-SA-3.0-DE CC-BY-NC-SA-3.0-IGO CC-BY-NC-SA-4.0 " +
	"CC-BY-ND-1.0 CC-BY-ND-2.0 CC-BY-ND-2.5 CC-BY-ND-3.0 CC-BY-ND-3.0-DE CC-BY-ND-4.0 " +
	"CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.0-UK CC-BY-SA-2.1-JP CC-BY-SA-2.5 CC-BY-SA-3.0 " +
	"CC-BY-SA-3.0-AT CC-BY-SA-3.0-DE CC-BY-SA-3.0-IGO CC-BY-SA-4.0 CC-PDDC CC-PDM-1.0 CC-SA-1.0 " +
	"CC0-1.0 CDDL-1.0 CDDL-1.1 CDL-1.0 CDLA-Permissive-1.0 CDLA-Permissive-2.0 CDLA-Sharing-1.0 " +
	"CECILL-1.0 CECILL-1.1 CECILL-2.0 CECILL-2.1 CECILL-B CECILL-C CERN-OHL-1.1 CERN-OHL-1.2 " +
	"CERN-OHL-P-2.0 CERN-OHL-S-2.0 CERN-OHL-W-2.0 CFITSIO CMU-Mach CMU-Mach-nodoc CNRI-Jython " +
	"CNRI-Python CNRI-Python-GPL-Compatible COIL-1.0 CPAL-1.0 CPL-1.0 CPOL-1.02 CUA-OPL-1.0 " +
	"Caldera Caldera-no-preamble Catharon ClArtistic Clips Community-Spec-1.0 Condor-1.1 " +
	"Cornell-Lossless-JPEG Cronyx Crossword CryptoSwift CrystalStacker Cube D-FSL-1.0 " +
	"DEC-3-Clause DL-DE-BY-2.0 DL-DE-ZERO-2.0 DOC DRL-1.0 DRL-1.1 DSDP DocBook-DTD " +
	"DocBook-Schema DocBook-Stylesheet DocBook-XML Dotseqn ECL-1.0 ECL-2.0 EFL-1.0 EFL-2.0 " +
	"EPICS EPL-1.0 EPL-2.0 ESA-PL-permissive-2.4 ESA-PL-strong-copyleft-2.4 " +
	"ESA-PL-weak-copyleft-2.4 EUDatagrid EUPL-1.0 EUPL-1.1 EUPL-1.2 Elastic-2.0 Entessa " +
	"ErlPL-1.1 Eurosym FBM FDK-AAC FSFAP FSFAP-no-warranty-disclaimer FSFUL FSFULLR FSFULLRSD " +
	"FSFULLRWD FSL-1.1-ALv2 FSL-1.1-MIT FTL Fair Ferguson-Twofish Frameworx-1.0 FreeBSD-DOC " +
	"FreeImage Furuseth GCR-docs GD GFDL-1.1 GFDL-1.1-invariants-only " +
	"GFDL-1.1-invariants-or-later GFDL-1.1-no-invariants-only GFDL-1.1-no-invariants-or-later " +
	"GFDL-1.1-only GFDL-1.1-or-later GFDL-1.2 GFDL-1.2-invariants-only " +
	"GFDL-1.2-invariants-or-later GFDL-1.2-no-invariants-only GFDL-1.2-no-invariants-or-later " +
	"GFDL-1.2-only GFDL-1.2-or-later GFDL-1.3 GFDL-1.3-invariants-only " +
	"GFDL-1.3-invariants-or-later GFDL-1.3-no-invariants-only GFDL-1.3-no-invariants-or-later " +
	"GFDL-1.3-only GFDL-1.3-or-later GL2PS GLWTPL GPL-1.0 GPL-1.0-only GPL-1.0-or-later GPL-2.0 " +
	"GPL-2.0-only GPL-2.0-or-later GPL-2.0-with-GCC-exception GPL-2.0-with-autoconf-exception " +
	"GPL-2.0-with-bison-exception GPL-2.0-with-classpath-exception GPL-2.0-with-font-exception " +
	"GPL-3.0 GPL-3.0-only GPL-3.0-or-later GPL-3.0-with-GCC-exception " +
	"GPL-3.0-with-autoconf-exception Game-Programming-Gems Giftware Glide Glulxe Graphics-Gems " +
	"Gutmann HDF5 HIDAPI HP-1986 HP-1989 HPND HPND-DEC HPND-Fenneberg-Livingston " +
	"HPND-INRIA-IMAG HPND-Intel HPND-Kevlin-Henney HPND-MIT-disclaimer HPND-Markus-Kuhn " +
	"HPND-Netrek HPND-Pbmplus HPND-SMC HPND-UC HPND-UC-export-US HPND-doc HPND-doc-sell " +
	"HPND-export-US HPND-export-US-acknowledgement HPND-export-US-modify HPND-export2-US " +
	"HPND-merchantability-variant HPND-sell-MIT-disclaimer-xserver HPND-sell-regexpr " +
	"HPND-sell-variant HPND-sell-variant-MIT-disclaimer HPND-sell-variant-MIT-disclaimer-rev " +
	"HPND-sell-variant-critical-systems HTMLTIDY HaskellReport Hippocratic-2.1 IBM-pibs ICU " +
	"IEC-Code-Components-EULA IJG IJG-short IPA IPL-1.0 ISC ISC-Veillard ISO-permission " +
	"ImageMagick Imlib2 Info-ZIP Inner-Net-2.0 InnoSetup Intel Intel-ACPI Interbase-1.0 " +
	"JPL-image JPNIC JSON Jam JasPer-2.0 Kastrup Kazlib Knuth-CTAN LAL-1.2 LAL-1.3 LGPL-2.0 " +
	"LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1 LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 " +
	"LGPL-3.0-only LGPL-3.0-or-later LGPLLR LOOP LPD-document LPL-1.0 LPL-1.02 LPPL-1.0 " +
	"LPPL-1.1 LPPL-1.2 LPPL-1.3a LPPL-1.3c LZMA-SDK-9.11-to-9.20 LZMA-SDK-9.22 Latex2e " +
	"Latex2e-translated-notice Leptonica LiLiQ-P-1.1 LiLiQ-R-1.1 LiLiQ-Rplus-1.1 Libpng " +
	"Linux-OpenIB Linux-man-pages-1-para Linux-man-pages-copyleft " +
	"Linux-man-pages-copyleft-2-para Linux-man-pages-copyleft-var Lucida-Bitmap-Fonts MIPS MIT " +
	"MIT-0 MIT-CMU MIT-Click MIT-Festival MIT-Khronos-old MIT-Modern-Variant MIT-STK MIT-Wu " +
	"MIT-advertising MIT-enna MIT-feh MIT-open-group MIT-testregex MITNFA MMIXware MMPL-1.0.1 " +
	"MPEG-SSG MPL-1.0 MPL-1.1 MPL-2.0 MPL-2.0-no-copyleft-exception MS-LPL MS-PL MS-RL MTLL " +
	"Mackerras-3-Clause Mackerras-3-Clause-acknowledgment MakeIndex Martin-Birgmeier " +
	"McPhee-slideshow Minpack MirOS Motosoto MulanPSL-1.0 MulanPSL-2.0 Multics Mup NAIST-2003 " +
	"NASA-1.3 NBPL-1.0 NCBI-PD NCGL-UK-2.0 NCL NCSA NGPL NICTA-1.0 NIST-PD NIST-PD-TNT " +
	"NIST-PD-fallback NIST-Software NLOD-1.0 NLOD-2.0 NLPL NOSL NPL-1.0 NPL-1.1 NPOSL-3.0 NRL " +
	"NTIA-PD NTP NTP-0 Naumen Net-SNMP NetCDF Newsletr Nokia Noweb Nunit O-UDA-1.0 OAR OCCT-PL " +
	"OCLC-2.0 ODC-By-1.0 ODbL-1.0 OFFIS OFL-1.0 OFL-1.0-RFN OFL-1.0-no-RFN OFL-1.1 OFL-1.1-RFN " +
	"OFL-1.1-no-RFN OGC-1.0 OGDL-Taiwan-1.0 OGL-Canada-2.0 OGL-UK-1.0 OGL-UK-2.0 OGL-UK-3.0 " +
	"OGTSL OLDAP-1.1 OLDAP-1.2 OLDAP-1.3 OLDAP-1.4 OLDAP-2.0 OLDAP-2.0.1 OLDAP-2.1 OLDAP-2.2 " +
	"OLDAP-2.2.1 OLDAP-2.2.2 OLDAP-2.3 OLDAP-2.4 OLDAP-2.5 OLDAP-2.6 OLDAP-2.7 OLDAP-2.8 " +
	"OLFL-1.3 OML OPL-1.0 OPL-UK-3.0 OPUBL-1.0 OSC-1.0 OSET-PL-2.1 OSL-1.0 OSL-1.1 OSL-2.0 " +
	"OSL-2.1 OSL-3.0 OSSP OpenMDW-1.0 OpenPBS-2.3 OpenSSL OpenSSL-standalone OpenVision PADL " +
	"PDDL-1.0 PHP-3.0 PHP-3.01 PPL PSF-2.0 ParaType-Free-Font-1.3 Parity-6.0.0 Parity-7.0.0 " +
	"Pixar Plexus PolyForm-Noncommercial-1.0.0 PolyForm-Small-Business-1.0.0 PostgreSQL " +
	"Python-2.0 Python-2.0.1 QPL-1.0 QPL-1.0-INRIA-2004 Qhull RHeCos-1.1 RPL-1.1 RPL-1.5 " +
	"RPSL-1.0 RSA-MD RSCPL Rdisc Ruby Ruby-pty SAX-PD SAX-PD-2.0 SCEA SGI-B-1.0 SGI-B-1.1 " +
	"SGI-B-2.0 SGI-OpenGL SGMLUG-PM SGP4 SHL-0.5 SHL-0.51 SISSL SISSL-1.2 SL SMAIL-GPL SMLNJ " +
	"SMPPL SNIA SOFA SPL-1.0 SSH-OpenSSH SSH-short SSLeay-standalone SSPL-1.0 SUL-1.0 SWL " +
	"Saxpath SchemeReport Sendmail Sendmail-8.23 Sendmail-Open-Source-1.1 SimPL-2.0 Sleepycat " +
	"Soundex Spencer-86 Spencer-94 Spencer-99 StandardML-NJ SugarCRM-1.1.3 Sun-PPP Sun-PPP-2000 " +
	"SunPro Symlinks TAPR-OHL-1.0 TCL TCP-wrappers TGPPL-1.0 TMate TORQUE-1.1 TOSL TPDL TPL-1.0 " +
	"TTWL TTYP0 TU-Berlin-1.0 TU-Berlin-2.0 TekHVC TermReadKey ThirdEye TrustedQSL UCAR UCL-1.0 " +
	"UMich-Merit UPL-1.0 URT-RLE Ubuntu-font-1.0 UnRAR Unicode-3.0 Unicode-DFS-2015 " +
	"Unicode-DFS-2016 Unicode-TOU UnixCrypt Unlicense Unlicense-libtelnet " +
	"Unlicense-libwhirlpool VOSTROM VSL-1.0 Vim Vixie-Cron W3C W3C-19980720 W3C-20150513 " +
	"WTFNMFPL WTFPL Watcom-1.0 Widget-Workshop WordNet Wsuipa X11 " +
	"X11-distribute-modifications-variant X11-no-permit-persons X11-swapped XFree86-1.1 XSkat " +
	"Xdebug-1.03 Xerox Xfig Xnet YPL-1.0 YPL-1.1 ZPL-1.1 ZPL-2.0 ZPL-2.1 Zed Zeeff Zend-2.0 " +
	"Zimbra-1.3 Zimbra-1.4 Zlib any-OSI any-OSI-perl-modules bcrypt-Solar-Designer blessing " +
	"bzip2-1.0.5 bzip2-1.0.6 check-cvs checkmk copyleft-next-0.3.0 copyleft-next-0.3.1 curl " +
	"cve-tou diffmark dtoa dvipdfm eCos-2.0 eGenix etalab-2.0 fwlw gSOAP-1.3b generic-xts " +
	"gnuplot gtkbook hdparm hyphen-bulgarian iMatix jove libpng-1.6.35 libpng-2.0 " +
	"libselinux-1.0 libtiff libutil-David-Nugent lsof magaz mailprio man2html metamail " +
	"mpi-permissive mpich2 mplus ngrep pkgconf pnmstitch psfrag psutils python-ldap radvd " +
	"snprintf softSurfer ssh-keyscan swrule threeparttable ulem w3m wwl wxWindows xinetd " +
	"xkeyboard-config-Zinoviev xlock xpp xzoom zlib-acknowledgement"

const spdxExceptionList = "" +
	"389-exception Asterisk-exception Autoconf-exception-2.0 Autoconf-exception-3.0 " +
	"Autoconf-exception-generic Autoconf-exception-generic-3.0 Autoconf-exception-macro " +
	"Bison-exception-1.24 Bison-exception-2.2 Bootloader-exception CLISP-exception-2.0 " +
	"Classpath-exception-2.0 DigiRule-FOSS-exception FLTK-exception Fawkes-Runtime-exception " +
	"Font-exception-2.0 GCC-exception-2.0 GCC-exception-2.0-note GCC-exception-3.1 " +
	"GNAT-exception GNOME-examples-exception GNU-compiler-exception GPL-3.0-interface-exception " +
	"GPL-3.0-linking-exception GPL-3.0-linking-source-exception GPL-CC-1.0 " +
	"GStreamer-exception-2005 GStreamer-exception-2008 Gmsh-exception KiCad-libraries-exception " +
	"LGPL-3.0-linking-exception LLGPL LLVM-exception LZMA-exception Libtool-exception " +
	"Linux-syscall-note OCCT-exception-1.0 OCaml-LGPL-linking-exception " +
	"OpenJDK-assembly-exception-1.0 PS-or-PDF-font-exception-20170817 " +
	"QPL-1.0-INRIA-2004-exception Qt-GPL-exception-1.0 Qt-LGPL-exception-1.1 Qwt-exception-1.0 " +
	"SANE-exception SHL-2.0 SHL-2.1 SWI-exception Swift-exception Texinfo-exception " +
	"UBDL-exception Universal-FOSS-exception-1.0 WxWindows-exception-3.1 " +
	"cryptsetup-OpenSSL-exception eCos-exception-2.0 fmt-exception freertos-exception-2.0 " +
	"gnu-javamail-exception i2p-gpl-java-exception libpri-OpenH323-exception mif-exception " +
	"openvpn-openssl-exception stunnel-exception u-boot-exception-2.0 vsftpd-openssl-exception " +
	"x11vnc-openssl-exception"
