package lint

import "testing"

func TestDL30Severities(t *testing.T) {
	want := map[string]Severity{
		"DL3000": Error, "DL3001": Info, "DL3002": Warning, "DL3003": Warning, "DL3004": Error,
		"DL3006": Warning, "DL3007": Warning, "DL3008": Warning, "DL3009": Info, "DL3010": Info,
		"DL3011": Error, "DL3012": Error, "DL3013": Warning, "DL3014": Warning, "DL3015": Info,
		"DL3016": Warning, "DL3018": Warning, "DL3019": Info, "DL3020": Error, "DL3021": Error,
		"DL3022": Warning, "DL3023": Error, "DL3024": Error, "DL3025": Warning, "DL3026": Error,
		"DL3027": Warning, "DL3028": Warning, "DL3029": Warning, "DL3030": Warning, "DL3032": Warning,
		"DL3033": Warning,
	}
	for code, sev := range want {
		r, ok := RuleByCode(code)
		if !ok {
			t.Errorf("RuleByCode(%q) not found", code)
			continue
		}
		if r.Severity != sev || r.URL != "https://github.com/hadolint/hadolint/wiki/"+code {
			t.Errorf("RuleByCode(%q) = severity %v, URL %q; want %v and the hadolint wiki", code, r.Severity, r.URL, sev)
		}
	}
	for _, retired := range []string{"DL3005", "DL3017", "DL3031"} {
		if _, ok := RuleByCode(retired); ok {
			t.Errorf("RuleByCode(%q) found a rule hadolint retired", retired)
		}
	}
}

// Cases for hadolint's rules DL3000-DL3033, written from the rules'
// documented behaviour and hadolint's tricky cases. Line numbers are 1-based;
// most files start with a FROM on line 1.

func TestDL3000(t *testing.T) {
	runRuleCases(t, "DL3000", []ruleCase{
		{"relative", "FROM debian:12\nWORKDIR relative/dir\n", []int{2}, nil},
		{"relative single quotes", "FROM debian:12\nWORKDIR 'relative/dir'\n", []int{2}, nil},
		{"relative double quotes", "FROM debian:12\nWORKDIR \"relative/dir\"\n", []int{2}, nil},
		{"dot", "FROM debian:12\nWORKDIR /app\nWORKDIR .\n", []int{3}, nil},
		{"in every stage", "FROM debian:12 AS a\nWORKDIR src\nFROM debian:12\nWORKDIR /ok\nWORKDIR out\n", []int{2, 5}, nil},
		{"lowercase keyword", "FROM debian:12\nworkdir app\n", []int{2}, nil},
		{"absolute", "FROM debian:12\nWORKDIR /usr/local\n", nil, nil},
		{"absolute quoted", "FROM debian:12\nWORKDIR \"/usr/local\"\nWORKDIR '/opt'\n", nil, nil},
		{"variable", "FROM debian:12\nARG work=/srv\nWORKDIR ${work}\nWORKDIR \"$work/sub\"\n", nil, nil},
		{"windows drive backslash", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\\\app\n", nil, nil},
		{"windows drive slash", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:/app\nWORKDIR \"D:/x\"\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nONBUILD WORKDIR rel\n", nil, nil},
	})
}

func TestDL3001(t *testing.T) {
	runRuleCases(t, "DL3001", []ruleCase{
		{"top", "FROM debian:12\nRUN top\n", []int{2}, nil},
		{"service in a chain", "FROM debian:12\nRUN apt-get update && service nginx start\n", []int{2}, nil},
		{"ps in a pipe", "FROM debian:12\nRUN ps aux | grep nginx\n", []int{2}, nil},
		{"ifconfig", "FROM debian:12\nRUN ifconfig eth0\n", []int{2}, nil},
		{"kill after sudo", "FROM debian:12\nRUN sudo kill -9 1\n", []int{2}, nil},
		{"multi-line", "FROM debian:12\nRUN set -e; \\\n    mount -t tmpfs none /mnt; \\\n    echo ok\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN vim /etc/hosts\n", []int{2}, nil},
		{"heredoc", "FROM debian:12\nRUN <<EOF\nset -e\nshutdown -h now\nEOF\n", []int{2}, nil},
		{"exec form", "FROM debian:12\nRUN [\"ssh\", \"host\", \"true\"]\n", []int{2}, nil},
		{"installing ssh", "FROM debian:12\nRUN apt-get install -y ssh=1:9.2\n", nil, nil},
		{"names as arguments", "FROM debian:12\nRUN echo top free kill && which vim\n", nil, nil},
		{"procps package", "FROM debian:12\nRUN apt-get install -y procps=2:4.0.2-3 mount=2.38.1\n", nil, nil},
		{"not a run", "FROM debian:12\nCMD [\"top\"]\n", nil, nil},
		{"heredoc as data", "FROM debian:12\nRUN cat > /usr/local/bin/stop <<EOF\nkill 1\nEOF\n", nil, nil},
		{"powershell style exec form", "FROM debian:12\nRUN [\"echo\", \"ps\"]\n", nil, nil},
	})
}

func TestDL3002(t *testing.T) {
	runRuleCases(t, "DL3002", []ruleCase{
		{"root", "FROM debian:12\nUSER root\n", []int{2}, nil},
		{"uid 0", "FROM debian:12\nUSER 0\n", []int{2}, nil},
		{"root:root", "FROM debian:12\nUSER root:root\n", []int{2}, nil},
		{"0:0", "FROM debian:12\nUSER 0:0\n", []int{2}, nil},
		{"last of two", "FROM debian:12\nUSER app\nRUN id\nUSER root\n", []int{4}, nil},
		{"transitive stage", "FROM debian:12 AS base\nUSER root\nRUN something\nFROM base\nRUN something else\n", []int{2}, nil},
		{"each stage on its own", "FROM debian:12 AS base\nUSER root\nRUN x\nFROM scratch\nUSER foo\nRUN y\n", []int{2}, nil},
		{"two stages ending root", "FROM debian:12 AS a\nUSER 0\nFROM debian:12\nUSER root:staff\n", []int{2, 4}, nil},
		{"non root", "FROM debian:12\nUSER foo\n", nil, nil},
		{"switch back", "FROM debian:12\nUSER root\nRUN something\nUSER foo\n", nil, nil},
		{"switch back in earlier stage", "FROM debian:12 AS base\nUSER root\nRUN x\nUSER foo\nFROM scratch\nRUN y\n", nil, nil},
		{"uid and gid", "FROM debian:12\nUSER 1000:0\n", nil, nil},
		{"name starting with root", "FROM debian:12\nUSER rootless\n", nil, nil},
		{"no user", "FROM debian:12\nRUN id\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nUSER app\nONBUILD USER root\n", nil, nil},
	})
}

func TestDL3003(t *testing.T) {
	runRuleCases(t, "DL3003", []ruleCase{
		{"cd", "FROM debian:12\nRUN cd /opt\n", []int{2}, nil},
		{"cd and make", "FROM debian:12\nRUN cd /src && make\n", []int{2}, nil},
		{"cd in a subshell", "FROM debian:12\nRUN (cd /src; make install)\n", []int{2}, nil},
		{"multi-line", "FROM debian:12\nRUN git clone https://x/y.git \\\n && cd y \\\n && make\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN cd /app && npm ci\n", []int{2}, nil},
		{"heredoc", "FROM debian:12\nRUN <<EOF\ncd /tmp\nls\nEOF\n", []int{2}, nil},
		{"workdir", "FROM debian:12\nWORKDIR /opt\n", nil, nil},
		{"cd as an argument", "FROM debian:12\nRUN echo cd /opt\n", nil, nil},
		{"make -C", "FROM debian:12\nRUN make -C /src install\n", nil, nil},
		{"exec form with cd in a string", "FROM debian:12\nRUN [\"echo\", \"cd\"]\n", nil, nil},
		{"heredoc as data", "FROM debian:12\nRUN cat > /run.sh <<EOF\ncd /app\nEOF\n", nil, nil},
		{"powershell pragma", "# hadolint shell=powershell\nFROM mcr.microsoft.com/powershell:7.4\nRUN cd C:\\app; dir\n", nil, nil},
	})
}

func TestDL3004(t *testing.T) {
	runRuleCases(t, "DL3004", []ruleCase{
		{"sudo", "FROM debian:12\nRUN sudo apt-get update\n", []int{2}, nil},
		{"sudo in a chain", "FROM debian:12\nRUN apt-get update && sudo apt-get install -y x=1\n", []int{2}, nil},
		{"sudo after env", "FROM debian:12\nRUN env HOME=/root sudo make install\n", []int{2}, nil},
		{"sudo by path", "FROM debian:12\nRUN /usr/bin/sudo -u app id\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN sudo apt-get update\n", []int{2}, nil},
		{"multi-line and pipe", "FROM debian:12\nRUN curl -fsSL https://x/key \\\n  | sudo tee /etc/apt/key.asc\n", []int{2}, nil},
		{"exec form", "FROM debian:12\nRUN [\"sudo\", \"make\", \"install\"]\n", []int{2}, nil},
		{"install sudo", "FROM debian:12\nRUN apt-get install -y sudo=1.9.13\n", nil, nil},
		{"sudoers file", "FROM debian:12\nRUN echo 'app ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/app\n", nil, nil},
		{"gosu", "FROM debian:12\nRUN gosu app true\n", nil, nil},
		{"not a run", "FROM debian:12\nCMD sudo -i\n", nil, nil},
		{"heredoc as data", "FROM debian:12\nRUN cat > /x.sh <<EOF\nsudo id\nEOF\n", nil, nil},
		{"cmd pragma", "# hadolint shell=cmd\nFROM debian:12\nRUN sudo x\n", nil, nil},
	})
}

func TestDL3006(t *testing.T) {
	runRuleCases(t, "DL3006", []ruleCase{
		{"untagged", "FROM debian\n", []int{1}, nil},
		{"untagged with name", "FROM debian AS builder\n", []int{1}, nil},
		{"untagged with registry", "FROM registry.example.com:5000/team/app\n", []int{1}, nil},
		{"other untagged stage", "FROM golang:1.22 AS build\nRUN foo\nFROM node as unit-test\nRUN bar\nFROM alpine:3.19\n", []int{3}, nil},
		{"stage defined later is an image", "FROM build\nFROM golang:1.22 AS build\n", []int{1}, nil},
		{"platform flag", "FROM --platform=$BUILDPLATFORM ubuntu\n", []int{1}, nil},
		{"tagged", "FROM ruby:2\n", nil, nil},
		{"digest", "FROM ruby@sha256:f1dbca0f5dbc9f1dbca0f5dbc9f1dbca0f5dbc9f1dbca0f5dbc9f1dbca0f5dbc9a\n", nil, nil},
		{"registry with port and tag", "FROM localhost:5000/app:1.0\n", nil, nil},
		{"variable", "ARG VALUE=debian:12\nFROM ${VALUE}\n", nil, nil},
		{"variable in the name", "ARG IMG=app:1\nFROM registry.example.com/$IMG\n", nil, nil},
		{"earlier stages", "FROM golang:1.22 AS build\nRUN foo\nFROM build as unit-test\nRUN bar\nFROM alpine:3.19\n", nil, nil},
		{"stage name in other case", "FROM golang:1.22 AS Build\nFROM build\n", nil, nil},
		{"scratch", "FROM scratch\n", nil, nil},
	})
}

func TestDL3007(t *testing.T) {
	runRuleCases(t, "DL3007", []ruleCase{
		{"latest", "FROM debian:latest\n", []int{1}, nil},
		{"latest with name", "FROM debian:latest AS builder\n", []int{1}, nil},
		{"latest with registry", "FROM ghcr.io/org/tool:latest\n", []int{1}, nil},
		{"second stage", "FROM golang:1.22 AS build\nFROM alpine:latest\n", []int{2}, nil},
		{"latest after a variable name", "ARG IMG=node\nFROM ${IMG}:latest\n", []int{2}, nil},
		{"registry port", "FROM localhost:5000/app:latest\n", []int{1}, nil},
		{"tagged", "FROM debian:jessie\n", nil, nil},
		{"tagged with name", "FROM debian:jessie AS builder\n", nil, nil},
		{"digest", "FROM hub.docker.io/debian@sha256:7959ed6f7e35f8b1aaa06d1d8259d4ee25aa85a086d5c125480c333183f9deeb\n", nil, nil},
		{"latest pinned by digest", "FROM debian:latest@sha256:7959ed6f7e35f8b1aaa06d1d8259d4ee25aa85a086d5c125480c333183f9deeb\n", nil, nil},
		{"untagged is DL3006's", "FROM debian\n", nil, nil},
		{"tag containing latest", "FROM app:latest-2024\n", nil, nil},
		{"registry port only", "FROM localhost:5000/latest\n", nil, nil},
	})
}

func TestDL3008(t *testing.T) {
	runRuleCases(t, "DL3008", []ruleCase{
		{"unpinned", "FROM debian:12\nRUN apt-get update && apt-get install python\n", []int{2}, nil},
		{"one of many unpinned", "FROM debian:12\nRUN apt-get install -y curl=7.88.1 git \\\n    wget=1.21\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN apt-get update && apt-get install python\n", []int{2}, nil},
		{"heredoc", "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n", []int{2}, nil},
		{"exec form", "FROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n", []int{2}, nil},
		{"exec form through sh -c", "FROM debian:12\nRUN [\"/bin/sh\", \"-c\", \"apt-get install -y curl\"]\n", []int{2}, nil},
		{"behind sudo and env", "FROM debian:12\nRUN sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y curl\n", []int{2}, nil},
		{"each run", "FROM debian:12\nRUN apt-get install -y a\nRUN apt-get install -y b=1\nRUN apt-get install -y c\n", []int{2, 4}, nil},
		{"option with value", "FROM debian:12\nRUN apt-get -o Dpkg::Options::=--force-confnew install -y tzdata\n", []int{2}, nil},
		{"pinned chained", "FROM debian:12\nRUN apt-get update \\\n && apt-get -yqq --no-install-recommends install nodejs=0.10 \\\n && rm -rf /var/lib/apt/lists/*\n", nil, nil},
		{"pinned with globs", "FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends -y \\\npython-demjson=2.2.2* \\\nwget=1.16.1* \\\ngit=1:2.5.0* \\\nruby=1:2.1.*\n", nil, nil},
		{"local deb", "FROM debian:12\nRUN apt-get install ./wkhtmltox_0.12.5-1.bionic_amd64.deb\n", nil, nil},
		{"release suffix", "FROM debian:12\nRUN apt-get install -y curl/bookworm-backports\n", nil, nil},
		{"target release", "FROM debian:12\nRUN set -e &&\\\n echo \"deb http://deb.debian.org/debian bookworm-backports main\" > /etc/apt/sources.list.d/b.list &&\\\n apt-get update &&\\\n apt-get install -y --no-install-recommends -t bookworm-backports openjdk-17-jdk=17.0.9 &&\\\n rm -rf /var/lib/apt/lists/*\n", nil, nil},
		{"target release long", "FROM debian:12\nRUN apt-get install -y --target-release bookworm-backports git=1:2.43\n", nil, nil},
		{"variable list", "FROM debian:12\nRUN apt-get install -y $PACKAGES\n", nil, nil},
		{"other subcommands", "FROM debian:12\nRUN apt-get update && apt-get upgrade -y && apt-get remove -y curl\n", nil, nil},
		{"heredoc as data", "FROM debian:12\nRUN cat > /setup.sh <<EOF\napt-get install -y curl\nEOF\n", nil, nil},
		{"pinned onbuild", "FROM debian:12\nONBUILD RUN apt-get install -y python=3.11\n", nil, nil},
		{"powershell pragma", "# hadolint shell=pwsh\nFROM debian:12\nRUN apt-get install -y curl\n", nil, nil},
		{"posix pragma", "# hadolint shell=bash\nFROM debian:12\nRUN apt-get install -y curl\n", []int{3}, nil},
		{"powershell pragma leaves exec form", "# hadolint shell=powershell\nFROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n", []int{3}, nil},
	})
}

func TestDL3009(t *testing.T) {
	runRuleCases(t, "DL3009", []ruleCase{
		{"no cleanup", "FROM debian:12\nRUN apt-get update && apt-get install -y python=3.11\n", []int{2}, nil},
		{"no cleanup in last stage", "FROM ubuntu:22.04 AS foo\nRUN hey\nFROM scratch\nRUN apt-get update && apt-get install python\n", []int{4}, nil},
		{"intermediate stage used as base", "FROM ubuntu:22.04 AS foo\nRUN apt-get update && apt-get install python\nFROM foo\nRUN hey\n", []int{2}, nil},
		{"used as base with other case", "FROM ubuntu:22.04 AS Foo\nRUN apt-get update\nFROM foo\n", []int{2}, nil},
		{"onbuild in an intermediate stage", "FROM ubuntu:22.04 AS foo\nONBUILD RUN apt-get update && apt-get install python\nFROM scratch\nRUN hey\n", []int{2}, nil},
		{"cache mount on the cache only", "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python\n", []int{2}, nil},
		{"cache mount on /var/lib/apt only", "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/lib/apt \\\n    apt-get update && apt-get install python\n", []int{3}, nil},
		{"other rm", "FROM debian:12\nRUN apt-get update && apt-get install -y x=1 && rm -rf /tmp/*\n", []int{2}, nil},
		{"heredoc", "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl=7\nEOF\n", []int{2}, nil},
		{"apt update", "FROM debian:12\nRUN apt update && apt install -y curl=7\n", []int{2}, nil},
		{"cleanup", "FROM debian:12\nRUN apt-get update && apt-get install python && rm -rf /var/lib/apt/lists/*\n", nil, nil},
		{"cleanup on later line", "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y python=3 \\\n && apt-get clean \\\n && rm -rf /var/lib/apt/lists/* /var/cache/apt/*\n", nil, nil},
		{"intermediate stage not used later", "FROM ubuntu:22.04 AS foo\nRUN apt-get update && apt-get install python\nFROM scratch\nRUN hey\n", nil, nil},
		{"builder copied from", "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc=4\nFROM debian:12\nCOPY --from=build /out /out\n", nil, nil},
		{"cache mount on the lists", "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists \\\n    apt-get update && apt-get install python\n", nil, nil},
		{"cache mounts on both apt dirs", "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt \\\n    --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python\n", nil, nil},
		{"no update", "FROM debian:12\nRUN apt-get install -y ./local.deb\n", nil, nil},
		{"onbuild with cleanup", "FROM debian:12\nONBUILD RUN apt-get update && apt-get install -y x=1 && rm -rf /var/lib/apt/lists/*\n", nil, nil},
		{"powershell pragma", "# hadolint shell=powershell\nFROM debian:12\nRUN apt-get update\n", nil, nil},
	})
}

func TestDL3010(t *testing.T) {
	runRuleCases(t, "DL3010", []ruleCase{
		{"copy then extract", "FROM debian:12\nCOPY packaged-app.tar /usr/src/app\nRUN tar -xf /usr/src/app/packaged-app.tar\n", []int{2}, nil},
		{"extract later in a chain", "FROM debian:12\nCOPY packaged-app.tar /usr/src/app\nWORKDIR /usr/src/app\nRUN foo bar && echo something && tar -xf packaged-app.tar\n", []int{2}, nil},
		{"renamed by the destination", "FROM debian:12\nCOPY foo/bar/packaged-app.tar /foo.tar\nRUN tar -xf /foo.tar\n", []int{2}, nil},
		{"windows paths", "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY build\\foo\\bar.tar.gz C:\\app\\\nRUN tar -xf \"C:\\app\\bar.tar.gz\"\n", []int{3}, nil},
		{"windows destination archive", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY build\\foo\\bar.tar.gz C:\\app\\foo.tar.gz\nRUN tar -xf foo.tar.gz\n", []int{2}, nil},
		{"gunzip", "FROM debian:12\nCOPY data.gz /tmp/\nRUN gunzip /tmp/data.gz\n", []int{2}, nil},
		{"long option and multi-line", "FROM debian:12\nCOPY rootfs.tar.xz /tmp/\nRUN mkdir /x \\\n && tar --extract --file /tmp/rootfs.tar.xz -C /x\n", []int{2}, nil},
		{"old-style options", "FROM debian:12\nCOPY app.tgz /tmp/\nRUN tar xzf /tmp/app.tgz\n", []int{2}, nil},
		{"several sources", "FROM debian:12\nCOPY a.tar b.txt /tmp/\nRUN tar -xf /tmp/a.tar\n", []int{2}, nil},
		{"no extraction", "FROM debian:12\nCOPY packaged-app.tar /usr/src/app\nFROM debian:11 as newstage\n", nil, nil},
		{"extracted in another stage", "FROM debian:12\nCOPY app.tar /x/\nFROM debian:12\nRUN tar -xf /x/app.tar\n", nil, nil},
		{"not an archive", "FROM debian:12\nCOPY package.json /usr/src/app\nRUN tar -xf package.json\n", nil, nil},
		{"copy from a stage", "FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b /usr/local/share/some.tar /opt/some.tar\nRUN tar -xf /opt/some.tar\n", nil, nil},
		{"creating a tar", "FROM debian:12\nCOPY old.tar /x/\nRUN tar -cf /x/old.tar /etc\n", nil, nil},
		{"other archive extracted", "FROM debian:12\nCOPY a.tar /x/\nRUN tar -xf /x/b.tar\n", nil, nil},
		{"zip is not unpacked by ADD", "FROM debian:12\nCOPY a.zip /x/\nRUN unzip /x/a.zip\n", nil, nil},
	})
}

func TestDL3011(t *testing.T) {
	runRuleCases(t, "DL3011", []ruleCase{
		{"too large", "FROM debian:12\nEXPOSE 80000\n", []int{2}, nil},
		{"with protocol", "FROM debian:12\nEXPOSE 65536/udp\n", []int{2}, nil},
		{"range end", "FROM debian:12\nEXPOSE 60000-70000\n", []int{2}, nil},
		{"one of several", "FROM debian:12\nEXPOSE 80 443 99999/tcp\n", []int{2}, nil},
		{"huge", "FROM debian:12\nEXPOSE 123456789012345678901234567890\n", []int{2}, nil},
		{"each instruction", "FROM debian:12\nEXPOSE 70000\nEXPOSE 8080\nEXPOSE 65540\n", []int{2, 4}, nil},
		{"valid", "FROM debian:12\nEXPOSE 60000\n", nil, nil},
		{"edges", "FROM debian:12\nEXPOSE 0 65535/tcp\n", nil, nil},
		{"range", "FROM debian:12\nEXPOSE 8000-9000/udp\n", nil, nil},
		{"variable", "FROM debian:12\nARG PORT=8080\nEXPOSE ${PORT} $PORT/tcp\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nONBUILD EXPOSE 99999\n", nil, nil},
	})
}

func TestDL3012(t *testing.T) {
	runRuleCases(t, "DL3012", []ruleCase{
		{"two", "FROM scratch\nHEALTHCHECK CMD /bin/bla1\nHEALTHCHECK CMD /bin/bla2\n", []int{3}, nil},
		{"three", "FROM scratch\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\nHEALTHCHECK NONE\n", []int{3, 4}, nil},
		{"none then cmd", "FROM debian:12\nHEALTHCHECK NONE\nHEALTHCHECK CMD curl -f http://localhost/\n", []int{3}, nil},
		{"in the second stage", "FROM debian:12\nHEALTHCHECK CMD a\nFROM debian:12\nHEALTHCHECK CMD b\nRUN x\nHEALTHCHECK CMD c\n", []int{6}, nil},
		{"with options", "FROM debian:12\nHEALTHCHECK --interval=5s CMD a\nhealthcheck --retries=3 \\\n  CMD b\n", []int{3}, nil},
		{"none", "FROM scratch\n", nil, nil},
		{"one", "FROM scratch\nHEALTHCHECK CMD /bin/bla\n", nil, nil},
		{"one per stage", "FROM scratch\nHEALTHCHECK CMD /bin/bla1\nFROM scratch\nHEALTHCHECK CMD /bin/bla2\n", nil, nil},
		{"onbuild", "FROM debian:12\nHEALTHCHECK CMD a\nONBUILD HEALTHCHECK CMD b\n", nil, nil},
		{"only none", "FROM debian:12\nHEALTHCHECK NONE\n", nil, nil},
	})
}

func TestDL3013(t *testing.T) {
	runRuleCases(t, "DL3013", []ruleCase{
		{name: "install as the argument of another subcommand", dockerfile: "FROM python:3.12\nRUN pip show install requests\n"},
		{"pip", "FROM python:3.12\nRUN pip install MySQL_python\n", []int{2}, nil},
		{"pip2", "FROM python:3.12\nRUN pip2 install MySQL_python\n", []int{2}, nil},
		{"pip3", "FROM python:3.12\nRUN pip3 install MySQL_python\n", []int{2}, nil},
		{"python -m pip", "FROM python:3.12\nRUN python -m pip install example\n", []int{2}, nil},
		{"python -m pip with index", "FROM python:3.12\nONBUILD RUN python3 -m pip install --index-url url example\n", []int{2}, nil},
		{"unversioned git", "FROM python:3.12\nRUN pip install git+https://github.com/rtfd/read-ext.git#egg=read-ext\n", []int{2}, nil},
		{"upgrade pip", "FROM python:3.12\nRUN pip install --upgrade pip && pip install -r requirements.txt\n", []int{2}, nil},
		{"index-url=value", "FROM python:3.12\nRUN pip install --index-url=https://eg.com/foo foobar\n", []int{2}, nil},
		{"multi-line", "FROM python:3.12\nRUN pip install --no-cache-dir \\\n    flask==3.0.0 \\\n    gunicorn\n", []int{2}, nil},
		{"heredoc", "FROM python:3.12\nRUN <<EOF\npip install requests\nEOF\n", []int{2}, nil},
		{"exec form", "FROM python:3.12\nRUN [\"pip\", \"install\", \"requests\"]\n", []int{2}, nil},
		{"pinned", "FROM python:3.12\nRUN pip install MySQL_python==1.2.2\n", nil, nil},
		{"operators", "FROM python:3.12\nRUN pip install 'alabaster>=0.7' 'b<0.7' 'c!=0.7' d~=1.2 e===1.0\n", nil, nil},
		{"local packages", "FROM python:3.12\nRUN pip3 install mypkg.whl mypkg.tar.gz ./src\n", nil, nil},
		{"requirements", "FROM python:3.12\nRUN pip install -r requirements.txt\nRUN pip install --requirement requirements.txt\n", nil, nil},
		{"setup.py", "FROM python:3.12\nRUN pip install .\n", nil, nil},
		{"flags with values", "FROM python:3.12\nRUN pip3 install --build /opt/y --prefix /opt/y --root /r --target /t --trusted-host host yamllint==1.20.0\n", nil, nil},
		{"index urls", "FROM python:3.12\nRUN pip install --index-url https://user:pass@eg.com/foo --extra-index-url https://ex-eg.io/foo foobar==1.0.0\n", nil, nil},
		{"constraints", "FROM python:3.12\nRUN pip install pykafka --constraint http://foo.bar.baz\nRUN pip install pykafka -c http://foo.bar.baz\n", nil, nil},
		{"versioned git", "FROM python:3.12\nRUN pip install git+https://github.com/rtfd/r-ext.git@0.6-alpha#egg=r-ext\n", nil, nil},
		{"flags after the package", "FROM python:3.12\nRUN pip install MySQL_python==1.2.2 --user --no-cache-dir --disable-pip-version-check\n", nil, nil},
		{"not install", "FROM python:3.12\nRUN pip download requests && pip freeze\n", nil, nil},
		{"pipx and pipenv", "FROM python:3.12\nRUN pipx install black && pipenv install requests\n", nil, nil},
		{"pip3.12", "FROM python:3.12\nRUN pip3.12 install requests\n", []int{2}, nil},
	})
}

func TestDL3014(t *testing.T) {
	runRuleCases(t, "DL3014", []ruleCase{
		{"no yes", "FROM debian:12\nRUN apt-get install python\n", []int{2}, nil},
		{"single quiet", "FROM debian:12\nRUN apt-get -q install python=3\n", []int{2}, nil},
		{"second command", "FROM debian:12\nRUN apt-get install -y a=1 && apt-get install b=2\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN apt-get install python\n", []int{2}, nil},
		{"multi-line", "FROM debian:12\nRUN apt-get update \\\n && apt-get install \\\n      --no-install-recommends curl=7\n", []int{2}, nil},
		{"exec form", "FROM debian:12\nRUN [\"apt-get\", \"install\", \"curl=7\"]\n", []int{2}, nil},
		{"short group", "FROM debian:12\nRUN apt-get install -yq python\n", nil, nil},
		{"quiet level 2", "FROM debian:12\nRUN apt-get install -qq python\nRUN apt-get -q -q install x\n", nil, nil},
		{"different position", "FROM debian:12\nRUN apt-get -y install python\n", nil, nil},
		{"long yes", "FROM debian:12\nRUN apt-get --yes install python\nRUN apt-get --assume-yes install python\n", nil, nil},
		{"option", "FROM debian:12\nRUN apt-get -o APT::Get::Assume-Yes=true install python\n", nil, nil},
		{"not install", "FROM debian:12\nRUN apt-get update && apt-get clean\n", nil, nil},
	})
}

func TestDL3015(t *testing.T) {
	runRuleCases(t, "DL3015", []ruleCase{
		{"missing", "FROM debian:12\nRUN apt-get install python\n", []int{2}, nil},
		{"with -y", "FROM debian:12\nRUN apt-get -y install python\n", []int{2}, nil},
		{"onbuild", "FROM debian:12\nONBUILD RUN apt-get install -y python\n", []int{2}, nil},
		{"one of two", "FROM debian:12\nRUN apt-get install -y --no-install-recommends a && apt-get install -y b\n", []int{2}, nil},
		{"heredoc", "FROM debian:12\nRUN <<EOF\napt-get install -y b\nEOF\n", []int{2}, nil},
		{"exec form", "FROM debian:12\nRUN [\"apt-get\", \"install\", \"-y\", \"b\"]\n", []int{2}, nil},
		{"given", "FROM debian:12\nRUN apt-get install --no-install-recommends python\n", nil, nil},
		{"option", "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install python\n", nil, nil},
		{"multi-line", "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y \\\n    --no-install-recommends \\\n    curl\n", nil, nil},
		{"not install", "FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n", nil, nil},
		{"apt-cache", "FROM debian:12\nRUN apt-cache policy install\n", nil, nil},
	})
}

func TestDL3016(t *testing.T) {
	runRuleCases(t, "DL3016", []ruleCase{
		{"unpinned", "FROM node:20\nRUN npm install express\n", []int{2}, nil},
		{"scope", "FROM node:20\nRUN npm install @myorg/privatepackage\n", []int{2}, nil},
		{"one of several", "FROM node:20\nRUN npm install express sax@0.1.1\n", []int{2}, nil},
		{"global", "FROM node:20\nRUN npm install --global express\n", []int{2}, nil},
		{"git without commit", "FROM node:20\nRUN npm install git+ssh://git@github.com:npm/npm.git\nRUN npm install git+https://isaacs@github.com/npm/npm.git\nRUN npm install git://github.com/npm/npm.git\n", []int{2, 3, 4}, nil},
		{"registry flag", "FROM node:20\nRUN npm install --registry https://example.com express\n", []int{2}, nil},
		{"registry=value", "FROM node:20\nRUN npm install --registry=https://example.com express\n", []int{2}, nil},
		{"npm i", "FROM node:20\nONBUILD RUN npm i -g typescript\n", []int{2}, nil},
		{"heredoc", "FROM node:20\nRUN <<EOF\nnpm install -g pnpm\nEOF\n", []int{2}, nil},
		{"package.json", "FROM node:20\nRUN npm install\nRUN npm install --progress=false\n", nil, nil},
		{"pinned", "FROM node:20\nRUN npm install express@4.1.1 sax@\"0.1.1\"\n", nil, nil},
		{"pinned scope", "FROM node:20\nRUN npm install @myorg/privatepackage@\">=0.1.0 <0.2.0\"\n", nil, nil},
		{"global pinned", "FROM node:20\nRUN npm install -g express@\"4.1.1\"\n", nil, nil},
		{"tarballs and folders", "FROM node:20\nRUN npm install package-v1.2.3.tar package-v1.2.3.tgz package.tar.gz /folder ./folder ../folder ~/folder\n", nil, nil},
		{"git with commit", "FROM node:20\nRUN npm install git+ssh://git@github.com:npm/npm.git#v1.0.27 git+http://isaacs@github.com/npm/npm#semver:^5.0\n", nil, nil},
		{"npm run install", "FROM node:20\nRUN npm run --crazy install\n", nil, nil},
		{"loglevel", "FROM node:20\nRUN npm install --loglevel verbose sax@0.1.1\n", nil, nil},
		{"npm ci", "FROM node:20\nRUN npm ci --omit=dev\n", nil, nil},
	})
}

func TestDL3018(t *testing.T) {
	runRuleCases(t, "DL3018", []ruleCase{
		{"unpinned", "FROM alpine:3.19\nRUN apk add flex\n", []int{2}, nil},
		{"one missed", "FROM alpine:3.19\nRUN apk add --no-cache \\\nflex=2.6.4-r1 \\\nlibffi \\\npython2=2.7.13-r1\n", []int{2}, nil},
		{"onbuild", "FROM alpine:3.19\nONBUILD RUN apk add flex\n", []int{2}, nil},
		{"virtual with unpinned", "FROM alpine:3.19\nRUN apk add --virtual .deps gcc\n", []int{2}, nil},
		{"heredoc", "FROM alpine:3.19\nRUN <<EOF\napk add --no-cache curl\nEOF\n", []int{2}, nil},
		{"exec form", "FROM alpine:3.19\nRUN [\"apk\", \"add\", \"curl\"]\n", []int{2}, nil},
		{"pinned", "FROM alpine:3.19\nRUN apk add flex=2.6.4-r1\n", nil, nil},
		{"tilde", "FROM alpine:3.19\nRUN apk add --no-cache git~2.52.0\n", nil, nil},
		{"pinned chained", "FROM alpine:3.19\nRUN apk add --no-cache flex=2.6.4-r1 \\\n && pip install -r requirements.txt\n", nil, nil},
		{"virtual", "FROM alpine:3.19\nRUN apk add \\\n--virtual build-dependencies \\\npython-dev=1.1.1 build-base=2.2.2 wget=3.3.3 \\\n&& pip install -r requirements.txt \\\n&& apk del build-dependencies\n", nil, nil},
		{"repository", "FROM alpine:3.19\nRUN apk add --no-cache --repository https://dl-cdn.alpinelinux.org/alpine/edge/testing flow=0.78.0-r0\nRUN apk add --no-cache --repository=https://x/edge flow=0.78.0-r0\nRUN apk add --no-cache -X https://x/edge flow=0.78.0-r0\n", nil, nil},
		{"apk file", "FROM alpine:3.19\nRUN apk add mypackage-1.1.1.apk\n", nil, nil},
		{"not add", "FROM alpine:3.19\nRUN apk update && apk del flex\n", nil, nil},
	})
}

func TestDL3019(t *testing.T) {
	runRuleCases(t, "DL3019", []ruleCase{
		{"missing", "FROM alpine:3.19\nRUN apk add flex=2.6.4-r1\n", []int{2}, nil},
		{"with update", "FROM alpine:3.19\nRUN apk update && apk add -U curl=8 && rm -rf /var/cache/apk/*\n", []int{2}, nil},
		{"cache mount elsewhere", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/foo apk add -U curl=7.77.0\n", []int{2}, nil},
		{"onbuild", "FROM alpine:3.19\nONBUILD RUN apk add flex=2.6.4-r1\n", []int{2}, nil},
		{"multi-line", "FROM alpine:3.19\nRUN apk add \\\n      curl=8\n", []int{2}, nil},
		{"bind mount", "FROM alpine:3.19\nRUN --mount=target=/var/cache/apk apk add curl=8\n", []int{2}, nil},
		{"given", "FROM alpine:3.19\nRUN apk add --no-cache flex=2.6.4-r1\n", nil, nil},
		{"cache mount", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/apk apk add -U curl=7.77.0\n", nil, nil},
		{"cache mount elsewhere and flag", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/foo apk add --no-cache -U curl=7.77.0\n", nil, nil},
		{"onbuild cache mount", "FROM alpine:3.19\nONBUILD RUN --mount=type=cache,target=/var/cache/apk apk add curl=8\n", nil, nil},
		{"not add", "FROM alpine:3.19\nRUN apk del curl\n", nil, nil},
	})
}

func TestDL3020(t *testing.T) {
	runRuleCases(t, "DL3020", []ruleCase{
		{"file", "FROM debian:12\nADD file /usr/src/app/\n", []int{2}, nil},
		{"zip", "FROM debian:12\nADD file.zip /usr/src/app/\n", []int{2}, nil},
		{"zip quoted", "FROM debian:12\nADD \"file.zip\" /usr/src/app/\n", []int{2}, nil},
		{"folder", "FROM debian:12\nADD --chown=app:app src/ /app/src/\n", []int{2}, nil},
		{"json form", "FROM debian:12\nADD [\"conf.json\", \"/etc/app/\"]\n", []int{2}, nil},
		{"one file among archives", "FROM debian:12\nADD a.tar.gz notes.txt /x/\n", []int{2}, nil},
		{"archives", "FROM debian:12\nADD file.tar /a/\nADD file.gz /a/\nADD file.bz2 /a/\nADD file.xz /a/\nADD file.tgz /a/\n", nil, nil},
		{"quoted archive", "FROM debian:12\nADD \"file.tgz\" /usr/src/app/\n", nil, nil},
		{"urls", "FROM debian:12\nADD http://file.com /usr/src/app/\nADD \"https://example.com/x.bin\" /x\n", nil, nil},
		{"git", "FROM debian:12\nADD git@github.com:moby/buildkit.git /src\nADD --keep-git-dir https://github.com/moby/buildkit.git#v0.13.0 /src\n", nil, nil},
		{"copy", "FROM debian:12\nCOPY file /usr/src/app/\n", nil, nil},
		{"variable", "FROM debian:12\nARG SRC\nADD $SRC /x/\n", nil, nil},
	})
}

func TestDL3021(t *testing.T) {
	runRuleCases(t, "DL3021", []ruleCase{
		{"three args", "FROM debian:12\nCOPY foo bar baz\n", []int{2}, nil},
		{"json form", "FROM debian:12\nCOPY [\"a\", \"b\", \"/dest\"]\n", []int{2}, nil},
		{"with flags", "FROM debian:12\nCOPY --chown=app a b /dest\n", []int{2}, nil},
		{"continued", "FROM debian:12\nCOPY package.json \\\n     package-lock.json \\\n     /app\n", []int{2}, nil},
		{"from a stage", "FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b /x /y /z\n", []int{3}, nil},
		{"two args", "FROM debian:12\nCOPY foo bar\n", nil, nil},
		{"three args with slash", "FROM debian:12\nCOPY foo bar baz/\n", nil, nil},
		{"json with slash", "FROM debian:12\nCOPY [\"a\", \"b\", \"/dest/\"]\n", nil, nil},
		{"glob", "FROM debian:12\nCOPY *.json /app\n", nil, nil},
		{"add is not checked", "FROM debian:12\nADD a.tar b.tar /x\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nONBUILD COPY a b c\n", nil, nil},
	})
}

func TestDL3022(t *testing.T) {
	runRuleCases(t, "DL3022", []ruleCase{
		{"missing alias", "COPY --from=foo bar .\n", []int{1}, nil},
		{"alias defined after", "FROM scratch\nCOPY --from=build foo .\nFROM node:20 as build\nRUN baz\n", []int{2}, nil},
		{"typo", "FROM golang:1.22 AS build\nFROM alpine:3.19\nCOPY --from=buld /out/app /app\n", []int{3}, nil},
		{"index without stages", "COPY --from=0 bar .\n", []int{1}, nil},
		{"index of a later stage", "FROM debian:12\nCOPY --from=1 /a /b\nFROM debian:12\n", []int{2}, nil},
		{"untagged image name", "FROM debian:12\nCOPY --from=nginx /etc/nginx /etc/nginx\n", []int{2}, nil},
		{"defined", "FROM scratch as build\nRUN foo\nFROM node:20\nCOPY --from=build foo .\nRUN baz\n", nil, nil},
		{"other case", "FROM scratch AS Build\nFROM node:20\nCOPY --from=build foo .\n", nil, nil},
		{"external image", "FROM debian:12\nCOPY --from=haskell:latest bar .\nCOPY --from=ghcr.io/org/tool /bin/tool /bin/\n", nil, nil},
		{"index", "FROM scratch as build\nRUN foo\nFROM node:20\nCOPY --from=0 foo .\n", nil, nil},
		{"index without name", "FROM scratch\nRUN foo\nFROM node:20\nCOPY --from=0 foo .\n", nil, nil},
		{"own stage is DL3023's", "FROM node:20 AS foo\nCOPY --from=foo bar .\n", nil, nil},
		{"variable", "ARG SRC=build\nFROM debian:12\nCOPY --from=$SRC a b\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nONBUILD COPY --from=later a b\n", nil, nil},
	})
}

func TestDL3023(t *testing.T) {
	runRuleCases(t, "DL3023", []ruleCase{
		{"own alias", "FROM node:20 as foo\nCOPY --from=foo bar .\n", []int{2}, nil},
		{"own alias other case", "FROM node:20 AS Foo\nCOPY --from=foo bar .\n", []int{2}, nil},
		{"own index", "FROM node:20\nCOPY --from=0 bar .\n", []int{2}, nil},
		{"second stage", "FROM node:20 AS a\nFROM node:20 AS b\nRUN x\nCOPY --from=a x y\nCOPY --from=b y z\n", []int{5}, nil},
		{"own index second stage", "FROM node:20 AS a\nFROM node:20\nCOPY --from=1 x y\n", []int{3}, nil},
		{"json form", "FROM node:20 AS foo\nCOPY --from=foo [\"a\", \"b\"]\n", []int{2}, nil},
		{"other stage", "FROM scratch as build\nRUN foo\nFROM node:20 as run\nCOPY --from=build foo .\nRUN baz\n", nil, nil},
		{"earlier index", "FROM scratch\nFROM node:20\nCOPY --from=0 foo .\n", nil, nil},
		{"image", "FROM node:20 AS foo\nCOPY --from=foo:1 a b\n", nil, nil},
		{"no from", "FROM node:20 AS foo\nCOPY a b\n", nil, nil},
		{"unnamed stage", "FROM node:20\nCOPY --from=foo a b\n", nil, nil},
		{"onbuild is not checked", "FROM node:20 AS foo\nONBUILD COPY --from=foo a b\n", nil, nil},
	})
}

func TestDL3024(t *testing.T) {
	runRuleCases(t, "DL3024", []ruleCase{
		{"duplicate", "FROM node:20 as foo\nRUN something\nFROM scratch as foo\nRUN something\n", []int{3}, nil},
		{"other case", "FROM node:20 AS build\nFROM scratch AS BUILD\n", []int{2}, nil},
		{"three times", "FROM a:1 AS x\nFROM b:1 AS x\nFROM c:1 AS x\n", []int{2, 3}, nil},
		{"later duplicate", "FROM a:1 AS x\nFROM b:1 AS y\nFROM c:1 AS x\n", []int{3}, nil},
		{"with platform", "FROM --platform=$BUILDPLATFORM a:1 AS x\nFROM --platform=$BUILDPLATFORM b:1 AS x\n", []int{2}, nil},
		{"unique", "FROM scratch as build\nRUN foo\nFROM node:20 as run\nRUN baz\n", nil, nil},
		{"unnamed", "FROM a:1\nFROM a:1\n", nil, nil},
		{"name and image", "FROM a:1 AS build\nFROM build\n", nil, nil},
		{"similar names", "FROM a:1 AS build\nFROM a:1 AS build2\nFROM a:1 AS build-2\n", nil, nil},
		{"one stage", "FROM a:1 AS only\n", nil, nil},
	})
}

func TestDL3025(t *testing.T) {
	runRuleCases(t, "DL3025", []ruleCase{
		{"entrypoint", "FROM node:20 as foo\nENTRYPOINT something\n", []int{2}, nil},
		{"cmd", "FROM node:20 as foo\nCMD something\n", []int{2}, nil},
		{"both", "FROM node:20\nENTRYPOINT /entry.sh\nCMD node server.js\n", []int{2, 3}, nil},
		{"broken json", "FROM node:20\nCMD [\"node\", 'server.js']\n", []int{2}, nil},
		{"continued", "FROM node:20\nCMD node \\\n  server.js\n", []int{2}, nil},
		{"json entrypoint", "FROM scratch as build\nENTRYPOINT [\"foo\", \"bar\"]\n", nil, nil},
		{"json cmd", "FROM scratch as build\nCMD [\"foo\", \"bar\"]\nCMD [ \"foo\", \"bar\" ]\n", nil, nil},
		{"empty json", "FROM scratch\nCMD []\n", nil, nil},
		{"run is not checked", "FROM debian:12\nRUN echo hi\n", nil, nil},
		{"onbuild is not checked", "FROM debian:12\nONBUILD CMD echo hi\n", nil, nil},
	})
}

func TestDL3026(t *testing.T) {
	trusted := func(regs ...string) *Config {
		cfg := DefaultConfig()
		cfg.TrustedRegistries = regs
		return cfg
	}
	runRuleCases(t, "DL3026", []ruleCase{
		{"untrusted", "FROM random.com/debian\n", []int{1}, trusted("docker.io")},
		{"hub image not trusted", "FROM debian:12\n", []int{1}, trusted("registry.example.com")},
		{"wildcard mismatch", "FROM x.com/debian\n", []int{1}, trusted("*.random.com")},
		{"second stage", "FROM r.example.com/a:1 AS b\nFROM quay.io/org/tool:1\n", []int{2}, trusted("r.example.com")},
		{"registry with port", "FROM localhost:5000/app:1\n", []int{1}, trusted("localhost")},
		{"explicit hub", "FROM docker.io/library/debian:12\n", []int{1}, trusted("quay.io")},
		{"nothing configured", "FROM random.com/debian\n", nil, nil},
		{"trusted", "FROM random.com/debian\n", nil, trusted("x.com", "random.com")},
		{"scratch", "FROM scratch\n", nil, trusted("x.com", "random.com")},
		{"all forms of docker.io", "FROM ubuntu:18.04 AS builder1\nFROM zemanlx/ubuntu:18.04 AS builder2\nFROM docker.io/zemanlx/ubuntu:18.04 AS builder3\n", nil, trusted("docker.io")},
		{"hub.docker.com", "FROM ubuntu:18.04\nFROM index.docker.io/library/debian:12\n", nil, trusted("hub.docker.com")},
		{"previous stages", "FROM random.com/foo AS builder1\nFROM builder1 AS builder2\n", nil, trusted("random.com")},
		{"wildcard", "FROM foo.random.com/debian\n", nil, trusted("x.com", "*.random.com")},
		{"star", "FROM ubuntu:18.04\nFROM quay.io/a/b:1\n", nil, trusted("*")},
		{"port", "FROM localhost:5000/app:1\n", nil, trusted("localhost:5000")},
		{"variable", "ARG IMAGE=debian:12\nFROM ${IMAGE}\nFROM $REGISTRY/app:1\n", nil, trusted("r.example.com")},
	})
}

func TestDL3027(t *testing.T) {
	runRuleCases(t, "DL3027", []ruleCase{
		{"apt install", "FROM ubuntu:22.04\nRUN apt install python\n", []int{2}, nil},
		{"apt update in a chain", "FROM ubuntu:22.04\nRUN apt update && apt-get install -y x=1\n", []int{2}, nil},
		{"onbuild", "FROM ubuntu:22.04\nONBUILD RUN apt install python\n", []int{2}, nil},
		{"behind sudo", "FROM ubuntu:22.04\nRUN sudo apt upgrade -y\n", []int{2}, nil},
		{"heredoc", "FROM ubuntu:22.04\nRUN <<EOF\napt-get update\napt full-upgrade -y\nEOF\n", []int{2}, nil},
		{"exec form", "FROM ubuntu:22.04\nRUN [\"apt\", \"install\", \"-y\", \"curl\"]\n", []int{2}, nil},
		{"apt-get", "FROM ubuntu:22.04\nRUN apt-get install -y python=3\n", nil, nil},
		{"apt-cache", "FROM ubuntu:22.04\nRUN apt-cache show python3\n", nil, nil},
		{"apt as an argument", "FROM ubuntu:22.04\nRUN echo apt install && ls /etc/apt\n", nil, nil},
		{"aptitude", "FROM ubuntu:22.04\nRUN aptitude install -y x\n", nil, nil},
		{"heredoc as data", "FROM ubuntu:22.04\nRUN cat > /x <<EOF\napt install y\nEOF\n", nil, nil},
	})
}

func TestDL3028(t *testing.T) {
	runRuleCases(t, "DL3028", []ruleCase{
		{"i", "FROM ruby:3.3\nRUN gem i bundler\n", []int{2}, nil},
		{"install", "FROM ruby:3.3\nRUN gem install bundler\n", []int{2}, nil},
		{"one of two", "FROM ruby:3.3\nRUN gem i bunlder:1 nokogiri\n", []int{2}, nil},
		{"onbuild", "FROM ruby:3.3\nONBUILD RUN gem install bundler\n", []int{2}, nil},
		{"switch before the gem", "FROM ruby:3.3\nRUN gem install --no-document rails\n", []int{2}, nil},
		{"multi-line", "FROM ruby:3.3\nRUN bundle config set frozen true \\\n && gem install \\\n      rake\n", []int{2}, nil},
		{"pinned", "FROM ruby:3.3\nRUN gem install bundler:1\nRUN gem i bunlder:1 nokogiri:1\n", nil, nil},
		{"-v", "FROM ruby:3.3\nRUN gem install bundler -v '2.0.1'\n", nil, nil},
		{"--version", "FROM ruby:3.3\nRUN gem install bundler --version '2.0.1'\nRUN gem install bundler --version='2.0.1'\n", nil, nil},
		{"build options after --", "FROM ruby:3.3\nRUN gem install bundler:2.0.1 -- --use-system-libraries=true\nRUN gem install bundler:2.0.1 -- --use-system-libraries true\n", nil, nil},
		{"extra options", "FROM ruby:3.3\nRUN gem install bundler:2.0.1 --use-system-libraries true\nRUN gem install bundler:2.0.1 --use-system-libraries=true\n", nil, nil},
		{"local gem", "FROM ruby:3.3\nRUN gem install ./pkg/mygem-1.0.gem\n", nil, nil},
		{"not install", "FROM ruby:3.3\nRUN gem update --system && gem list install\n", nil, nil},
	})
}

func TestDL3029(t *testing.T) {
	runRuleCases(t, "DL3029", []ruleCase{
		{"constant", "FROM --platform=linux debian:jessie\n", []int{1}, nil},
		{"amd64", "FROM --platform=linux/amd64 debian:12 AS build\n", []int{1}, nil},
		{"quoted", "FROM --platform=\"linux/arm64\" debian:12\n", []int{1}, nil},
		{"other variable", "ARG P=linux/amd64\nFROM --platform=$P debian:12\n", []int{2}, nil},
		{"second stage", "FROM debian:12\nfrom --platform=linux/arm/v7 alpine:3.19\n", []int{2}, nil},
		{"none", "FROM debian:jessie\n", nil, nil},
		{"buildplatform", "FROM --platform=$BUILDPLATFORM debian:jessie\nFROM --platform=\"$BUILDPLATFORM\" debian:jessie\n", nil, nil},
		{"braces", "FROM --platform=${BUILDPLATFORM} debian:jessie\nFROM --platform=${BUILDPLATFORM:-} debian:jessie\nFROM --platform=\"${BUILDPLATFORM:-}\" debian:jessie\n", nil, nil},
		{"targetplatform", "FROM --platform=$TARGETPLATFORM debian:jessie\n", nil, nil},
		{"copy platform is not checked", "FROM debian:12\nCOPY --platform=linux/amd64 a b\n", nil, nil},
	})
}

func TestDL3030(t *testing.T) {
	runRuleCases(t, "DL3030", []ruleCase{
		{"no yes", "FROM centos:7\nRUN yum install httpd-2.4.24 && yum clean all\n", []int{2}, nil},
		{"onbuild", "FROM centos:7\nONBUILD RUN yum install httpd-2.4.24 && yum clean all\n", []int{2}, nil},
		{"groupinstall", "FROM centos:7\nRUN yum groupinstall 'Development Tools'\n", []int{2}, nil},
		{"localinstall", "FROM centos:7\nRUN yum localinstall /tmp/x-1.0.rpm\n", []int{2}, nil},
		{"multi-line", "FROM centos:7\nRUN yum makecache \\\n && yum install \\\n    vim-8.0\n", []int{2}, nil},
		{"module install", "FROM centos:7\nRUN yum module install nodejs:18\n", []int{2}, nil},
		{"yes", "FROM centos:7\nRUN yum install -y httpd-2.4.24 && yum clean all\n", nil, nil},
		{"assumeyes", "FROM centos:7\nRUN yum --assumeyes install httpd-2.4.24\n", nil, nil},
		{"grouped", "FROM centos:7\nRUN yum -qy install httpd-2.4.24\n", nil, nil},
		{"not a yum command", "FROM centos:7\nRUN bash -c `# not even a yum command`\n", nil, nil},
		{"not install", "FROM centos:7\nRUN yum clean all && yum makecache\n", nil, nil},
	})
}

func TestDL3032(t *testing.T) {
	runRuleCases(t, "DL3032", []ruleCase{
		{"no clean", "FROM centos:7\nRUN yum install -y mariadb-10.4\n", []int{2}, nil},
		{"onbuild", "FROM centos:7\nONBUILD RUN yum install -y mariadb-10.4\n", []int{2}, nil},
		{"clean in another run", "FROM centos:7\nRUN yum install -y a-1\nRUN yum clean all\n", []int{2}, nil},
		{"other rm", "FROM centos:7\nRUN yum install -y a-1 && rm -rf /tmp/*\n", []int{2}, nil},
		{"heredoc", "FROM centos:7\nRUN <<EOF\nyum install -y a-1\nEOF\n", []int{2}, nil},
		{"module install", "FROM centos:7\nRUN yum -y module install nodejs:18\n", []int{2}, nil},
		{"clean all", "FROM centos:7\nRUN yum install -y mariadb-10.4 && yum clean all\n", nil, nil},
		{"multi-line", "FROM centos:7\nRUN yum install -y \\\n      a-1 \\\n && yum clean all \\\n && rm -rf /var/cache/yum\n", nil, nil},
		{"rm the cache", "FROM centos:7\nRUN yum install -y a-1 && rm -rf /var/cache/yum/*\n", nil, nil},
		{"cache mount", "FROM centos:7\nRUN --mount=type=cache,target=/var/cache/yum yum install -y a-1\n", nil, nil},
		{"not a yum command", "FROM centos:7\nRUN bash -c `# not even a yum command`\n", nil, nil},
		{"no install", "FROM centos:7\nRUN yum makecache\n", nil, nil},
	})
}

func TestDL3033(t *testing.T) {
	runRuleCases(t, "DL3033", []ruleCase{
		{"unpinned", "FROM centos:7\nRUN yum install -y tomcat && yum clean all\n", []int{2}, nil},
		{"onbuild", "FROM centos:7\nONBUILD RUN yum install -y tomcat && yum clean all\n", []int{2}, nil},
		{"module without stream", "FROM centos:7\nRUN yum module install -y tomcat && yum clean all\n", []int{2}, nil},
		{"name with dash but no version", "FROM centos:7\nRUN yum install -y rpm-sign python3-devel\n", []int{2}, nil},
		{"one of several", "FROM centos:7\nRUN yum install -y \\\n      httpd-2.4.57 \\\n      mod_ssl \\\n && yum clean all\n", []int{2}, nil},
		{"repo option with value", "FROM centos:7\nRUN yum install -y --enablerepo epel htop\n", []int{2}, nil},
		{"pinned", "FROM centos:7\nRUN yum install -y tomcat-9.2 && yum clean all\n", nil, nil},
		{"epoch", "FROM centos:7\nRUN yum install -y openssl-1:1.1.1k\n", nil, nil},
		{"names with dashes and plus", "FROM centos:7\nRUN yum install -y rpm-sign-4.16.1.3 gcc-c++-1.1.1\n", nil, nil},
		{"module stream", "FROM centos:7\nRUN yum module install -y tomcat:9 && yum clean all\n", nil, nil},
		{"variables", "FROM centos:7\nRUN yum install -y \"git-core-${GIT_VER}\" \"which-${WHICH_VERSION}\" tomcat-$VERSION && yum clean all\n", nil, nil},
		{"rpm file", "FROM centos:7\nRUN yum install -y /tmp/pkg.rpm https://x/y.rpm\n", nil, nil},
		{"repo option pinned", "FROM centos:7\nRUN yum install -y --enablerepo epel htop-3.2.1\n", nil, nil},
		{"not a yum command", "FROM centos:7\nRUN bash -c `# not even a yum command`\n", nil, nil},
	})
}
