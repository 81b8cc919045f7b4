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
