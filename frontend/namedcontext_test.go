package frontend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalizeContextName(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "alpine", want: "alpine"},
		{in: "alpine:latest", want: "alpine"},
		{in: "docker.io/library/alpine:latest", want: "alpine"},
		{in: "index.docker.io/library/alpine", want: "alpine"},
		{in: "library/alpine", want: "alpine"},
		{in: "alpine:3.20", want: "alpine:3.20"},
		{in: "user/app", want: "user/app"},
		{in: "docker.io/user/app:1", want: "user/app:1"},
		{in: "example.com/team/app", want: "example.com/team/app"},
		{in: "127.0.0.1:5000/base:latest", want: "127.0.0.1:5000/base"},
		{in: "localhost/base", want: "localhost/base"},
		{in: "base@sha256:" + strings.Repeat("a", 64), want: "base@sha256:" + strings.Repeat("a", 64)},
		{in: "my-stage", want: "my-stage"},
		{in: "Alpine", err: "lowercase"},
		{in: "a:b:c", err: "repository name"},
		{in: "", err: "empty"},
	}
	for _, tt := range tests {
		got, err := NormalizeContextName(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeContextName(%q) = %q, %v, want error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeContextName(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseNamedContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec string
		want NamedContext
		err  string
	}{
		{spec: "base=docker-image://example.com/base:1", want: NamedContext{Name: "base", Kind: ContextImage, Ref: "example.com/base:1"}},
		{spec: "docker.io/library/alpine:latest=docker-image://busybox", want: NamedContext{Name: "alpine", Kind: ContextImage, Ref: "busybox"}},
		{spec: "b=oci-layout:///tmp/layout", want: NamedContext{Name: "b", Kind: ContextOCILayout, Ref: "/tmp/layout"}},
		{spec: "b=oci-layout:///tmp/layout:v2", want: NamedContext{Name: "b", Kind: ContextOCILayout, Ref: "/tmp/layout", Tag: "v2"}},
		{spec: "b=oci-layout://rel/lay@sha256:abc", want: NamedContext{Name: "b", Kind: ContextOCILayout, Ref: "rel/lay", Digest: "sha256:abc"}},
		{spec: "src=https://example.com/repo.git#main:sub", want: NamedContext{Name: "src", Kind: ContextGit, Ref: "https://example.com/repo.git#main:sub"}},
		{spec: "src=git@github.com:org/repo.git", want: NamedContext{Name: "src", Kind: ContextGit, Ref: "git@github.com:org/repo.git"}},
		{spec: "files=" + dir, want: NamedContext{Name: "files", Kind: ContextDir, Ref: dir}},
		{spec: "files=" + filepath.Join(dir, "missing"), err: "not found"},
		{spec: "noequals", err: "NAME=VALUE"},
		{spec: "=x", err: "NAME=VALUE"},
		{spec: "Upper=docker-image://x", err: "invalid context name"},
		{spec: "scratch=docker-image://x", err: "reserved"},
		{spec: "x=https://example.com/file.tar", err: "unsupported context source https"},
	}
	for _, tt := range tests {
		got, err := ParseNamedContext(tt.spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseNamedContext(%q) = %+v, %v, want error with %q", tt.spec, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNamedContext(%q): %v", tt.spec, err)
			continue
		}
		if got.Kind == ContextDir {
			if got.Dir == nil || got.Dir.Dir != dir || len(got.Dir.Excludes) != 1 {
				t.Errorf("ParseNamedContext(%q).Dir = %+v, want %s with its .dockerignore", tt.spec, got.Dir, dir)
			}
			got.Dir = nil
		}
		if *got != tt.want {
			t.Errorf("ParseNamedContext(%q) = %+v, want %+v", tt.spec, *got, tt.want)
		}
	}
}

func TestPlanNamedContexts(t *testing.T) {
	const df = `FROM busybox AS build
COPY --from=tools /x /x
FROM scratch AS tools
FROM build AS final
COPY --from=alpine:3.20 / /
COPY --from=build / /
FROM alpine:3.20
FROM docker.io/library/debian
FROM scratch
`
	d, err := Parse("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	ctx := func(name string) *NamedContext {
		return &NamedContext{Name: name, Kind: ContextImage, Ref: "example.com/" + name}
	}
	p, err := d.Plan(Options{Contexts: []*NamedContext{ctx("build"), ctx("alpine:3.20"), ctx("debian"), ctx("scratch")}})
	if err != nil {
		t.Fatal(err)
	}
	build, tools, final := p.All[0], p.All[1], p.All[2]
	// A named context replaces the stage of that name: no commands, no
	// dependencies (COPY --from=tools is not run).
	if !build.Replaced || build.Context == nil || build.Context.Name != "build" || len(build.Commands) != 0 || len(build.Deps) != 0 {
		t.Errorf("stage build: Replaced %v Context %+v Commands %d Deps %d, want replaced by the context", build.Replaced, build.Context, len(build.Commands), len(build.Deps))
	}
	// A later FROM of that name is the (replaced) stage.
	if final.BaseStage != build || final.Context != nil || final.Replaced {
		t.Errorf("FROM build: BaseStage %v Context %+v, want the stage", final.BaseStage, final.Context)
	}
	if tools.Context != nil || tools.Replaced {
		t.Errorf("FROM scratch must not resolve to a context: %+v", tools.Context)
	}
	for i, want := range []string{"alpine:3.20", "debian"} {
		s := p.All[3+i]
		if s.Context == nil || s.Context.Name != want || s.Replaced {
			t.Errorf("FROM %s: Context %+v, want %q", s.Base, s.Context, want)
		}
	}
	if p.All[5].Context != nil {
		t.Errorf("FROM scratch resolved to %+v", p.All[5].Context)
	}
	if p.NamedContext("docker.io/library/alpine:3.20") == nil || p.NamedContext("alpine") != nil || p.NamedContext("context") != nil {
		t.Errorf("NamedContext lookups by normalized name fail")
	}
	// The target needs only the replaced stage, not tools.
	p, err = d.Plan(Options{Target: "final", Contexts: []*NamedContext{ctx("build")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := stageNames(p.Stages); got != "build,final" {
		t.Errorf("Stages = %s, want build,final", got)
	}
}
