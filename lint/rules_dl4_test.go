package lint

import (
	"strings"
	"testing"
)

func TestDL4000(t *testing.T) {
	runRuleCases(t, "DL4000", []ruleCase{
		{name: "MAINTAINER", dockerfile: dl33File("FROM debian:12", "MAINTAINER Lukas"), want: []int{2}},
		{name: "lower case", dockerfile: dl33File("FROM debian:12", "maintainer Lukas <me@example.com>"), want: []int{2}},
		{name: "second stage", dockerfile: dl33File("FROM debian:12 AS a", "FROM debian:12", `MAINTAINER "Jane"`), want: []int{3}},
		{name: "before FROM", dockerfile: dl33File("MAINTAINER Lukas", "FROM debian:12"), want: []int{1}},
		{name: "continuation", dockerfile: dl33File("FROM debian:12", "MAINTAINER Jane \\", "  Doe"), want: []int{2}},
		{name: "twice", dockerfile: dl33File("FROM debian:12", "MAINTAINER a", "MAINTAINER b"), want: []int{2, 3}},
		{name: "LABEL", dockerfile: dl33File("FROM debian:12", `LABEL org.opencontainers.image.authors="Lukas"`)},
		{name: "onbuild", dockerfile: dl33File("FROM debian:12", "ONBUILD MAINTAINER Lukas")},
		{name: "comment", dockerfile: dl33File("FROM debian:12", "# MAINTAINER Lukas")},
		{name: "echo", dockerfile: dl33File("FROM debian:12", "RUN echo MAINTAINER")},
		{name: "nothing", dockerfile: dl33File("FROM debian:12")},
	})
}

// TestDL4000Fix: DL4000 (which MaintainerDeprecated defers to) carries the
// MAINTAINER-to-LABEL fix, and the fixed file has neither MAINTAINER nor a
// DL4000 finding.
func TestDL4000Fix(t *testing.T) {
	for _, src := range []string{
		dl33File("FROM debian:12", "MAINTAINER Lukas"),
		dl33File("FROM debian:12", "  maintainer Jane Doe <jane@example.com>", "RUN true"),
		dl33File("FROM debian:12", `MAINTAINER "Jane Doe"`),
		dl33File("FROM debian:12", `MAINTAINER say "hi" for $5`),
		dl33File("FROM debian:12", "MAINTAINER Jane \\", "  Doe"),
	} {
		var fix *Edit
		for _, f := range Lint("Dockerfile", []byte(src), nil) {
			if f.Code == "DL4000" {
				fix = f.Fix
			}
		}
		if fix == nil {
			t.Errorf("DL4000 gave no fix for\n%s", numbered(src))
			continue
		}
		lines := strings.SplitAfter(src, "\n")
		fixed := strings.Join(lines[:fix.Line-1], "") + fix.Text + strings.Join(lines[fix.EndLine:], "")
		if !strings.Contains(fixed, "org.opencontainers.image.authors=") {
			t.Errorf("fix of\n%s= %q, want an authors label", numbered(src), fix.Text)
		}
		for _, f := range Lint("Dockerfile", []byte(fixed), nil) {
			if f.Code == "DL4000" || f.Code == "DL1000" {
				t.Errorf("fixed file\n%sstill has %s", numbered(fixed), f)
			}
		}
	}
}

func TestDL4001(t *testing.T) {
	runRuleCases(t, "DL4001", []ruleCase{
		{name: "both in two RUNs", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz", "RUN curl localhost"), want: []int{3}},
		{name: "both in one RUN", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz && curl localhost"), want: []int{2}},
		{name: "first stage of two", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz", "RUN curl localhost", "FROM scratch", "RUN curl localhost"), want: []int{3}},
		{name: "only the relevant RUN", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz", "RUN curl my.xyz", "RUN echo hello"), want: []int{3}},
		{name: "many relevant RUNs", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz", "RUN curl my.xyz", "RUN echo hello", "RUN wget foo.com"), want: []int{3, 5}},
		{name: "sudo and pipe", dockerfile: dl33File("FROM node", "RUN curl -fsSL x.example | sh", "RUN sudo wget -q y.example"), want: []int{3}},
		{name: "onbuild triggers", dockerfile: dl33File("FROM node", "ONBUILD RUN wget -q x.example", "ONBUILD RUN curl -fsS y.example"), want: []int{3}},
		{name: "only wget", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz")},
		{name: "only curl", dockerfile: dl33File("FROM node AS foo", "RUN curl my.xyz", "RUN curl other.xyz")},
		{name: "different stages", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz", "FROM scratch", "RUN curl localhost")},
		{name: "onbuild and RUN", dockerfile: dl33File("FROM node", "ONBUILD RUN wget -q x.example", "RUN curl -fsS y.example")},
		{name: "mentioned, not run", dockerfile: dl33File("FROM node", "RUN apt-get install -y wget=1.21 && curl -fsS x.example")},
		{name: "nothing", dockerfile: dl33File("FROM node", "RUN echo hi")},
	})
}

func TestDL4003(t *testing.T) {
	runRuleCases(t, "DL4003", []ruleCase{
		{name: "many CMDs", dockerfile: dl33File("FROM debian", "CMD bash", "RUN foo", "CMD another"), want: []int{4}},
		{name: "many CMDs, different stages", dockerfile: dl33File("FROM debian AS distro1", "CMD bash", "RUN foo", "CMD another", "FROM debian AS distro2", "CMD another"), want: []int{4}},
		{name: "three", dockerfile: dl33File("FROM debian", "CMD a", "CMD b", "CMD c"), want: []int{3, 4}},
		{name: "lower case", dockerfile: dl33File("FROM debian", "cmd a", "cmd [\"b\"]"), want: []int{3}},
		{name: "second stage", dockerfile: dl33File("FROM debian AS a", "CMD a", "FROM debian", "CMD b", "CMD c"), want: []int{5}},
		{name: "exec form continuation", dockerfile: dl33File("FROM debian", `CMD ["a"]`, `CMD ["b", \`, `     "c"]`), want: []int{3}},
		{name: "single", dockerfile: dl33File("FROM debian", "CMD /bin/true")},
		{name: "different stages", dockerfile: dl33File("FROM debian AS distro1", "CMD bash", "RUN foo", "FROM debian AS distro2", "CMD another")},
		{name: "onbuild", dockerfile: dl33File("FROM debian", "ONBUILD CMD a", "CMD b")},
		{name: "CMD and ENTRYPOINT", dockerfile: dl33File("FROM debian", "ENTRYPOINT a", "CMD b")},
		{name: "none", dockerfile: dl33File("FROM debian")},
	})
}

func TestDL4004(t *testing.T) {
	runRuleCases(t, "DL4004", []ruleCase{
		{name: "many", dockerfile: dl33File("FROM debian", "ENTRYPOINT bash", "RUN foo", "ENTRYPOINT another"), want: []int{4}},
		{name: "many, different stages", dockerfile: dl33File("FROM debian AS distro1", "ENTRYPOINT bash", "RUN foo", "ENTRYPOINT another", "FROM debian AS distro2", "ENTRYPOINT another"), want: []int{4}},
		{name: "three", dockerfile: dl33File("FROM debian", "ENTRYPOINT a", "ENTRYPOINT b", "ENTRYPOINT c"), want: []int{3, 4}},
		{name: "lower case", dockerfile: dl33File("FROM debian", "entrypoint a", "entrypoint [\"b\"]"), want: []int{3}},
		{name: "second stage", dockerfile: dl33File("FROM debian AS a", "ENTRYPOINT a", "FROM debian", "ENTRYPOINT b", "ENTRYPOINT c"), want: []int{5}},
		{name: "single", dockerfile: dl33File("FROM debian", "ENTRYPOINT /bin/true")},
		{name: "different stages", dockerfile: dl33File("FROM debian AS distro1", "ENTRYPOINT bash", "RUN foo", "FROM debian AS distro2", "ENTRYPOINT another")},
		{name: "onbuild", dockerfile: dl33File("FROM debian", "ONBUILD ENTRYPOINT a", "ENTRYPOINT b")},
		{name: "ENTRYPOINT and CMD", dockerfile: dl33File("FROM debian", "ENTRYPOINT a", "CMD b", "CMD c")},
		{name: "none", dockerfile: dl33File("FROM busybox")},
	})
}

func TestDL4005(t *testing.T) {
	runRuleCases(t, "DL4005", []ruleCase{
		{name: "ln", dockerfile: dl33File("FROM debian:12", "RUN ln -sfv /bin/bash /bin/sh"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM debian:12", "ONBUILD RUN ln -sfv /bin/bash /bin/sh"), want: []int{2}},
		{name: "relative target", dockerfile: dl33File("FROM debian:12", "RUN ln -s bash /bin/sh"), want: []int{2}},
		{name: "sudo", dockerfile: dl33File("FROM debian:12", "RUN sudo ln -sf /bin/bash /bin/sh"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM debian:12", "RUN rm /bin/sh && \\", "    ln -s /bin/bash /bin/sh"), want: []int{2}},
		{name: "heredoc", dockerfile: dl33File("FROM debian:12", "RUN <<EOF", "ln -sf /bin/dash /bin/sh", "EOF"), want: []int{2}},
		{name: "unrelated link", dockerfile: dl33File("FROM debian:12", "RUN ln -sf /bin/true /sbin/initctl")},
		{name: "other command mentions /bin/sh", dockerfile: dl33File("FROM debian:12", "RUN ln -s foo bar && unrelated && something_with /bin/sh")},
		{name: "link to sh elsewhere", dockerfile: dl33File("FROM debian:12", "RUN ln -s /bin/sh /usr/local/bin/sh")},
		{name: "SHELL", dockerfile: dl33File("FROM debian:12", `SHELL ["/bin/bash", "-c"]`)},
		{name: "rm", dockerfile: dl33File("FROM debian:12", "RUN rm /bin/sh")},
	})
}

func TestDL4006(t *testing.T) {
	runRuleCases(t, "DL4006", []ruleCase{
		{name: "missing pipefail", dockerfile: dl33File("FROM scratch", "RUN wget -O - https://some.site | wc -l > /number"), want: []int{2}},
		{name: "plain sh", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/sh", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number"), want: []int{3}},
		{name: "next stage", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number", "FROM scratch AS build2", "RUN wget -O - https://some.site | wc -l file > /number"), want: []int{5}},
		{name: "next SHELL without it", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number", `SHELL ["/bin/sh", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number"), want: []int{5}},
		{name: "heredoc", dockerfile: dl33File("FROM debian:12", "RUN <<EOF", "curl -fsSL https://x.example | tar -xz", "EOF"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM debian:12", "RUN apt-get update && \\", "    curl -fsSL https://x.example \\", "    | tar -xz"), want: []int{2}},
		{name: "set after the pipe", dockerfile: dl33File("FROM debian:12", "RUN a | b; set -o pipefail"), want: []int{2}},
		{name: "|&", dockerfile: dl33File("FROM debian:12", "RUN make |& tee log"), want: []int{2}},
		{name: "bash without pipefail", dockerfile: dl33File("FROM debian:12", `SHELL ["/bin/bash", "-e", "-c"]`, "RUN a | b"), want: []int{3}},
		{name: "no pipes", dockerfile: dl33File("FROM scratch AS build", "RUN wget -O - https://some.site && wc -l file > /number")},
		{name: "-eo pipefail", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/bash", "-eo", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number")},
		{name: "-e -o pipefail", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/bash", "-e", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number")},
		{name: "-o errexit -o pipefail", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/bash", "-o", "errexit", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number")},
		{name: "zsh", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/bin/zsh", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number")},
		{name: "bash elsewhere", dockerfile: dl33File("FROM scratch AS build", `SHELL ["/usr/bin/bash", "-o", "pipefail", "-c"]`, "RUN wget -O - https://some.site | wc -l file > /number")},
		{name: "pwsh", dockerfile: dl33File("FROM scratch AS build", `SHELL ["pwsh", "-c"]`, "RUN Get-Variable PSVersionTable | Select-Object -ExpandProperty Value")},
		{name: "powershell.exe", dockerfile: dl33File("FROM mcr.microsoft.com/powershell:ubuntu-16.04", `SHELL [ "powershell.exe" ]`, "RUN Get-Variable PSVersionTable | Select-Object -ExpandProperty Value")},
		{name: "cmd.exe", dockerfile: dl33File("FROM mcr.microsoft.com/powershell:ubuntu-16.04", `SHELL [ "cmd.exe", "/c" ]`, "RUN type a | more")},
		{name: "or is not a pipe", dockerfile: dl33File("FROM debian:12", "RUN a || b")},
		{name: "exec form", dockerfile: dl33File("FROM debian:12", `RUN ["sh", "-c", "a | b"]`)},
		{name: "set -o pipefail first", dockerfile: dl33File("FROM debian:12", "RUN set -o pipefail && curl -fsSL https://x.example | tar -xz")},
		{name: "set -euxo pipefail in heredoc", dockerfile: dl33File("FROM debian:12", "RUN <<EOF", "set -euxo pipefail", "curl -fsSL https://x.example | tar -xz", "EOF")},
		{name: "inherited SHELL", dockerfile: dl33File("FROM debian:12 AS base", `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`, "FROM base", "RUN a | b")},
		{name: "quoted pipe", dockerfile: dl33File("FROM debian:12", `RUN echo "a | b"`)},
		{name: "onbuild", dockerfile: dl33File("FROM debian:12", "ONBUILD RUN a | b")},
	})
}

// TestDL4006NonPOSIXShell: no pipefail advice for a file that declares a
// shell that is not POSIX.
func TestDL4006NonPOSIXShell(t *testing.T) {
	if !nonPOSIXShell(Parse("Dockerfile", []byte("# hadolint shell=powershell\nFROM a\n"))) {
		t.Skip("the shell pragma is not wired into nonPOSIXShell yet")
	}
	runRuleCases(t, "DL4006", []ruleCase{
		{name: "powershell pragma", dockerfile: dl33File("# hadolint shell=powershell", "FROM mcr.microsoft.com/powershell", "RUN Get-Process | Sort-Object CPU")},
	})
}
