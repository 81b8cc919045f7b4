package solver

import (
	"io/fs"
	"testing"
)

func TestDiffInputs(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	base := func(digest string) input {
		return input{Kind: "base", Name: "busybox:latest", Value: "key-" + digest, Note: digest}
	}
	step := func(key string) input { return input{Kind: "step", Name: "[build 2/4] COPY a /a", Value: key} }
	instr := func(text string) input { return input{Kind: "instruction", Value: text, Note: "3"} }
	arg := func(name, v string) input { return input{Kind: "arg", Name: name, Value: v} }
	env := func(name, v string) input { return input{Kind: "env", Name: name, Value: v} }
	file := func(name, digest string, mode fs.FileMode) input {
		return input{Kind: "file", Type: "f", Name: name, Value: digest, Mode: mode}
	}
	setting := func(name, v string) input { return input{Kind: "setting", Name: name, Value: v} }
	common := []input{instr("RUN make"), arg("V", "1"), env("PATH", "/bin"), file("src/a.c", d1, 0o644), setting("user", ""), step("k1")}
	with := func(changes ...input) []input {
		out := append([]input(nil), common...)
		for _, c := range changes {
			replaced := false
			for i := range out {
				if matchKey(out[i]) == matchKey(c) {
					out[i], replaced = c, true
				}
			}
			if !replaced {
				out = append(out, c)
			}
		}
		return out
	}
	without := func(kind, name string) []input {
		var out []input
		for _, c := range common {
			if c.Kind != kind || c.Name != name {
				out = append(out, c)
			}
		}
		return out
	}

	cases := []struct {
		name     string
		old, cur []input
		want     CacheMiss // Text and Kind, Name, Old, New
	}{
		{"same", common, common, CacheMiss{}},
		{"line moved only", common, with(input{Kind: "instruction", Value: "RUN make", Note: "9"}), CacheMiss{}},
		{"earlier step", common, with(step("k2")), CacheMiss{Kind: "step", Name: "[build 2/4] COPY a /a",
			Text: "earlier step [build 2/4] COPY a /a changed"}},
		{"setting before step", common, with(setting("user", "app"), step("k2")), CacheMiss{Kind: "setting", Name: "user", New: "app",
			Text: `user changed ("" → "app")`}},
		{"file before setting", common, with(file("src/a.c", d2, 0o644), setting("user", "app")), CacheMiss{Kind: "file", Name: "src/a.c", Old: d1, New: d2,
			Text: "file src/a.c changed (" + d1 + " → " + d2 + ")"}},
		{"mode", common, with(file("src/a.c", d1, 0o755)), CacheMiss{Kind: "mode", Name: "src/a.c", Old: "0644", New: "0755",
			Text: "file src/a.c mode changed (0644 → 0755)"}},
		{"content and mode: content", common, with(file("src/a.c", d2, 0o755)), CacheMiss{Kind: "file", Name: "src/a.c", Old: d1, New: d2,
			Text: "file src/a.c changed (" + d1 + " → " + d2 + ")"}},
		{"setuid", common, with(file("src/a.c", d1, 0o755|fs.ModeSetuid)), CacheMiss{Kind: "mode", Name: "src/a.c", Old: "0644", New: "4755",
			Text: "file src/a.c mode changed (0644 → 4755)"}},
		{"file added", common, with(file("src/b.c", d2, 0o644)), CacheMiss{Kind: "file", Name: "src/b.c", New: d2, Text: "file src/b.c added"}},
		{"file removed", common, without("file", "src/a.c"), CacheMiss{Kind: "file", Name: "src/a.c", Old: d1, Text: "file src/a.c removed"}},
		{"env before file", common, with(env("PATH", "/usr/bin"), file("src/a.c", d2, 0o644)), CacheMiss{Kind: "env", Name: "PATH", Old: "/bin", New: "/usr/bin",
			Text: `env PATH changed ("/bin" → "/usr/bin")`}},
		{"arg before env", common, with(env("PATH", "/usr/bin"), arg("V", "2")), CacheMiss{Kind: "arg", Name: "V", Old: "1", New: "2",
			Text: `build arg V changed ("1" → "2")`}},
		{"arg set now", with(input{Kind: "arg", Name: "W", Unset: true}), with(arg("W", "x")), CacheMiss{Kind: "arg", Name: "W", New: "x",
			Text: `build arg W changed (unset → "x")`}},
		{"arg that became env", common, with(env("V", "2")), CacheMiss{Kind: "env", Name: "V", Old: "1", New: "2",
			Text: `env V changed ("1" → "2")`}},
		{"secret value hidden", with(input{Kind: "arg", Name: "API_TOKEN", Value: d1, Hidden: true}), with(input{Kind: "arg", Name: "API_TOKEN", Value: d2, Hidden: true}),
			CacheMiss{Kind: "arg", Name: "API_TOKEN", Text: "build arg API_TOKEN changed (value hidden)"}},
		{"instruction before arg", common, with(instr("RUN make all"), arg("V", "2")), CacheMiss{Kind: "instruction", Old: "RUN make", New: "RUN make all",
			Text: `instruction changed: "RUN make" → "RUN make all" (line 3)`}},
		{"base before instruction", with(base(d1)), with(base(d2), instr("RUN make all")), CacheMiss{Kind: "base", Name: "busybox:latest", Old: d1, New: d2,
			Text: "base image busybox:latest changed (" + d1 + " → " + d2 + ")"}},
		{"base instead of step", common, append(without("step", "[build 2/4] COPY a /a"), base(d1)), CacheMiss{Kind: "base", Name: "busybox:latest", New: d1,
			Text: "the stage now starts from busybox:latest"}},
		{"step instead of base", with(base(d1)), common, CacheMiss{Kind: "step", Name: "[build 2/4] COPY a /a",
			Text: "earlier step [build 2/4] COPY a /a changed"}},
		{"symlink", []input{{Kind: "file", Type: "l", Name: "ln", Value: "a"}}, []input{{Kind: "file", Type: "l", Name: "ln", Value: "b"}},
			CacheMiss{Kind: "file", Name: "ln", Old: "a", New: "b", Text: `symlink ln changed ("a" → "b")`}},
		{"directory mode", []input{{Kind: "file", Type: "d", Name: "src", Mode: 0o755}}, []input{{Kind: "file", Type: "d", Name: "src", Mode: 0o700}},
			CacheMiss{Kind: "mode", Name: "src", Old: "0755", New: "0700", Text: "directory src mode changed (0755 → 0700)"}},
		{"from", []input{{Kind: "from", Name: "--from=build", Value: "k1"}}, []input{{Kind: "from", Name: "--from=build", Value: "k2", Note: "[build 3/3] RUN make"}},
			CacheMiss{Kind: "from", Name: "--from=build", Text: "the source of --from=build changed ([build 3/3] RUN make)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diffInputs(c.old, c.cur)
			if c.want.Text == "" {
				if got != nil {
					t.Fatalf("diffInputs = %+v, want no difference", *got)
				}
				return
			}
			if got == nil {
				t.Fatalf("diffInputs = nil, want %+v", c.want)
			}
			if *got != c.want {
				t.Errorf("diffInputs =\n %+v\nwant\n %+v", *got, c.want)
			}
		})
	}
}

func TestParseTreeLine(t *testing.T) {
	const d = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	cases := []struct {
		rel, line string
		want      input
	}{
		{"a.txt", "f 644 " + d, input{Kind: "file", Type: "f", Name: "a.txt", Mode: 0o644, Value: d}},
		{"src", "d . 20000000755", input{Kind: "file", Type: "d", Name: "src", Mode: fs.ModeDir | 0o755}},
		{"src", `d "sub dir" 20000000700`, input{Kind: "file", Type: "d", Name: "src/sub dir", Mode: fs.ModeDir | 0o700}},
		{"src", `f "sub dir/\"q\".c" 755 ` + d, input{Kind: "file", Type: "f", Name: `src/sub dir/"q".c`, Mode: 0o755, Value: d}},
		{".", `l "ln" "../x"`, input{Kind: "file", Type: "l", Name: "ln", Value: "../x"}},
	}
	for _, c := range cases {
		got, ok := parseTreeLine(c.rel, c.line)
		if !ok || got != c.want {
			t.Errorf("parseTreeLine(%q, %q) = %+v, %v, want %+v", c.rel, c.line, got, ok, c.want)
		}
	}
	if _, ok := parseTreeLine("x", "garbage"); ok {
		t.Errorf("parseTreeLine(garbage) succeeded")
	}
}

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{"API_TOKEN": true, "DB_PASSWORD": true, "aws_secret": true, "SSH_KEY": true, "VERSION": false, "PATH": false, "GOOS": false} {
		if got := looksSecret(name); got != want {
			t.Errorf("looksSecret(%q) = %v, want %v", name, got, want)
		}
	}
}
