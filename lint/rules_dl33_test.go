package lint

import (
	"strings"
	"testing"
)

// dl33File joins Dockerfile lines; line i of the file is lines[i-1].
func dl33File(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// dl33Schema is the default configuration with a label schema given as
// name, type pairs.
func dl33Schema(strict bool, pairs ...string) *Config {
	cfg := DefaultConfig()
	cfg.Experimental = true
	cfg.StrictLabels = strict
	cfg.LabelSchema = map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		cfg.LabelSchema[pairs[i]] = pairs[i+1]
	}
	return cfg
}

// dl33Enable is the default configuration with code given a severity (to
// turn on a rule that is off by default).
func dl33Enable(code string, sev Severity) *Config {
	cfg := DefaultConfig()
	cfg.Experimental = true
	cfg.Override = map[string]Severity{code: sev}
	return cfg
}

func TestDL3034(t *testing.T) {
	runRuleCases(t, "DL3034", []ruleCase{
		{name: "install without -y", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install httpd=2.4.24 && zypper clean"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM opensuse/leap:15", "ONBUILD RUN zypper install httpd=2.4.24 && zypper clean"), want: []int{2}},
		{name: "remove in continuation", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper refresh && \\", "    zypper remove vim && \\", "    zypper clean"), want: []int{2}},
		{name: "sudo in", dockerfile: dl33File("FROM opensuse/leap:15", "RUN sudo zypper in curl=8.0"), want: []int{2}},
		{name: "patch", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper patch"), want: []int{2}},
		{name: "source-install in heredoc", dockerfile: dl33File("FROM opensuse/leap:15", "RUN <<EOF", "zypper si foo", "EOF"), want: []int{2}},
		{name: "exec form", dockerfile: dl33File("FROM opensuse/leap:15", `RUN ["zypper", "install", "curl=8.0"]`), want: []int{2}},
		{name: "piped yes", dockerfile: dl33File("FROM opensuse/leap:15", "RUN yes | zypper rm vim"), want: []int{2}},
		{name: "second stage only", dockerfile: dl33File("FROM opensuse/leap:15 AS a", "RUN zypper -n in git=2", "FROM opensuse/leap:15", "RUN zypper in git=2"), want: []int{4}},
		{name: "-y", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y httpd=2.4.24 && zypper clean")},
		{name: "--no-confirm", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install --no-confirm httpd=2.4.24")},
		{name: "global -n", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper -n install httpd=2.4.24")},
		{name: "--non-interactive", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper --non-interactive remove vim")},
		{name: "grouped -ny", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper -ny in git=2")},
		{name: "refresh", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper refresh")},
		{name: "search install", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper search install")},
		{name: "global valued option", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper --root /mnt install -y git=2")},
		{name: "echoed", dockerfile: dl33File("FROM opensuse/leap:15", "RUN echo zypper install git")},
	})
}

func TestDL3035(t *testing.T) {
	runRuleCases(t, "DL3035", []ruleCase{
		{name: "dist-upgrade", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper dist-upgrade"), want: []int{2}},
		{name: "dup", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper dup"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM opensuse/leap:15", "ONBUILD RUN zypper dup -y"), want: []int{2}},
		{name: "global -n", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper -n dist-upgrade"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper ref && \\", "  zypper dist-upgrade -y && \\", "  zypper clean"), want: []int{2}},
		{name: "sudo", dockerfile: dl33File("FROM opensuse/leap:15", "RUN sudo zypper dup"), want: []int{2}},
		{name: "two RUNs", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper dup", "RUN zypper dup"), want: []int{2, 3}},
		{name: "update", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper update -y")},
		{name: "package named dup", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y dup")},
		{name: "echoed", dockerfile: dl33File("FROM opensuse/leap:15", "RUN echo zypper dup")},
		{name: "patch", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper patch -y")},
		{name: "exec echo", dockerfile: dl33File("FROM opensuse/leap:15", `RUN ["echo", "zypper dup"]`)},
	})
}

func TestDL3036(t *testing.T) {
	runRuleCases(t, "DL3036", []ruleCase{
		{name: "no clean", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y mariadb=10.4"), want: []int{2}},
		{name: "onbuild in", dockerfile: dl33File("FROM opensuse/leap:15", "ONBUILD RUN zypper in -y mariadb=10.4"), want: []int{2}},
		{name: "clean before install", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper clean && zypper install -y git=2"), want: []int{2}},
		{name: "clean in next RUN", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y git=2", "RUN zypper clean"), want: []int{2}},
		{name: "heredoc", dockerfile: dl33File("FROM opensuse/leap:15", "RUN <<EOF", "zypper refresh", "zypper install -y git=2", "EOF"), want: []int{2}},
		{name: "install after clean again", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper in -y a=1 && zypper cc && zypper in -y b=2"), want: []int{2}},
		{name: "other cache mount", dockerfile: dl33File("FROM opensuse/leap:15", "RUN --mount=type=cache,target=/root/.cache zypper in -y a=1"), want: []int{2}},
		{name: "clean", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y mariadb=10.4 && zypper clean")},
		{name: "cc", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y mariadb=10.4 && zypper cc")},
		{name: "clean -a continuation", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper in -y git=2 \\", "  && zypper clean -a")},
		{name: "no install", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper refresh")},
		{name: "cache mount", dockerfile: dl33File("FROM opensuse/leap:15", "RUN --mount=type=cache,target=/var/cache/zypp zypper in -y git=2")},
		{name: "remove only", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper rm -y vim")},
		{name: "onbuild clean", dockerfile: dl33File("FROM opensuse/leap:15", "ONBUILD RUN zypper in -y git=2; zypper clean")},
	})
}

func TestDL3037(t *testing.T) {
	runRuleCases(t, "DL3037", []ruleCase{
		{name: "unpinned", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y tomcat && zypper clean"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM opensuse/leap:15", "ONBUILD RUN zypper install -y tomcat && zypper clean"), want: []int{2}},
		{name: "one of two", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper in -y tomcat=9 vim"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper -n install \\", "    git=2.35 \\", "    curl"), want: []int{2}},
		{name: "pattern", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y -t pattern devel_basis"), want: []int{2}},
		{name: "sudo", dockerfile: dl33File("FROM opensuse/leap:15", "RUN sudo zypper in -y git"), want: []int{2}},
		{name: "equals", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y tomcat=9.0.39 && zypper clean")},
		{name: "escaped >=", dockerfile: dl33File("FROM opensuse/leap:15", `RUN zypper install -y tomcat\>=9.0 && zypper clean`)},
		{name: "quoted <", dockerfile: dl33File("FROM opensuse/leap:15", `RUN zypper install -y "tomcat<9.0" && zypper clean`)},
		{name: "quoted <=", dockerfile: dl33File("FROM opensuse/leap:15", `RUN zypper install -y 'tomcat<=9.0'`)},
		{name: "rpm file", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y tomcat-9.0.39-1.rpm && zypper clean")},
		{name: "valued --from", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper install -y --from myrepo tomcat=9")},
		{name: "refresh", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper refresh")},
		{name: "remove", dockerfile: dl33File("FROM opensuse/leap:15", "RUN zypper remove -y vim")},
	})
}

func TestDL3038(t *testing.T) {
	runRuleCases(t, "DL3038", []ruleCase{
		{name: "install", dockerfile: dl33File("FROM fedora:40", "RUN dnf install httpd-2.4.24 && dnf clean all"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM fedora:40", "ONBUILD RUN dnf install httpd-2.4.24 && dnf clean all"), want: []int{2}},
		{name: "microdnf", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf install httpd-2.4.24"), want: []int{2}},
		{name: "groupinstall", dockerfile: dl33File("FROM fedora:40", `RUN dnf groupinstall "Development Tools"`), want: []int{2}},
		{name: "module install", dockerfile: dl33File("FROM fedora:40", "RUN dnf module install nodejs:18"), want: []int{2}},
		{name: "valued option first", dockerfile: dl33File("FROM fedora:40", "RUN dnf --enablerepo epel install git-2.43"), want: []int{2}},
		{name: "localinstall continuation", dockerfile: dl33File("FROM fedora:40", "RUN dnf makecache && \\", "    dnf localinstall /tmp/x.rpm"), want: []int{2}},
		{name: "-y", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y httpd-2.4.24 && dnf clean all")},
		{name: "--assumeyes", dockerfile: dl33File("FROM fedora:40", "RUN dnf install --assumeyes httpd-2.4.24")},
		{name: "notdnf", dockerfile: dl33File("FROM fedora:40", "RUN notdnf install httpd")},
		{name: "global -y", dockerfile: dl33File("FROM fedora:40", "RUN dnf -y install httpd-2.4.24")},
		{name: "grouped -qy", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -qy httpd-2.4.24")},
		{name: "clean only", dockerfile: dl33File("FROM fedora:40", "RUN dnf clean all")},
		{name: "microdnf -y", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf -y install httpd-2.4.24")},
		{name: "onbuild -y", dockerfile: dl33File("FROM fedora:40", "ONBUILD RUN dnf install -y httpd-2.4.24")},
	})
}

func TestDL3040(t *testing.T) {
	runRuleCases(t, "DL3040", []ruleCase{
		{name: "dnf", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y mariadb-10.4"), want: []int{2}},
		{name: "microdnf", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf install -y mariadb-10.4"), want: []int{2}},
		{name: "onbuild other tool cleans", dockerfile: dl33File("FROM fedora:40", "ONBUILD RUN dnf install -y mariadb-10.4 && microdnf clean all"), want: []int{2}},
		{name: "clean before install", dockerfile: dl33File("FROM fedora:40", "RUN dnf clean all && dnf install -y mariadb-10.4"), want: []int{2}},
		{name: "module install", dockerfile: dl33File("FROM fedora:40", "RUN dnf module install -y nodejs:18"), want: []int{2}},
		{name: "unrelated rm", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y git-2.43 && rm -rf /tmp/x"), want: []int{2}},
		{name: "heredoc", dockerfile: dl33File("FROM fedora:40", "RUN <<EOF", "dnf install -y git-2.43", "EOF"), want: []int{2}},
		{name: "clean all", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y mariadb-10.4 && dnf clean all")},
		{name: "microdnf clean all", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf install -y mariadb-10.4 && microdnf clean all")},
		{name: "rm yum cache", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y mariadb-10.4 && rm -rf /var/cache/yum/*")},
		{name: "rm dnf cache continuation", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y mariadb-10.4 \\", "  && rm -rf /var/cache/dnf")},
		{name: "notdnf", dockerfile: dl33File("FROM fedora:40", "RUN notdnf install mariadb")},
		{name: "cache mount", dockerfile: dl33File("FROM fedora:40", "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y git-2.43")},
		{name: "no install", dockerfile: dl33File("FROM fedora:40", "RUN dnf clean all")},
		{name: "onbuild clean", dockerfile: dl33File("FROM fedora:40", "ONBUILD RUN dnf install -y git-2.43 && dnf clean all")},
	})
}

func TestDL3041(t *testing.T) {
	runRuleCases(t, "DL3041", []ruleCase{
		{name: "unpinned", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y tomcat && dnf clean all"), want: []int{2}},
		{name: "microdnf", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf install -y tomcat && microdnf clean all"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM fedora:40", "ONBUILD RUN dnf install -y tomcat && dnf clean all"), want: []int{2}},
		{name: "dashed name", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y rpm-sign && dnf clean all"), want: []int{2}},
		{name: "module without stream", dockerfile: dl33File("FROM fedora:40", "RUN dnf module install -y tomcat && dnf clean all"), want: []int{2}},
		{name: "undeclared variable", dockerfile: dl33File("FROM fedora:40", `RUN dnf install -y "git-core-${GIT_VER}" && dnf clean all`), want: []int{2}},
		{name: "variable of another stage", dockerfile: dl33File("FROM fedora:40 AS a", "ENV V=9.0.1", "FROM fedora:40", "RUN dnf install -y tomcat-$V"), want: []int{4}},
		{name: "continuation", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y \\", "    git-2.43.0 \\", "    vim"), want: []int{2}},
		{name: "versioned", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y tomcat-9.0.1 && dnf clean all")},
		{name: "microdnf versioned", dockerfile: dl33File("FROM ubi9-minimal", "RUN microdnf install -y tomcat-9.0.1 && microdnf clean all")},
		{name: "dashed name versioned", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y rpm-sign-4.16.1.3 && dnf clean all")},
		{name: "plus in name", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y gcc-c++-1.1.1")},
		{name: "epoch", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y openssl-1:1.1.1k")},
		{name: "module stream", dockerfile: dl33File("FROM fedora:40", "RUN dnf module install -y tomcat:9 && dnf clean all")},
		{name: "notdnf", dockerfile: dl33File("FROM fedora:40", "RUN notdnf install tomcat")},
		{name: "declared ARG", dockerfile: dl33File("ARG GIT_VER=2.43.0", "FROM fedora:40", `RUN dnf install -y "git-core-${GIT_VER}" && dnf clean all`)},
		{name: "ENV in base stage", dockerfile: dl33File("FROM fedora:40 AS base", "ENV V=9.0.1", "FROM base", "RUN dnf install -y tomcat-$V")},
		{name: "group", dockerfile: dl33File("FROM fedora:40", `RUN dnf install -y @development-tools`)},
		{name: "rpm file", dockerfile: dl33File("FROM fedora:40", "RUN dnf install -y /tmp/tomcat.rpm")},
	})
}

func TestDL3042(t *testing.T) {
	runRuleCases(t, "DL3042", []ruleCase{
		{name: "pip", dockerfile: dl33File("FROM python:3.12", "RUN pip install MySQL_python"), want: []int{2}},
		{name: "pip2", dockerfile: dl33File("FROM python:3.12", "RUN pip2 install MySQL_python"), want: []int{2}},
		{name: "pip3 onbuild", dockerfile: dl33File("FROM python:3.12", "ONBUILD RUN pip3 install MySQL_python"), want: []int{2}},
		{name: "python -m pip", dockerfile: dl33File("FROM python:3.12", "RUN python3 -m pip install six==1.16"), want: []int{2}},
		{name: "ENV false", dockerfile: dl33File("FROM python:3.12", "ENV PIP_NO_CACHE_DIR=0", "RUN pip install six"), want: []int{3}},
		{name: "RUN env false", dockerfile: dl33File("FROM python:3.12", "RUN PIP_NO_CACHE_DIR=false pip install six"), want: []int{2}},
		{name: "export off", dockerfile: dl33File("FROM python:3.12", "RUN export PIP_NO_CACHE_DIR=off && pip install six"), want: []int{2}},
		{name: "not inherited", dockerfile: dl33File("FROM debian:bookworm AS base", "ENV PIP_NO_CACHE_DIR=1", "FROM debian:bookworm", "RUN pip install six"), want: []int{4}},
		{name: "exec form", dockerfile: dl33File("FROM python:3.12", `RUN ["pip", "install", "six"]`), want: []int{2}},
		{name: "sudo continuation", dockerfile: dl33File("FROM python:3.12", "RUN apt-get update && \\", "    sudo pip install -r requirements.txt"), want: []int{2}},
		{name: "pip after other cache mount", dockerfile: dl33File("FROM python:3.12", "RUN --mount=type=cache,target=/go/pkg pip install six"), want: []int{2}},
		{name: "--no-cache-dir after", dockerfile: dl33File("FROM python:3.12", "RUN pip install MySQL_python --no-cache-dir")},
		{name: "--no-cache-dir before", dockerfile: dl33File("FROM python:3.12", "RUN pip3 install --no-cache-dir MySQL_python")},
		{name: "pipx", dockerfile: dl33File("FROM python:3.12", "RUN pipx install software")},
		{name: "pipenv onbuild", dockerfile: dl33File("FROM python:3.12", "ONBUILD RUN pipenv install library")},
		{name: "ENV 1", dockerfile: dl33File("FROM python:3.12", "ENV PIP_NO_CACHE_DIR=1", "RUN pip install six")},
		{name: "ENV yes legacy form", dockerfile: dl33File("FROM python:3.12", "ENV PIP_NO_CACHE_DIR yes", "RUN pip install six")},
		{name: "ENV quoted true", dockerfile: dl33File("FROM python:3.12", `ENV PIP_NO_CACHE_DIR="true"`, "RUN pip install six")},
		{name: "RUN env on", dockerfile: dl33File("FROM python:3.12", "RUN PIP_NO_CACHE_DIR=on pip install six")},
		{name: "export 1", dockerfile: dl33File("FROM python:3.12", "RUN export PIP_NO_CACHE_DIR=1 && pip install six")},
		{name: "inherited", dockerfile: dl33File("FROM debian:bookworm AS base", "ENV PIP_NO_CACHE_DIR=1", "FROM base", "RUN pip install six")},
		{name: "cache mount", dockerfile: dl33File("FROM python:3.12", "RUN --mount=type=cache,target=/root/.cache/pip pip install six")},
		{name: "pip download", dockerfile: dl33File("FROM python:3.12", "RUN pip download six")},
		{name: "pip option named install", dockerfile: dl33File("FROM python:3.12", "RUN pip show install")},
	})
}

func TestDL3043(t *testing.T) {
	runRuleCases(t, "DL3043", []ruleCase{
		{name: "onbuild onbuild", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD ONBUILD RUN anything"), want: []int{2}},
		{name: "onbuild from", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD FROM debian:bookworm"), want: []int{2}},
		{name: "onbuild maintainer", dockerfile: dl33File("FROM debian:bookworm", `ONBUILD MAINTAINER "BoJack Horseman"`), want: []int{2}},
		{name: "lower case", dockerfile: dl33File("FROM debian:bookworm", "onbuild from alpine"), want: []int{2}},
		{name: "several", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD RUN ok", "ONBUILD FROM x", "ONBUILD ONBUILD CMD y"), want: []int{3, 4}},
		{name: "before FROM", dockerfile: dl33File("ONBUILD MAINTAINER me", "FROM debian:bookworm"), want: []int{1}},
		{name: "ADD", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD ADD anything anywhere")},
		{name: "USER", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD USER anything")},
		{name: "LABEL", dockerfile: dl33File("FROM debian:bookworm", `ONBUILD LABEL bla="blubb"`)},
		{name: "COPY", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD COPY anything anywhere")},
		{name: "RUN", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD RUN anything")},
		{name: "HEALTHCHECK", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD HEALTHCHECK NONE")},
		{name: "ENV", dockerfile: dl33File("FROM debian:bookworm", `ONBUILD ENV MYVAR="bla"`)},
		{name: "FROM outside ONBUILD", dockerfile: dl33File("FROM debian:bookworm")},
		{name: "MAINTAINER outside ONBUILD", dockerfile: dl33File("FROM debian:bookworm", `MAINTAINER "Some Guy"`)},
	})
}

func TestDL3044(t *testing.T) {
	runRuleCases(t, "DL3044", []ruleCase{
		{name: "braces", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="${BLA}/blubb"`), want: []int{2}},
		{name: "bare", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="$BLA/blubb"`), want: []int{2}},
		{name: "whole value bare", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="$BLA"`), want: []int{2}},
		{name: "whole value braces", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="${BLA}"`), want: []int{2}},
		{name: "same name twice", dockerfile: dl33File("FROM alpine:3.20", "ENV PATH=/bla:${PATH} PATH=/blubb:${PATH}"), want: []int{2}},
		{name: "partial and full", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="$BLA/$BLAFOO/blubb"`), want: []int{2}},
		{name: "default form", dockerfile: dl33File("FROM alpine:3.20", "ENV A=1 B=${A:-2}"), want: []int{2}},
		{name: "reference before definition", dockerfile: dl33File("FROM alpine:3.20", "ENV B=$A A=1"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM alpine:3.20", "ENV HOME_DIR=/app \\", "    BIN_DIR=$HOME_DIR/bin"), want: []int{2}},
		{name: "separate ENVs", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb"`, `ENV BLUBB="${BLA}/blubb"`)},
		{name: "partial match 1", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="${FOOBLA}/blubb"`)},
		{name: "partial match 2", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="${BLAFOO}/blubb"`)},
		{name: "partial match 3", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="$FOOBLA/blubb"`)},
		{name: "partial match 4", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="$BLAFOO/blubb"`)},
		{name: "partial match 6", dockerfile: dl33File("FROM alpine:3.20", `ENV BLA="blubb" BLUBB="BLA/$BLAFOO/BLA"`)},
		{name: "defined by ARG", dockerfile: dl33File("FROM alpine:3.20", "ARG BLA", "ENV BLA=${BLA} X=$BLA")},
		{name: "defined by earlier ENV", dockerfile: dl33File("FROM alpine:3.20", "ENV BLA blubb", "ENV BLA=${BLA} X=$BLA")},
		{name: "own right-hand side", dockerfile: dl33File("FROM alpine:3.20", "ENV PATH=/bla:${PATH}")},
		{name: "own right-hand side twice in two ENVs", dockerfile: dl33File("FROM alpine:3.20", "ENV PATH=/bla:${PATH}", "ENV PATH=/blubb:${PATH}")},
		{name: "single quotes", dockerfile: dl33File("FROM alpine:3.20", `ENV A=1 B='$A'`)},
		{name: "escaped dollar", dockerfile: dl33File("FROM alpine:3.20", `ENV A=1 B=\$A`)},
	})
}

func TestDL3045(t *testing.T) {
	runRuleCases(t, "DL3045", []ruleCase{
		{name: "relative", dockerfile: dl33File("FROM debian:bookworm", "COPY bla.sh blubb.sh"), want: []int{2}},
		{name: "quoted relative", dockerfile: dl33File("FROM debian:bookworm", `COPY bla.sh "blubb.sh"`), want: []int{2}},
		{name: "WORKDIR of an unrelated stage", dockerfile: dl33File("FROM debian:bookworm AS stage1", "WORKDIR /usr", "FROM debian:bookworm", "COPY foo bar"), want: []int{4}},
		{name: "WORKDIR of an unrelated stage, windows", dockerfile: dl33File(`FROM mcr.microsoft.com/windows/servercore AS stage1`, `WORKDIR c:\system32`, "FROM mcr.microsoft.com/windows/servercore", "COPY foo bar"), want: []int{4}},
		{name: "single characters", dockerfile: dl33File("FROM debian:bookworm", "COPY a b"), want: []int{2}},
		{name: "dot", dockerfile: dl33File("FROM node:20", "COPY . ."), want: []int{2}},
		{name: "WORKDIR after", dockerfile: dl33File("FROM node:20", "COPY package.json ./", "WORKDIR /app", "COPY . ."), want: []int{2}},
		{name: "from another stage", dockerfile: dl33File("FROM golang:1.22 AS build", "WORKDIR /src", "FROM alpine:3.20", "COPY --from=build /src/app app/"), want: []int{4}},
		{name: "absolute", dockerfile: dl33File("FROM debian:bookworm", "COPY bla.sh /usr/local/bin/blubb.sh")},
		{name: "quoted absolute", dockerfile: dl33File("FROM debian:bookworm", `COPY bla.sh "/usr/local/bin/blubb.sh"`)},
		{name: "windows", dockerfile: dl33File("FROM mcr.microsoft.com/windows/servercore", `COPY bla.sh c:\system32\blubb.sh`)},
		{name: "windows quoted", dockerfile: dl33File("FROM mcr.microsoft.com/windows/servercore", `COPY bla.sh "d:\mypath\blubb.sh"`)},
		{name: "windows forward slashes", dockerfile: dl33File("FROM mcr.microsoft.com/windows/servercore", "COPY bla.sh c:/system32/blubb.sh")},
		{name: "WORKDIR set", dockerfile: dl33File("FROM scratch", "WORKDIR /usr", "COPY bla.sh blubb.sh")},
		{name: "variable braces", dockerfile: dl33File("FROM debian:bookworm", "COPY src.sh ${SRC_BASE_ENV}")},
		{name: "variable quoted", dockerfile: dl33File("FROM debian:bookworm", `COPY src.sh "$SRC_BASE_ENV"`)},
		{name: "WORKDIR in base stage", dockerfile: dl33File("FROM debian:bookworm AS base", "WORKDIR /usr", "FROM debian:bookworm AS between", "RUN foo", "FROM base", "COPY foo bar")},
		{name: "WORKDIR two stages up", dockerfile: dl33File("FROM debian:bookworm AS base1", "WORKDIR /usr", "FROM base1 AS base2", "RUN foo", "FROM base2", "COPY foo bar")},
		{name: "onbuild", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD WORKDIR /usr/local/lib", "ONBUILD COPY foo bar")},
	})
}

func TestDL3046(t *testing.T) {
	runRuleCases(t, "DL3046", []ruleCase{
		{name: "long uid", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -u 123456 luser"), want: []int{2}},
		{name: "--uid", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd --uid 123456 luser"), want: []int{2}},
		{name: "--uid=", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd --uid=1234567 luser"), want: []int{2}},
		{name: "attached", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -u1234567 luser"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM debian:bookworm", "ONBUILD RUN useradd -u 123456 luser"), want: []int{2}},
		{name: "sudo in continuation", dockerfile: dl33File("FROM debian:bookworm", "RUN groupadd -g 123456 app && \\", "    sudo useradd -m -u 123456 -g app app"), want: []int{2}},
		{name: "alone", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd luser")},
		{name: "short uid", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -u 12345 luser")},
		{name: "-l", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -l -u 123456 luser")},
		{name: "only -l", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -l luser")},
		{name: "--no-log-init", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd --no-log-init --uid 123456 luser")},
		{name: "grouped -lm", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -lm -u 123456 luser")},
		{name: "variable", dockerfile: dl33File("FROM debian:bookworm", "RUN useradd -u ${APP_UID} luser")},
		{name: "adduser", dockerfile: dl33File("FROM debian:bookworm", "RUN adduser -u 123456 luser")},
	})
}

func TestDL3047(t *testing.T) {
	runRuleCases(t, "DL3047", []ruleCase{
		{name: "plain", dockerfile: dl33File("FROM node AS foo", "RUN wget my.xyz"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM node AS foo", "ONBUILD RUN wget my.xyz"), want: []int{2}},
		{name: "piped", dockerfile: dl33File("FROM node", "RUN wget -O - https://x.example/a.tgz | tar -xz"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM node", "RUN cd /tmp && \\", "    wget https://x.example/a.tgz"), want: []int{2}},
		{name: "after curl", dockerfile: dl33File("FROM node", "RUN curl -fsS x.example && wget y.example"), want: []int{2}},
		{name: "exec form", dockerfile: dl33File("FROM node", `RUN ["wget", "https://x.example/a.tgz"]`), want: []int{2}},
		{name: "--progress", dockerfile: dl33File("FROM node AS foo", "RUN wget --progress=dot:giga my.xyz")},
		{name: "-q", dockerfile: dl33File("FROM node AS foo", "RUN wget -q my.xyz")},
		{name: "--quiet", dockerfile: dl33File("FROM node AS foo", "RUN wget --quiet my.xyz")},
		{name: "-nv", dockerfile: dl33File("FROM node AS foo", "RUN wget -nv my.xyz")},
		{name: "--no-verbose", dockerfile: dl33File("FROM node AS foo", "RUN wget --no-verbose my.xyz")},
		{name: "--output-file", dockerfile: dl33File("FROM node AS foo", "RUN wget --output-file=/tmp/wget.log my.xyz")},
		{name: "-o", dockerfile: dl33File("FROM node AS foo", "RUN wget -o /tmp/wget.log my.xyz")},
		{name: "--append-output", dockerfile: dl33File("FROM node AS foo", "RUN wget --append-output=/tmp/wget.log my.xyz")},
		{name: "-a", dockerfile: dl33File("FROM node AS foo", "RUN wget -a /tmp/wget.log my.xyz")},
		{name: "-qO-", dockerfile: dl33File("FROM node AS foo", "RUN wget -qO- my.xyz | sh")},
		{name: "no wget", dockerfile: dl33File("FROM node AS foo", "RUN curl -fsSLO my.xyz")},
	})
}

func TestDL3048(t *testing.T) {
	runRuleCases(t, "DL3048", []ruleCase{
		{name: "com.docker", dockerfile: dl33File("FROM alpine:3.20", `LABEL com.docker.label="foo"`), want: []int{2}},
		{name: "io.docker", dockerfile: dl33File("FROM alpine:3.20", `LABEL io.docker.label="foo"`), want: []int{2}},
		{name: "org.dockerproject", dockerfile: dl33File("FROM alpine:3.20", `LABEL org.dockerproject.label="foo"`), want: []int{2}},
		{name: "invalid character", dockerfile: dl33File("FROM alpine:3.20", `LABEL invalid$character="foo"`), want: []int{2}},
		{name: "starts with dot", dockerfile: dl33File("FROM alpine:3.20", `LABEL .invalid="foo"`), want: []int{2}},
		{name: "starts with dash", dockerfile: dl33File("FROM alpine:3.20", `LABEL -invalid="foo"`), want: []int{2}},
		{name: "starts with digit", dockerfile: dl33File("FROM alpine:3.20", `LABEL 1invalid="foo"`), want: []int{2}},
		{name: "ends with dot", dockerfile: dl33File("FROM alpine:3.20", `LABEL invalid.="foo"`), want: []int{2}},
		{name: "two dots", dockerfile: dl33File("FROM alpine:3.20", `LABEL invalid..character="foo"`), want: []int{2}},
		{name: "two dashes", dockerfile: dl33File("FROM alpine:3.20", `LABEL invalid--character="foo"`), want: []int{2}},
		{name: "upper case, second of two, continuation", dockerfile: dl33File("FROM alpine:3.20", `LABEL org.example.a="1" \`, `      Version="2"`), want: []int{2}},
		{name: "quoted key", dockerfile: dl33File("FROM alpine:3.20", `LABEL "Maintainer"="me"`), want: []int{2}},
		{name: "valid", dockerfile: dl33File("FROM alpine:3.20", `LABEL org.valid-key.label3="foo"`)},
		{name: "simple", dockerfile: dl33File("FROM alpine:3.20", `LABEL validlabel="foo"`)},
		{name: "quoted valid key", dockerfile: dl33File("FROM alpine:3.20", `LABEL "org.opencontainers.image.version"="1.0"`)},
		{name: "several valid", dockerfile: dl33File("FROM alpine:3.20", `LABEL a=1 b.c=2 d-e=3`)},
		{name: "legacy form", dockerfile: dl33File("FROM alpine:3.20", "LABEL version 1.0")},
		{name: "onbuild label", dockerfile: dl33File("FROM alpine:3.20", "ONBUILD LABEL Bad=1")},
	})
}

func TestDL3049(t *testing.T) {
	foo := dl33Schema(false, "foo", "text")
	runRuleCases(t, "DL3049", []ruleCase{
		{name: "single stage, no label", dockerfile: dl33File("FROM baseimage"), want: []int{1}, config: foo},
		{name: "single stage, wrong label", dockerfile: dl33File("FROM baseimage", `LABEL bar="baz"`), want: []int{1}, config: foo},
		{name: "two stages, no labels", dockerfile: dl33File("FROM stage1", "FROM stage2"), want: []int{1, 2}, config: foo},
		{name: "two stages, wrong labels", dockerfile: dl33File("FROM stage1", `LABEL bar="baz"`, "FROM stage2", `LABEL buzz="fuzz"`), want: []int{1, 3}, config: foo},
		{name: "label in first only", dockerfile: dl33File("FROM baseimage", `LABEL foo="bar"`, "FROM newimage"), want: []int{3}, config: foo},
		{name: "label in second only", dockerfile: dl33File("FROM baseimage", "FROM newimage", `LABEL foo="bar"`), want: []int{1}, config: foo},
		{name: "inheritance, no labels", dockerfile: dl33File("FROM baseimage AS base", "FROM base"), want: []int{1, 2}, config: foo},
		{name: "no connection", dockerfile: dl33File("FROM baseimage AS base", "FROM anotherimage", `LABEL foo="bar"`), want: []int{1}, config: foo},
		{name: "multiple results, copy", dockerfile: dl33File("FROM baseimage AS base", "FROM newimage", `LABEL foo="bar"`, "COPY --from=base /bar /baz", "", "FROM newimage", "COPY --from=base /bar /baz"), want: []int{6}, config: foo},
		{name: "multiple results, inheritance", dockerfile: dl33File("FROM baseimage AS base", "FROM base", `LABEL foo="bar"`, "", "FROM base"), want: []int{5}, config: foo},
		{name: "multiple results, inheritance, label last", dockerfile: dl33File("FROM baseimage AS base", "FROM base", "", "FROM base", `LABEL foo="bar"`), want: []int{2}, config: foo},
		{name: "onbuild label does not count", dockerfile: dl33File("FROM baseimage", `ONBUILD LABEL foo="bar"`), want: []int{1}, config: foo},
		{name: "two required labels", dockerfile: dl33File("FROM baseimage"), want: []int{1, 1}, config: dl33Schema(false, "foo", "text", "bar", "url")},
		{name: "label present", dockerfile: dl33File("FROM baseimage", `LABEL foo="bar"`), config: foo},
		{name: "inherited", dockerfile: dl33File("FROM baseimage AS base", `LABEL foo="bar"`, "FROM base"), config: foo},
		{name: "label in child stage", dockerfile: dl33File("FROM baseimage AS base", "FROM base", `LABEL foo="bar"`), config: foo},
		{name: "copy source", dockerfile: dl33File("FROM baseimage AS base", "FROM anotherimage", `LABEL foo="bar"`, "COPY --from=base /bar /baz"), config: foo},
		{name: "copy source by index", dockerfile: dl33File("FROM baseimage", "FROM anotherimage", "LABEL foo=bar", "COPY --from=0 /bar /baz"), config: foo},
		{name: "label in grandchild", dockerfile: dl33File("FROM baseimage AS base", "FROM base AS mid", "FROM mid", "LABEL foo=1"), config: foo},
		{name: "no schema", dockerfile: dl33File("FROM baseimage")},
		{name: "among other labels, continuation", dockerfile: dl33File("FROM baseimage", `LABEL a=1 \`, `      foo=2`), config: foo},
	})
}

func TestDL3050(t *testing.T) {
	strict := dl33Schema(true, "required", "text")
	runRuleCases(t, "DL3050", []ruleCase{
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="bar"`), want: []int{2}, config: strict},
		{name: "other and required", dockerfile: dl33File("FROM alpine:3.20", `LABEL required="foo" other="bar"`), want: []int{2}, config: strict},
		{name: "two LABELs", dockerfile: dl33File("FROM alpine:3.20", `LABEL required="foo"`, `LABEL x=1 y=2`), want: []int{3}, config: strict},
		{name: "legacy form", dockerfile: dl33File("FROM alpine:3.20", "LABEL other bar"), want: []int{2}, config: strict},
		{name: "strict without schema", dockerfile: dl33File("FROM alpine:3.20", "LABEL required=1"), want: []int{2}, config: dl33Schema(true)},
		{name: "two stages", dockerfile: dl33File("FROM alpine:3.20 AS a", "LABEL a=1", "FROM alpine:3.20", "LABEL required=1 b=2"), want: []int{2, 4}, config: strict},
		{name: "no label", dockerfile: dl33File("FROM alpine:3.20"), config: strict},
		{name: "required only", dockerfile: dl33File("FROM alpine:3.20", `LABEL required="foo"`), config: strict},
		{name: "not strict", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="bar"`), config: dl33Schema(false, "required", "text")},
		{name: "default config", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="bar"`)},
		{name: "onbuild label", dockerfile: dl33File("FROM alpine:3.20", `ONBUILD LABEL other="bar"`), config: strict},
		{name: "quoted required key", dockerfile: dl33File("FROM alpine:3.20", `LABEL "required"="x"`), config: strict},
	})
}

func TestDL3051(t *testing.T) {
	cfg := dl33Schema(false, "maintainer", "text", "email", "email")
	runRuleCases(t, "DL3051", []ruleCase{
		{name: "empty double quotes", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=""`), want: []int{2}, config: cfg},
		{name: "empty single quotes", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=''`), want: []int{2}, config: cfg},
		{name: "nothing after =", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer= other=x`), want: []int{2}, config: cfg},
		{name: "typed label", dockerfile: dl33File("FROM alpine:3.20", `LABEL email=""`), want: []int{2}, config: cfg},
		{name: "two LABELs", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=""`, "RUN true", `LABEL email=""`), want: []int{2, 4}, config: cfg},
		{name: "both in one LABEL", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="" email=""`), want: []int{2, 2}, config: cfg},
		{name: "non-empty", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="me"`), config: cfg},
		{name: "other label empty", dockerfile: dl33File("FROM alpine:3.20", `LABEL other=""`), config: cfg},
		{name: "no schema", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=""`)},
		{name: "space", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=" "`), config: cfg},
		{name: "onbuild", dockerfile: dl33File("FROM alpine:3.20", `ONBUILD LABEL maintainer=""`), config: cfg},
	})
}

func TestDL3052(t *testing.T) {
	cfg := dl33Schema(false, "urllabel", "url")
	runRuleCases(t, "DL3052", []ruleCase{
		{name: "not a URL", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel="not-url"`), want: []int{2}, config: cfg},
		{name: "no scheme", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel=github.com/acme/app`), want: []int{2}, config: cfg},
		{name: "space", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel="http://exa mple.com"`), want: []int{2}, config: cfg},
		{name: "empty", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel=""`), want: []int{2}, config: cfg},
		{name: "path", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel=/srv/app`), want: []int{2}, config: cfg},
		{name: "second stage", dockerfile: dl33File("FROM alpine:3.20 AS a", "FROM alpine:3.20", `LABEL urllabel=acme`), want: []int{3}, config: cfg},
		{name: "http", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel="http://example.com"`), config: cfg},
		{name: "https with path", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel=https://github.com/acme/app`), config: cfg},
		{name: "mailto", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel=mailto:ops@example.com`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="foo"`), config: cfg},
		{name: "no schema", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel="not-url"`)},
		{name: "text type", dockerfile: dl33File("FROM alpine:3.20", `LABEL urllabel="not-url"`), config: dl33Schema(false, "urllabel", "text")},
	})
}

func TestDL3053(t *testing.T) {
	cfg := dl33Schema(false, "datelabel", "rfc3339")
	runRuleCases(t, "DL3053", []ruleCase{
		{name: "not a date", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel="not-date"`), want: []int{2}, config: cfg},
		{name: "date only", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel=2021-03-10`), want: []int{2}, config: cfg},
		{name: "no T", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel="2021-03-10 10:26:33"`), want: []int{2}, config: cfg},
		{name: "no offset", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel=2021-03-10T10:26:33`), want: []int{2}, config: cfg},
		{name: "month 13", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel=2021-13-10T10:26:33Z`), want: []int{2}, config: cfg},
		{name: "variable", dockerfile: dl33File("FROM alpine:3.20", "ARG BUILD_DATE", `LABEL datelabel=$BUILD_DATE`), want: []int{3}, config: cfg},
		{name: "nanoseconds and offset", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel="2021-03-10T10:26:33.564595127+01:00"`), config: cfg},
		{name: "Z", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel=2024-06-01T12:00:00Z`), config: cfg},
		{name: "negative offset", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel=2024-06-01T12:00:00-07:00`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="doo"`), config: cfg},
		{name: "no schema", dockerfile: dl33File("FROM alpine:3.20", `LABEL datelabel="not-date"`)},
	})
}

func TestDL3054(t *testing.T) {
	cfg := dl33Schema(false, "spdxlabel", "spdx")
	runRuleCases(t, "DL3054", []ruleCase{
		{name: "not SPDX", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="not-spdx"`), want: []int{2}, config: cfg},
		{name: "license name", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="Apache License"`), want: []int{2}, config: cfg},
		{name: "dangling operator", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="MIT OR"`), want: []int{2}, config: cfg},
		{name: "unknown exception", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="GPL-2.0-only WITH Bogus-exception"`), want: []int{2}, config: cfg},
		{name: "unbalanced", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="(MIT"`), want: []int{2}, config: cfg},
		{name: "empty", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel=""`), want: []int{2}, config: cfg},
		{name: "BSD-3-Clause", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="BSD-3-Clause"`), config: cfg},
		{name: "MIT", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel=MIT`), config: cfg},
		{name: "any case", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel=apache-2.0`), config: cfg},
		{name: "deprecated id", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel=GPL-2.0`), config: cfg},
		{name: "expression", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="(MIT AND BSD-2-Clause) OR Apache-2.0"`), config: cfg},
		{name: "exception", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel="GPL-2.0-only WITH Classpath-exception-2.0"`), config: cfg},
		{name: "LicenseRef", dockerfile: dl33File("FROM alpine:3.20", `LABEL spdxlabel=LicenseRef-acme`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="fooo"`), config: cfg},
	})
}

func TestDL3055(t *testing.T) {
	cfg := dl33Schema(false, "githash", "hash")
	runRuleCases(t, "DL3055", []ruleCase{
		{name: "not a hash", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash="not-git-hash"`), want: []int{2}, config: cfg},
		{name: "six digits", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=2dbfae`), want: []int{2}, config: cfg},
		{name: "upper case", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=2DBFAE9`), want: []int{2}, config: cfg},
		{name: "41 digits", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=43c572f1272b6b3171dd1db9e41b7027128ce0801`), want: []int{2}, config: cfg},
		{name: "branch", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=main`), want: []int{2}, config: cfg},
		{name: "short", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash="2dbfae9"`), config: cfg},
		{name: "long", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash="43c572f1272b6b3171dd1db9e41b7027128ce080"`), config: cfg},
		{name: "unquoted long", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=43c572f1272b6b3171dd1db9e41b7027128ce080`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="foo"`), config: cfg},
		{name: "no schema", dockerfile: dl33File("FROM alpine:3.20", `LABEL githash=main`)},
	})
}

func TestDL3056(t *testing.T) {
	cfg := dl33Schema(false, "semver", "semver")
	runRuleCases(t, "DL3056", []ruleCase{
		{name: "not a version", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver="not-sem-ver"`), want: []int{2}, config: cfg},
		{name: "leading v", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=v1.0.0`), want: []int{2}, config: cfg},
		{name: "two parts", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=1.0`), want: []int{2}, config: cfg},
		{name: "leading zero", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=01.0.0`), want: []int{2}, config: cfg},
		{name: "empty pre-release", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=1.0.0-`), want: []int{2}, config: cfg},
		{name: "four parts", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=1.0.0.0`), want: []int{2}, config: cfg},
		{name: "plain", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver="1.0.0"`), config: cfg},
		{name: "pre-release", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver="2.0.1-rc1"`), config: cfg},
		{name: "build", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=1.0.0+build.5`), config: cfg},
		{name: "both", dockerfile: dl33File("FROM alpine:3.20", `LABEL semver=1.0.0-alpha.1+001`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="foo"`), config: cfg},
	})
}

func TestDL3057(t *testing.T) {
	on := dl33Enable("DL3057", Info)
	runRuleCases(t, "DL3057", []ruleCase{
		{name: "no HEALTHCHECK", dockerfile: dl33File("FROM scratch"), want: []int{1}, config: on},
		{name: "not inheriting", dockerfile: dl33File("FROM scratch AS base", "HEALTHCHECK CMD /bin/bla", "FROM scratch"), want: []int{3}, config: on},
		{name: "bifurcating chain", dockerfile: dl33File("FROM scratch AS base1", "FROM base1 AS base2", "FROM base2 AS base3.1", "FROM base2 AS base3.2", "", "FROM base3.1 AS end1", "HEALTHCHECK NONE", "", "FROM base3.2 AS end2"), want: []int{4, 9}, config: on},
		{name: "two unrelated stages", dockerfile: dl33File("FROM alpine:3.20", "FROM debian:bookworm"), want: []int{1, 2}, config: on},
		{name: "onbuild HEALTHCHECK", dockerfile: dl33File("FROM nginx:1.27", "ONBUILD HEALTHCHECK NONE"), want: []int{1}, config: on},
		{name: "sibling has one", dockerfile: dl33File("FROM alpine:3.20 AS base", "FROM base AS a", "FROM base AS b", "HEALTHCHECK NONE"), want: []int{2}, config: on},
		{name: "NONE", dockerfile: dl33File("FROM scratch", "HEALTHCHECK NONE"), config: on},
		{name: "CMD", dockerfile: dl33File("FROM scratch", "HEALTHCHECK CMD /bin/bla"), config: on},
		{name: "inherited", dockerfile: dl33File("FROM scratch AS base", "HEALTHCHECK CMD /bin/bla", "FROM base"), config: on},
		{name: "end of chain", dockerfile: dl33File("FROM scratch AS base1", "FROM base1 AS base2", "FROM base2 AS base3", "FROM base3 AS end", "HEALTHCHECK NONE"), config: on},
		{name: "off by default", dockerfile: dl33File("FROM scratch")},
		{name: "with options, continuation", dockerfile: dl33File("FROM nginx:1.27", "HEALTHCHECK --interval=30s \\", "  CMD curl -f http://localhost/ || exit 1"), config: on},
	})
}

func TestDL3058(t *testing.T) {
	cfg := dl33Schema(false, "maintainer", "email")
	runRuleCases(t, "DL3058", []ruleCase{
		{name: "not an email", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="not-email"`), want: []int{2}, config: cfg},
		{name: "display name", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="Jane Doe <jane@example.com>"`), want: []int{2}, config: cfg},
		{name: "no domain", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=jane@`), want: []int{2}, config: cfg},
		{name: "no local part", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=@example.com`), want: []int{2}, config: cfg},
		{name: "space", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="jane doe@example.com"`), want: []int{2}, config: cfg},
		{name: "valid", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="abcd@google.com"`), config: cfg},
		{name: "dots and plus", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer=first.last+tag@example.co.uk`), config: cfg},
		{name: "other label", dockerfile: dl33File("FROM alpine:3.20", `LABEL other="doo"`), config: cfg},
		{name: "no schema", dockerfile: dl33File("FROM alpine:3.20", `LABEL maintainer="not-email"`)},
		{name: "onbuild", dockerfile: dl33File("FROM alpine:3.20", `ONBUILD LABEL maintainer="not-email"`), config: cfg},
	})
}

func TestDL3059(t *testing.T) {
	runRuleCases(t, "DL3059", []ruleCase{
		{name: "two consecutive", dockerfile: dl33File("FROM debian:12", "RUN /foo.sh", "RUN /bar.sh"), want: []int{3}},
		{name: "separated by a comment", dockerfile: dl33File("FROM debian:12", "RUN /foo.sh", "# a comment", "RUN /bar.sh"), want: []int{4}},
		{name: "separated by two comments", dockerfile: dl33File("FROM debian:12", "RUN /foo.sh", "# a comment", "# another comment", "RUN /bar.sh"), want: []int{5}},
		{name: "same flags", dockerfile: dl33File("FROM debian:12", "RUN --mount=type=secret,id=foo /foo.sh", "RUN --mount=type=secret,id=foo /bar.sh"), want: []int{3}},
		{name: "three in a row", dockerfile: dl33File("FROM debian:12", "RUN a", "RUN b", "RUN c"), want: []int{3, 4}},
		{name: "chained then two single", dockerfile: dl33File("FROM debian:12", "RUN foo && bar", "RUN foo", "RUN bar"), want: []int{4}},
		{name: "exec form", dockerfile: dl33File("FROM debian:12", `RUN ["a"]`, `RUN ["b", "c"]`), want: []int{3}},
		{name: "one line continued", dockerfile: dl33File("FROM debian:12", "RUN apt-get update", "RUN apt-get install -y \\", "    curl=8.5.0-2"), want: []int{3}},
		{name: "no RUN", dockerfile: dl33File("FROM debian:12")},
		{name: "one RUN", dockerfile: dl33File("FROM debian:12", "RUN /foo.sh")},
		{name: "not consecutive", dockerfile: dl33File("FROM debian:12", "RUN /foo.sh", "WORKDIR /", "RUN /bar.sh")},
		{name: "comment then RUN", dockerfile: dl33File("FROM debian:12", "# a comment", "RUN /foo.sh")},
		{name: "different flags", dockerfile: dl33File("FROM debian:12", "RUN --mount=type=secret,id=foo /foo.sh", "RUN /bar.sh")},
		{name: "different mounts", dockerfile: dl33File("FROM debian:12", "RUN --mount=type=secret,id=foo /foo.sh", "RUN --mount=type=secret,id=bar /bar.sh")},
		{name: "chained first", dockerfile: dl33File("FROM debian:12", "RUN foo && bar", "RUN foobar")},
		{name: "semicolon first", dockerfile: dl33File("FROM debian:12", "RUN foo; bar", "RUN foobar")},
		{name: "chained second", dockerfile: dl33File("FROM debian:12", "RUN foobar", "RUN foo && bar")},
		{name: "both chained", dockerfile: dl33File("FROM debian:12", "RUN foo && bar", "RUN foo; bar")},
		{name: "heredoc", dockerfile: dl33File("FROM debian:12", "RUN foo", "RUN <<EOF", "a", "b", "EOF")},
		{name: "onbuild between", dockerfile: dl33File("FROM debian:12", "RUN a", "ONBUILD RUN b", "RUN c")},
		{name: "stage boundary", dockerfile: dl33File("FROM debian:12", "RUN a", "FROM debian:12", "RUN b")},
	})
}

func TestDL3060(t *testing.T) {
	runRuleCases(t, "DL3060", []ruleCase{
		{name: "no cache clean", dockerfile: dl33File("FROM node:20", "RUN yarn install foo"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM node:20", "ONBUILD RUN yarn install foo"), want: []int{2}},
		{name: "last stage", dockerfile: dl33File("FROM node:lts-alpine AS foo", "RUN hey!", "FROM scratch", "RUN yarn install"), want: []int{4}},
		{name: "stage built on", dockerfile: dl33File("FROM node:lts-alpine AS foo", "RUN yarn install", "FROM foo", "RUN hey!"), want: []int{2}},
		{name: "clean before install", dockerfile: dl33File("FROM node:20", "RUN yarn cache clean && yarn install"), want: []int{2}},
		{name: "continuation", dockerfile: dl33File("FROM node:20", "RUN cd /app && \\", "    yarn install --frozen-lockfile"), want: []int{2}},
		{name: "onbuild in unused stage", dockerfile: dl33File("FROM node:20 AS foo", "ONBUILD RUN yarn install", "FROM scratch"), want: []int{2}},
		{name: "non-yarn", dockerfile: dl33File("FROM node:20", "RUN foo")},
		{name: "cache clean", dockerfile: dl33File("FROM node:20", "RUN yarn install bar && yarn cache clean")},
		{name: "onbuild cache clean", dockerfile: dl33File("FROM node:20", "ONBUILD RUN yarn install bar && yarn cache clean")},
		{name: "inherited clean", dockerfile: dl33File("FROM node:lts-alpine AS foo", "RUN yarn install && yarn cache clean", "FROM foo", "RUN hey!")},
		{name: "stage not reused", dockerfile: dl33File("FROM node:lts-alpine AS foo", "RUN yarn install foo", "FROM scratch", "RUN hey!")},
		{name: "stage only copied from", dockerfile: dl33File("FROM node:20 AS build", "RUN yarn install", "FROM nginx:1.27", "COPY --from=build /app/dist /usr/share/nginx/html")},
		{name: "cache mount", dockerfile: dl33File("FROM node:20", "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install")},
		{name: "cache removed", dockerfile: dl33File("FROM node:20", "RUN yarn install && rm -rf /usr/local/share/.cache/yarn")},
		{name: "yarn add", dockerfile: dl33File("FROM node:20", "RUN yarn add left-pad@1.3.0 && yarn cache clean")},
	})
}

func TestDL3061(t *testing.T) {
	runRuleCases(t, "DL3061", []ruleCase{
		{name: "LABEL before FROM", dockerfile: dl33File("LABEL foo=bar", "FROM foo"), want: []int{1}},
		{name: "RUN before FROM", dockerfile: dl33File("RUN echo hi", "FROM foo"), want: []int{1}},
		{name: "two before FROM", dockerfile: dl33File("ENV A=1", "RUN echo $A", "FROM foo"), want: []int{1, 2}},
		{name: "after ARG", dockerfile: dl33File("ARG V=1", "WORKDIR /app", "FROM foo:$V"), want: []int{2}},
		{name: "ONBUILD before FROM", dockerfile: dl33File("ONBUILD RUN x", "FROM foo"), want: []int{1}},
		{name: "no FROM", dockerfile: dl33File("# comment", "RUN x", "CMD y"), want: []int{2, 3}},
		{name: "FROM then LABEL", dockerfile: dl33File("FROM foo", "LABEL foo=bar")},
		{name: "ARG, FROM, LABEL", dockerfile: dl33File("ARG A=B", "FROM foo", "LABEL foo=bar")},
		{name: "directive before FROM", dockerfile: dl33File("# syntax = docker/dockerfile:1", "FROM node:16-alpine3.13")},
		{name: "comments before FROM", dockerfile: dl33File("# build", "", "# image", "FROM foo")},
		{name: "FROM, ARG, RUN", dockerfile: dl33File("FROM foo", "ARG A=B", "RUN echo bla")},
		{name: "empty", dockerfile: ""},
	})
}

func TestDL3062(t *testing.T) {
	runRuleCases(t, "DL3062", []ruleCase{
		{name: "install unpinned", dockerfile: dl33File("FROM golang:1.22", "RUN go install example.com/pkg"), want: []int{2}},
		{name: "install latest", dockerfile: dl33File("FROM golang:1.22", "RUN go install example.com/pkg@latest"), want: []int{2}},
		{name: "onbuild", dockerfile: dl33File("FROM golang:1.22", "ONBUILD RUN go install example.com/pkg"), want: []int{2}},
		{name: "install tool", dockerfile: dl33File("FROM golang:1.22", "RUN go install tool foobar"), want: []int{2}},
		{name: "get", dockerfile: dl33File("FROM golang:1.22", "RUN go get example.com/pkg"), want: []int{2}},
		{name: "get -tool latest", dockerfile: dl33File("FROM golang:1.22", "RUN go get -tool foobar@latest"), want: []int{2}},
		{name: "run", dockerfile: dl33File("FROM golang:1.22", "RUN go run example.com/pkg"), want: []int{2}},
		{name: "none", dockerfile: dl33File("FROM golang:1.22", "RUN go get example.com/pkg@none"), want: []int{2}},
		{name: "second package", dockerfile: dl33File("FROM golang:1.22", "RUN go install a.example/x@v1.0.0 b.example/y"), want: []int{2}},
		{name: "valued flag, continuation", dockerfile: dl33File("FROM golang:1.22", `RUN CGO_ENABLED=0 \`, `    go install -ldflags "-s -w" example.com/pkg`), want: []int{2}},
		{name: "install pinned", dockerfile: dl33File("FROM golang:1.22", "RUN go install example.com/pkg@v1.2.3")},
		{name: "absolute path", dockerfile: dl33File("FROM golang:1.22", "RUN go install /go/app/foobar")},
		{name: "relative path", dockerfile: dl33File("FROM golang:1.22", "RUN go install ./app/foobar")},
		{name: "dot", dockerfile: dl33File("FROM golang:1.22", "RUN go install .")},
		{name: "tool pinned", dockerfile: dl33File("FROM golang:1.22", "RUN go install tool foobar@v1.2.3")},
		{name: "get -tool pinned", dockerfile: dl33File("FROM golang:1.22", "RUN go get -tool foobar@v1.2.3")},
		{name: "run pinned with flags", dockerfile: dl33File("FROM golang:1.22", "RUN go run example.com/pkg@v1.2.3 --foobar")},
		{name: "run pinned with arguments", dockerfile: dl33File("FROM golang:1.22", "RUN go run example.com/pkg@v1.2.3 --foo bar")},
		{name: "run local", dockerfile: dl33File("FROM golang:1.22", "RUN go run ./cmd/gen out.go")},
		{name: "build", dockerfile: dl33File("FROM golang:1.22", "RUN go build -o /app ./...")},
		{name: "valued flag pinned", dockerfile: dl33File("FROM golang:1.22", `RUN go install -ldflags "-X main.v=1" -mod vendor example.com/pkg@v1.0.0`)},
		{name: "mod download", dockerfile: dl33File("FROM golang:1.22", "RUN go mod download")},
	})
}

func TestDL3063(t *testing.T) {
	runRuleCases(t, "DL3063", []ruleCase{
		{name: "scratch", dockerfile: dl33File("FROM golang:1.22 AS scratch"), want: []int{1}},
		{name: "context", dockerfile: dl33File("FROM golang:1.22 AS context"), want: []int{1}},
		{name: "any case", dockerfile: dl33File("FROM golang:1.22 AS Scratch"), want: []int{1}},
		{name: "lower-case keywords", dockerfile: dl33File("from golang:1.22 as context"), want: []int{1}},
		{name: "second stage", dockerfile: dl33File("FROM golang:1.22 AS build", "RUN go build", "FROM alpine:3.20 AS scratch"), want: []int{3}},
		{name: "build", dockerfile: dl33File("FROM golang:1.22 AS build")},
		{name: "no name", dockerfile: dl33File("FROM golang:1.22")},
		{name: "scratch image", dockerfile: dl33File("FROM scratch")},
		{name: "similar name", dockerfile: dl33File("FROM golang:1.22 AS scratch2")},
		{name: "contexts", dockerfile: dl33File("FROM golang:1.22 AS contexts")},
	})
}

func TestDL3064(t *testing.T) {
	runRuleCases(t, "DL3064", []ruleCase{
		{name: "global ARG", dockerfile: dl33File("ARG AWS_ACCESS_KEY_ID", "FROM debian:bullseye", "RUN foobar"), want: []int{1}},
		{name: "ARG any case", dockerfile: dl33File("FROM debian:bullseye", "ARG openai_api_key", "RUN foobar"), want: []int{2}},
		{name: "ENV", dockerfile: dl33File("FROM debian:bullseye", "ENV AWS_ACCESS_KEY_ID=abcdefghijklmnopqrstuvwxyz"), want: []int{2}},
		{name: "ENV fragment", dockerfile: dl33File("FROM debian:bullseye", "ENV my_password=abcdefghijklmnopqrstuvwxyz"), want: []int{2}},
		{name: "onbuild ENV", dockerfile: dl33File("FROM debian:bullseye", "ONBUILD ENV GITHUB_TOKEN=x"), want: []int{2}},
		{name: "legacy ENV", dockerfile: dl33File("FROM debian:bullseye", "ENV API_TOKEN abc"), want: []int{2}},
		{name: "second of several", dockerfile: dl33File("FROM debian:bullseye", "ENV A=1 \\", "    DB_SECRET=2"), want: []int{2}},
		{name: "nothing", dockerfile: dl33File("FROM debian:bullseye", "RUN foobar")},
		{name: "ARG", dockerfile: dl33File("ARG foobar", "FROM debian:bullseye", "RUN foobar")},
		{name: "ENV", dockerfile: dl33File("FROM debian:bullseye", "ENV foobar=barfoo", "RUN foobar")},
		{name: "version", dockerfile: dl33File("FROM debian:bullseye", "ARG VERSION=1", "ENV PATH=/app/bin:$PATH")},
		{name: "LABEL", dockerfile: dl33File("FROM debian:bullseye", "LABEL password=none")},
		{name: "secret mount", dockerfile: dl33File("FROM debian:bullseye", "RUN --mount=type=secret,id=token cat /run/secrets/token")},
	})
}

func TestDL3065(t *testing.T) {
	runRuleCases(t, "DL3065", []ruleCase{
		{name: "bare", dockerfile: dl33File("FROM --platform=$TARGETPLATFORM alpine:3.20"), want: []int{1}},
		{name: "braces", dockerfile: dl33File("FROM --platform=${TARGETPLATFORM} alpine:3.20"), want: []int{1}},
		{name: "named stage", dockerfile: dl33File("FROM --platform=$TARGETPLATFORM alpine:3.20 AS run"), want: []int{1}},
		{name: "lower case", dockerfile: dl33File("from --platform=$TARGETPLATFORM alpine:3.20"), want: []int{1}},
		{name: "second stage", dockerfile: dl33File("FROM --platform=$BUILDPLATFORM golang:1.22 AS build", "FROM --platform=$TARGETPLATFORM alpine:3.20"), want: []int{2}},
		{name: "no platform", dockerfile: dl33File("FROM alpine:3.20")},
		{name: "other variable", dockerfile: dl33File("FROM --platform=$FOOBAR alpine:3.20")},
		{name: "constant", dockerfile: dl33File("FROM --platform=foobar alpine:3.20")},
		{name: "os/arch", dockerfile: dl33File("FROM --platform=linux/arm64 alpine:3.20")},
		{name: "build platform", dockerfile: dl33File("FROM --platform=$BUILDPLATFORM golang:1.22")},
	})
}

func TestDL3066(t *testing.T) {
	runRuleCases(t, "DL3066", []ruleCase{
		{name: "name", dockerfile: dl33File("FROM foo:bar", "USER foobar"), want: []int{2}},
		{name: "name and group", dockerfile: dl33File("FROM foo:bar", "USER foobar:barfoo"), want: []int{2}},
		{name: "numeric only in an earlier stage", dockerfile: dl33File("FROM foo:bar AS build", "USER 1234", "FROM foobar:barfoo", "USER foobar"), want: []int{4}},
		{name: "numeric then name", dockerfile: dl33File("FROM foo:bar", "USER 1234", "USER foobar"), want: []int{3}},
		{name: "undeclared variable", dockerfile: dl33File("FROM foo:bar", "USER ${APP_UID}"), want: []int{2}},
		{name: "root", dockerfile: dl33File("FROM foo:bar", "RUN make", "USER root"), want: []int{3}},
		{name: "numeric", dockerfile: dl33File("FROM foo:bar", "USER 1234")},
		{name: "numeric and group", dockerfile: dl33File("FROM foo:bar", "USER 1234:5678")},
		{name: "declared ARG", dockerfile: dl33File("ARG APP_UID", "FROM foobar:barfoo", "USER ${APP_UID}")},
		{name: "name in an earlier stage", dockerfile: dl33File("FROM foo:bar AS build", "USER foobar", "FROM foobar:barfoo", "USER 1234")},
		{name: "name then numeric", dockerfile: dl33File("FROM foo:bar", "USER foobar", "USER 1234")},
		{name: "no USER", dockerfile: dl33File("FROM foo:bar", "RUN make")},
		{name: "declared ENV", dockerfile: dl33File("FROM foo:bar", "ENV UID=10001", "USER $UID:$UID")},
	})
}

func TestDL3067(t *testing.T) {
	runRuleCases(t, "DL3067", []ruleCase{
		{name: "root to root", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --from=build / /"), want: []int{3}},
		{name: "quoted", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", `COPY --from=build "/" "/"`), want: []int{3}},
		{name: "among sources", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --from=build /etc / /"), want: []int{3}},
		{name: "by index", dockerfile: dl33File("FROM alpine:3.20", "FROM scratch", "COPY --from=0 / /"), want: []int{3}},
		{name: "from an image", dockerfile: dl33File("FROM scratch", "COPY --from=busybox:1.36 / /"), want: []int{2}},
		{name: "with --link", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --link --from=build / /"), want: []int{3}},
		{name: "no --from", dockerfile: dl33File("FROM scratch", "COPY / /")},
		{name: "a directory", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --from=build /app /")},
		{name: "into a directory", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --from=build / /app")},
		{name: "root contents", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "COPY --from=build /. /rootfs/")},
		{name: "onbuild", dockerfile: dl33File("FROM alpine:3.20 AS build", "FROM scratch", "ONBUILD COPY --from=build / /")},
	})
}

// TestDL33NonPOSIXShell: shell-reading rules stay quiet when the file
// declares a shell that is not POSIX.
func TestDL33NonPOSIXShell(t *testing.T) {
	if !nonPOSIXShell(Parse("Dockerfile", []byte("# hadolint shell=powershell\nFROM a\n"))) {
		t.Skip("the shell pragma is not wired into shellCommands yet")
	}
	src := dl33File("# hadolint shell=powershell", "FROM mcr.microsoft.com/powershell", "RUN zypper install tomcat; pip install six; wget x.example; go install example.com/pkg")
	for _, code := range []string{"DL3034", "DL3036", "DL3037", "DL3042", "DL3047", "DL3062"} {
		runRuleCases(t, code, []ruleCase{{name: "powershell", dockerfile: src}})
	}
}
