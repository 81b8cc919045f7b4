package lint

import "testing"

func TestDL1001(t *testing.T) {
	on := DefaultConfig()
	on.Override = map[string]Severity{"DL1001": Style}
	off := DefaultConfig()
	runRuleCases(t, "DL1001", []ruleCase{
		{name: "off by default, as in hadolint", dockerfile: "FROM a\n# hadolint ignore=DL3008\nRUN apt-get install -y curl\n", config: off},
		{name: "inline ignore", dockerfile: "FROM a\n# hadolint ignore=DL3008\nRUN apt-get install -y curl\n", config: on, want: []int{2}},
		{name: "each inline ignore", dockerfile: "# hadolint ignore=DL3006\nFROM a\n# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl\n", config: on, want: []int{1, 3}},
		{name: "inline ignore above ONBUILD", dockerfile: "FROM a\n# hadolint ignore=DL3008\nONBUILD RUN apt-get install -y curl\n", config: on, want: []int{2}},
		{name: "inline ignore with nothing below", dockerfile: "FROM a\n# hadolint ignore=DL3008\n", config: on, want: []int{2}},
		{name: "global ignore is not reported", dockerfile: "# hadolint global ignore=DL3008\nFROM a\n", config: on},
		{name: "shell pragma is not reported", dockerfile: "FROM a\n# hadolint shell=powershell\nRUN Get-Process\n", config: on},
		{name: "ordinary comment", dockerfile: "FROM a\n# ignore=DL3008 is how hadolint does it\nRUN true\n", config: on},
		{name: "inside a heredoc", dockerfile: "FROM a\nRUN <<EOF\n# hadolint ignore=DL3008\nEOF\n", config: on},
		{name: "BuildKit check directive", dockerfile: "# check=skip=all\nFROM a\n", config: on},
		{name: "silenced by global ignore", dockerfile: "# hadolint global ignore=DL1001\nFROM a\n# hadolint ignore=DL3008\nRUN true\n", config: on},
	})
}
