package frontend

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

func TestNormalizePlatform(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"linux/amd64", "linux/amd64"},
		{"linux/x86_64", "linux/amd64"},
		{"linux/amd64/v1", "linux/amd64"},
		{"linux/amd64/v3", "linux/amd64/v3"},
		{"linux/arm64", "linux/arm64"},
		{"linux/aarch64", "linux/arm64"},
		{"linux/arm64/v8", "linux/arm64"},
		{"Linux/ARM64", "linux/arm64"},
		{"linux/arm", "linux/arm/v7"},
		{"linux/arm/7", "linux/arm/v7"},
		{"linux/arm/v6", "linux/arm/v6"},
		{"linux/armhf", "linux/arm/v7"},
		{"linux/i386", "linux/386"},
		{"arm64", "linux/arm64"},
		{"windows/amd64", "windows/amd64"},
		{"linux/s390x", "linux/s390x"},
		{"linux/riscv64", "linux/riscv64"},
	}
	for _, tt := range tests {
		got, err := NormalizePlatform(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePlatform(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "linux", "linux/", "linux/arm64/v8/x", "linux/m68k", "plan10/amd64", "/amd64"} {
		if got, err := NormalizePlatform(bad); err == nil {
			t.Errorf("NormalizePlatform(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	host := "linux/" + runtime.GOARCH
	tests := []struct {
		name string
		in   []string
		want []string
		err  string
	}{
		{"none", nil, nil, ""},
		{"one", []string{"linux/arm64"}, []string{"linux/arm64"}, ""},
		{"comma list", []string{"linux/amd64,linux/arm64"}, []string{"linux/amd64", "linux/arm64"}, ""},
		{"repeated flag", []string{"linux/arm64", "linux/amd64"}, []string{"linux/arm64", "linux/amd64"}, ""},
		{"spaces", []string{"linux/amd64, linux/arm64"}, []string{"linux/amd64", "linux/arm64"}, ""},
		{"duplicates after normalizing", []string{"linux/arm64,linux/aarch64", "linux/arm64/v8"}, []string{"linux/arm64"}, ""},
		{"local", []string{"local"}, []string{host}, ""},
		{"empty item", []string{"linux/amd64,"}, nil, "empty platform"},
		{"bad item", []string{"linux/amd64,linux/nope"}, nil, `unknown architecture "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePlatforms(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParsePlatforms(%q) = %q, %v, want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParsePlatforms(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestPlatformArgsPerPlatform checks the predefined ARGs as Docker sets
// them: TARGET* follow the platform being built, BUILD* stay the host's.
func TestPlatformArgsPerPlatform(t *testing.T) {
	const df = `FROM --platform=$BUILDPLATFORM busybox AS build
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDARCH
FROM busybox
`
	d, err := Parse("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	hostArch := runtime.GOARCH
	tests := []struct {
		platform string
		want     map[string]string
	}{
		{"linux/amd64", map[string]string{"TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": ""}},
		{"linux/arm64", map[string]string{"TARGETPLATFORM": "linux/arm64", "TARGETOS": "linux", "TARGETARCH": "arm64", "TARGETVARIANT": ""}},
		{"linux/arm64/v8", map[string]string{"TARGETPLATFORM": "linux/arm64", "TARGETARCH": "arm64", "TARGETVARIANT": ""}},
		{"linux/arm/v7", map[string]string{"TARGETPLATFORM": "linux/arm/v7", "TARGETARCH": "arm", "TARGETVARIANT": "v7"}},
		{"", map[string]string{"TARGETPLATFORM": "linux/" + hostArch, "TARGETARCH": hostArch}},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			p, err := d.Plan(Options{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"BUILDPLATFORM": "linux/" + hostArch, "BUILDOS": "linux", "BUILDARCH": hostArch, "BUILDVARIANT": "",
			}
			for k, v := range tt.want {
				want[k] = v
			}
			for k, v := range want {
				if got, ok := p.ArgValue(k); !ok || got != v {
					t.Errorf("Plan(%q).ArgValue(%s) = %q, %v, want %q", tt.platform, k, got, ok, v)
				}
			}
			if p.Platform != want["TARGETPLATFORM"] {
				t.Errorf("Plan(%q).Platform = %q, want %q", tt.platform, p.Platform, want["TARGETPLATFORM"])
			}
			// The build stage is pinned to the host; the last follows the target.
			if got := p.All[0].Platform; got != "linux/"+hostArch {
				t.Errorf("FROM --platform=$BUILDPLATFORM: stage platform = %q, want linux/%s", got, hostArch)
			}
			if got := p.All[1].Platform; got != "" {
				t.Errorf("FROM without --platform: stage platform = %q, want empty (the target's)", got)
			}
		})
	}
}

func TestPlanPlatformErrors(t *testing.T) {
	tests := []struct {
		df, platform, want string
	}{
		{"FROM busybox\n", "linux/nope", `invalid platform "linux/nope": unknown architecture "nope"`},
		{"FROM --platform=linux/nope busybox\n", "", `Dockerfile:1: FROM --platform=linux/nope: invalid platform`},
		{"ARG P=bad\nFROM --platform=$P busybox\n", "", `Dockerfile:2: FROM --platform=$P: invalid platform "bad"`},
	}
	for _, tt := range tests {
		d, err := Parse("Dockerfile", []byte(tt.df))
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Plan(Options{Platform: tt.platform})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Plan(%q, %q) = %v, want %q", tt.df, tt.platform, err, tt.want)
		}
	}
}

// TestPlansDoNotShareCommands guards the build for several platforms: the
// solver expands a plan's commands in place, so two plans of one
// Dockerfile must not share them.
func TestPlansDoNotShareCommands(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Plan(Options{Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Plan(Options{Platform: "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := a.All[0].Commands[1], b.All[0].Commands[1]
	if ca == cb {
		t.Fatalf("both plans hold the same COPY command %p", ca)
	}
	// What the solver does: expand one plan's command.
	if err := ca.(instructions.SupportsSingleWordExpansion).Expand(func(w string) (string, error) {
		return strings.ReplaceAll(w, "${TARGETARCH}", "amd64"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := cb.(*instructions.CopyCommand).SourcePaths[0]; got != "rootfs-${TARGETARCH}/" {
		t.Errorf("expanding one plan's COPY changed the other's source to %q", got)
	}
}
