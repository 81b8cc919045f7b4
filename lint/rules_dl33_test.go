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
