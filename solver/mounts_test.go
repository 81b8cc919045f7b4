package solver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/stratabuild/strata/frontend"
)

// parseRun parses one RUN line and expands its flags as dispatch does.
func parseRun(t *testing.T, line string) *instructions.RunCommand {
	t.Helper()
	df, err := frontend.Parse("Dockerfile", []byte("FROM scratch\n"+line+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := df.Stages[0].Commands[0].(*instructions.RunCommand)
	if err := c.Expand(func(w string) (string, error) { return w, nil }); err != nil {
		t.Fatalf("expanding %s: %v", line, err)
	}
	return c
}

func TestRunMounts(t *testing.T) {
	tests := []struct {
		flags   string
		target  string // of the only mount
		id, env string
		errText string
	}{
		{flags: "--mount=type=cache,target=/root/.cache", target: "/root/.cache", id: `"/root/.cache" `},
		{flags: "--mount=type=cache,target=rel,id=x", target: "/work/rel", id: `"x" `},
		{flags: "--mount=type=cache,target=/c,uid=1000,mode=0700", target: "/c", id: `"/c" "dir" "700:1000:-" `},
		{flags: "--mount=type=tmpfs,target=/t,size=1m", target: "/t"},
		{flags: "--mount=type=tmpfs,target=/", errText: `invalid mount target "/"`},
		{flags: "--mount=type=tmpfs,target=/work/..", errText: `invalid mount target "/"`},
		{flags: "--mount=type=secret,id=tok", target: "/run/secrets/tok", id: "tok"},
		{flags: "--mount=type=secret,target=/etc/token", target: "/etc/token", id: "token"},
		{flags: "--mount=type=secret,id=tok,target=rel/x", target: "/rel/x", id: "tok"},
		{flags: "--mount=type=secret,id=tok,env=TOKEN", target: "", id: "tok", env: "TOKEN"},
		{flags: "--mount=type=secret,id=tok,env=TOKEN,target=/f", target: "/f", id: "tok", env: "TOKEN"},
		{flags: "--mount=type=secret,id=a/b", target: "/run/secrets/b", id: "a/b"},
		{flags: "--mount=type=ssh", target: "/run/buildkit/ssh_agent.0", id: "default"},
		{flags: "--mount=type=ssh,id=k,target=/agent", target: "/agent", id: "k"},
		{flags: "--mount=type=ssh,source=x", errText: "ssh does not support source"},
		{flags: "--mount=type=bind,target=/src", errText: "the build has no context"},
	}
	for _, tt := range tests {
		t.Run(tt.flags, func(t *testing.T) {
			c := parseRun(t, "RUN "+tt.flags+" true")
			r := &stageRun{b: &Builder{}, st: &stageState{cfg: &v1.ConfigFile{Config: v1.Config{WorkingDir: "/work"}}}}
			ms, key, err := r.runMounts(context.Background(), c)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("runMounts = %v, want an error with %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || len(key) == 0 {
				t.Fatalf("runMounts = %d mounts, key %q", len(ms), key)
			}
			if m := ms[0]; m.target != tt.target || m.id != tt.id || m.env != tt.env {
				t.Errorf("target, id, env = %q, %q, %q, want %q, %q, %q", m.target, m.id, m.env, tt.target, tt.id, tt.env)
			}
		})
	}
}

// TestRunMountsSSHTargets: ssh mounts without a target are numbered.
func TestRunMountsSSHTargets(t *testing.T) {
	c := parseRun(t, "RUN --mount=type=ssh --mount=type=ssh,id=b,target=/x --mount=type=ssh,id=c true")
	r := &stageRun{b: &Builder{}, st: &stageState{cfg: &v1.ConfigFile{}}}
	ms, _, err := r.runMounts(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.target)
	}
	if want := "/run/buildkit/ssh_agent.0 /x /run/buildkit/ssh_agent.2"; strings.Join(got, " ") != want {
		t.Errorf("targets = %s, want %s", strings.Join(got, " "), want)
	}
}

// TestRunMountsKeyHasNoSecret: a secret's key is its id, never its value.
func TestRunMountsKeyHasNoSecret(t *testing.T) {
	const value = "the-secret-value"
	t.Setenv("STRATA_TEST_SECRET", value)
	c := parseRun(t, "RUN --mount=type=secret,id=tok,env=TOK true")
	r := &stageRun{b: &Builder{opts: Options{Secrets: map[string]SecretSource{"tok": {Env: "STRATA_TEST_SECRET"}}}}, st: &stageState{cfg: &v1.ConfigFile{}}}
	_, key, err := r.runMounts(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(key, "\x00"), value) {
		t.Errorf("key %q holds the secret", key)
	}
}

func TestBuilderSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	if err := os.WriteFile(file, []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxSecretSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRATA_TEST_SET", "from-env")
	b := &Builder{opts: Options{Secrets: map[string]SecretSource{
		"file":    {File: file},
		"env":     {Env: "STRATA_TEST_SET"},
		"unset":   {Env: "STRATA_TEST_UNSET_VARIABLE"},
		"big":     {File: big},
		"missing": {File: filepath.Join(dir, "gone")},
	}}}
	tests := []struct {
		id      string
		want    string
		ok      bool
		errText string
	}{
		{id: "file", want: "from-file", ok: true},
		{id: "env", want: "from-env", ok: true},
		{id: "unset"},
		{id: "none"},
		{id: "big", errText: `secret "big" is too big`},
		{id: "missing", errText: `secret "missing"`},
	}
	for _, tt := range tests {
		v, ok, err := b.secret(tt.id)
		if tt.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("secret(%q) = %v, want an error with %q", tt.id, err, tt.errText)
			}
			continue
		}
		if err != nil || ok != tt.ok || string(v) != tt.want {
			t.Errorf("secret(%q) = %q, %v, %v, want %q, %v", tt.id, v, ok, err, tt.want, tt.ok)
		}
	}
}
