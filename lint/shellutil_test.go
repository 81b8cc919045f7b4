package lint

import (
	"slices"
	"strings"
	"testing"
)

// firstCommand parses a one-instruction RUN and returns its first command.
func firstCommand(t *testing.T, script string) Command {
	t.Helper()
	d := Parse("Dockerfile", []byte("FROM a\nRUN "+script+"\n"))
	cmds := shellCommands(d, d.Stages[0].Instructions[0])
	if len(cmds) == 0 {
		t.Fatalf("no command in %q", script)
	}
	return cmds[0]
}

func TestUnwrap(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"apt-get install x", "apt-get install x"},
		{"sudo apt-get install x", "apt-get install x"},
		{"sudo -E -u root apt-get install x", "apt-get install x"},
		{"sudo -- pip install y", "pip install y"},
		{"env DEBIAN_FRONTEND=noninteractive apt-get -y install x", "apt-get -y install x"},
		{"env -i -u HOME A=1 npm i z", "npm i z"},
		{"sudo env A=1 nice -n 10 gem install g", "gem install g"},
		{"exec -a name yum install p", "yum install p"},
		{"command -p apk add q", "apk add q"},
		{"/usr/bin/sudo /usr/bin/apt-get install x", "apt-get install x"},
		{"sudo", "sudo"},
		{"env A=1", "env A=1"},
		{"sudo -l", "sudo -l"},
	} {
		c := firstCommand(t, tc.script).Unwrap()
		got := strings.Join(append([]string{c.Name}, c.Args...), " ")
		if got != tc.want {
			t.Errorf("Unwrap(%q) = %q, want %q", tc.script, got, tc.want)
		}
	}
}

func TestOperands(t *testing.T) {
	valued := []string{"-t", "--target-release", "-o"}
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{"apt-get install -y a b", []string{"install", "a", "b"}},
		{"apt-get install -t bookworm a", []string{"install", "a"}},
		{"apt-get install -tbookworm a", []string{"install", "a"}},
		{"apt-get install -yt bookworm a", []string{"install", "a"}},
		{"apt-get install --target-release bookworm a", []string{"install", "a"}},
		{"apt-get install --target-release=bookworm a", []string{"install", "a"}},
		{"apt-get -o Dpkg::Options::=--force-confold install a", []string{"install", "a"}},
		{"apt-get install -- -weird", []string{"install", "-weird"}},
		{"apt-get install - x", []string{"install", "-", "x"}},
	} {
		got := firstCommand(t, tc.script).Operands(valued...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Operands(%q) = %q, want %q", tc.script, got, tc.want)
		}
	}
}

func TestHasArg(t *testing.T) {
	c := firstCommand(t, "apt-get -y install 'a b' c")
	if !c.HasArg("install") || !c.HasArg("x", "a b") || c.HasArg("-q", "update") {
		t.Errorf("HasArg on %q is wrong", c.Args)
	}
}

func TestShellCommands(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		want             []string // command lines
	}{
		{"shell form", "RUN a x && b y | c; d", []string{"a x", "b y", "c", "d"}},
		{"exec form", `RUN ["apt-get", "install", "z"]`, []string{"apt-get install z"}},
		{"exec form through sh -c", `RUN ["/bin/sh", "-c", "apt-get update && apt-get install z"]`, []string{"apt-get update", "apt-get install z"}},
		{"exec form through bash -ec", `RUN ["bash", "-ec", "pip install q"]`, []string{"pip install q"}},
		{"heredoc script", "RUN <<EOF\napt-get update\napt-get install z\nEOF", []string{"apt-get update", "apt-get install z"}},
		{"heredoc with shell shebang", "RUN <<EOF\n#!/usr/bin/env bash\nnpm i x\nEOF", []string{"npm i x"}},
		{"heredoc with python shebang", "RUN <<EOF\n#!/usr/bin/env python3\nimport os\nEOF", nil},
		{"heredoc as data", "RUN cat > /etc/x <<EOF\napt-get install z\nEOF", []string{"cat"}},
		{"heredoc to an interpreter", "RUN python3 <<EOF && pip install q\nprint(1)\nEOF", []string{"python3", "pip install q"}},
		{"two heredocs", "RUN cat <<A > a && cat <<B > b\nx y\nA\nz\nB", []string{"cat", "cat"}},
		{"onbuild", "ONBUILD RUN gem i g", []string{"gem i g"}},
		{"not a run", "CMD echo hi", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Parse("Dockerfile", []byte("FROM a\n"+tc.dockerfile+"\n"))
			var got []string
			for _, c := range shellCommands(d, d.Stages[0].Instructions[0]) {
				got = append(got, strings.Join(append([]string{c.Name}, c.Args...), " "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("shellCommands(%q) = %q, want %q", tc.dockerfile, got, tc.want)
			}
		})
	}
}

func TestCacheMounts(t *testing.T) {
	for _, tc := range []struct {
		dockerfile string
		want       []string
	}{
		{"RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,dst=/root/.npm x", []string{"/var/cache/apt", "/root/.npm"}},
		{"RUN --mount=target=/src x", nil},
		{"RUN --mount=type=secret,id=a,target=/s x", nil},
		{"ONBUILD RUN --mount=type=cache,id=apk,target=/var/cache/apk apk add x", []string{"/var/cache/apk"}},
		{"COPY a b", nil},
	} {
		d := Parse("Dockerfile", []byte("FROM a\n"+tc.dockerfile+"\n"))
		if got := cacheMounts(d.Stages[0].Instructions[0]); !slices.Equal(got, tc.want) {
			t.Errorf("cacheMounts(%q) = %q, want %q", tc.dockerfile, got, tc.want)
		}
	}
}
