package frontend

import (
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func stageNames(stages []*Stage) string {
	var out []string
	for _, s := range stages {
		out = append(out, s.DisplayName())
	}
	return strings.Join(out, ",")
}

func TestPlanStages(t *testing.T) {
	const df = `ARG BASE=busybox
ARG TAG
FROM ${BASE}:${TAG:-1} AS build
RUN make
FROM build AS test
RUN make test
FROM scratch AS unused
RUN exit 42
FROM alpine AS tools
FROM ${BASE}
COPY --from=build /out /out
COPY --from=tools /bin/x /bin/x
COPY --from=nginx:1 /etc/nginx /etc/nginx
`
	d, err := Parse("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		opts      Options
		wantOrder string
		wantBase  string // base of the first stage
	}{
		{"default target", Options{}, "build,tools,stage-4", "busybox:1"},
		{"build-arg overrides", Options{BuildArgs: map[string]string{"BASE": "debian", "TAG": "12"}}, "build,tools,stage-4", "debian:12"},
		{"target", Options{Target: "test"}, "build,test", "busybox:1"},
		{"target is case-insensitive", Options{Target: "TEST"}, "build,test", "busybox:1"},
		{"unused stage alone", Options{Target: "unused"}, "unused", "busybox:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := d.Plan(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := stageNames(p.Stages); got != tt.wantOrder {
				t.Errorf("Plan(%+v).Stages = %s, want %s", tt.opts, got, tt.wantOrder)
			}
			if p.Target != p.Stages[len(p.Stages)-1] {
				t.Errorf("target is not last")
			}
			if got := p.All[0].Base; got != tt.wantBase {
				t.Errorf("first stage base = %q, want %q", got, tt.wantBase)
			}
		})
	}
	p, _ := d.Plan(Options{})
	if p.All[1].BaseStage != p.All[0] {
		t.Errorf("FROM build does not point at stage build")
	}
	if s, err := p.FromStage("nginx:1", p.All[4]); s != nil || err != nil {
		t.Errorf("FromStage(nginx:1) = %v, %v, want an image (nil, nil)", s, err)
	}
	if s, _ := p.FromStage("0", p.All[4]); s != p.All[0] {
		t.Errorf("FromStage(0) = %v, want stage 0", s)
	}
}

func TestPlanPlatformArgs(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("ARG TARGETARCH\nFROM img-${TARGETARCH}-${TARGETOS}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan(Options{Platform: "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.All[0].Base; got != "img-arm64-linux" {
		t.Errorf("base = %q, want img-arm64-linux", got)
	}
	if v, ok := p.ArgValue("TARGETPLATFORM"); !ok || v != "linux/arm64" {
		t.Errorf("ArgValue(TARGETPLATFORM) = %q, %v", v, ok)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, df string
		opts     Options
		want     string
	}{
		{"unknown instruction", "FROM scratch\nRUNN x\n", Options{}, "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
		{"only comments", "# just a comment\n", Options{}, "Dockerfile:1: file with no instructions"},
		{"instruction before FROM", "RUN x\n", Options{}, "Dockerfile:1:"},
		{"no FROM", "\n# c\nARG A\nARG B\n", Options{}, "Dockerfile:3: no FROM instruction: a Dockerfile must start a stage with FROM"},
		{"unterminated heredoc", "FROM scratch\nRUN <<EOF\necho\n", Options{}, "Dockerfile:2:"},
		{"empty file", "", Options{}, "the Dockerfile is empty"},
		{"bad escape directive", "# escape=x\nFROM a\n", Options{}, "Dockerfile:1: invalid escape token 'x' does not match ` or \\"},
		{"escape directive twice", "# escape=\\\n# escape=`\nFROM a\n", Options{}, "Dockerfile:2: only one escape parser directive can be used"},
		{"blank base", "ARG B\nFROM ${B}\n", Options{}, "Dockerfile:2: base name (${B}) should not be blank"},
		{"duplicate stage", "FROM a AS x\nFROM b AS x\n", Options{}, `Dockerfile:2: duplicate stage name "x"`},
		{"copy from later stage", "FROM a AS one\nCOPY --from=two /a /a\nFROM b AS two\n", Options{}, `Dockerfile:2: cannot copy from stage "two"`},
		{"copy from bad index", "FROM a\nCOPY --from=3 /a /a\n", Options{}, "Dockerfile:2: invalid stage index 3"},
		{"unknown target", "FROM a AS one\n", Options{Target: "two"}, `target stage "two" could not be found (stages: one)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("Dockerfile", []byte(tt.df))
			if err == nil {
				_, err = d.Plan(tt.opts)
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *frontend.Error", err)
			}
		})
	}
}

func TestParseTrigger(t *testing.T) {
	d, _ := Parse("Dockerfile", []byte("FROM a\n"))
	loc := d.Stages[0].Location
	c, err := ParseTrigger("Dockerfile", loc, "RUN echo hi")
	if err != nil || c.Name() != "RUN" {
		t.Errorf("ParseTrigger(RUN) = %v, %v", c, err)
	}
	for _, bad := range []string{"ONBUILD RUN x", "MAINTAINER me", "RUN a\nRUN b", "NOPE x"} {
		if _, err := ParseTrigger("Dockerfile", loc, bad); err == nil || !strings.HasPrefix(err.Error(), "Dockerfile:1:") {
			t.Errorf("ParseTrigger(%q) error = %v, want one at Dockerfile:1", bad, err)
		}
	}
}

// TestParseCheckComment: BuildKit's parser reads a "# check=" comment
// above any instruction as linter settings, and crashed without a linter.
func TestParseCheckComment(t *testing.T) {
	for _, df := range []string{"FROM a\n# check=skip=all\nRUN x\n", "#\n#check=skip=\nFROM a\n", "# c\n# check=error=true;skip=x\nFROM a\n"} {
		d, err := Parse("Dockerfile", []byte(df))
		if err != nil {
			t.Errorf("Parse(%q) = %v", df, err)
			continue
		}
		if _, err := d.Plan(Options{}); err != nil {
			t.Errorf("Plan(%q) = %v", df, err)
		}
	}
	loc := []parser.Range{{Start: parser.Position{Line: 3}}}
	if c, err := ParseTrigger("Dockerfile", loc, "# check=skip=all\nRUN x"); err != nil || c.Name() != "RUN" {
		t.Errorf("ParseTrigger(# check= comment, RUN) = %v, %v", c, err)
	}
	if _, err := ParseTrigger("Dockerfile", loc, "FROM x"); err == nil || err.Error() != `Dockerfile:3: ONBUILD trigger "FROM x": FROM isn't allowed as an ONBUILD trigger` {
		t.Errorf("ParseTrigger(FROM x) = %v", err)
	}
}
