package frontend

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// HostPlatform is the platform strata runs on, "linux/<GOARCH>", as
// BuildKit spells it for BUILDPLATFORM.
func HostPlatform() string {
	p, _ := NormalizePlatform("linux/" + runtime.GOARCH)
	return p
}

// ParsePlatforms parses --platform values, each a comma-separated list of
// platforms ("linux/arm64,linux/amd64"), as buildx does. Every platform is
// normalized (see NormalizePlatform); "local" is the host's. Duplicates are
// dropped and the order is kept. No values give no platforms.
func ParsePlatforms(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, fmt.Errorf("empty platform in %q", v)
			}
			p := HostPlatform()
			if s != "local" {
				var err error
				if p, err = NormalizePlatform(s); err != nil {
					return nil, err
				}
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// NormalizePlatform parses "os/arch[/variant]" (or an architecture alone,
// meaning linux) and spells it as containerd's platforms.Normalize and
// Format do, which is how BuildKit sets TARGETPLATFORM: "linux/aarch64"
// and "linux/arm64/v8" are "linux/arm64", "linux/x86_64" is "linux/amd64",
// "linux/arm" is "linux/arm/v7", "linux/armhf" is "linux/arm/v7".
func NormalizePlatform(s string) (string, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return "", fmt.Errorf("invalid platform %q: want os/arch[/variant]", s)
	}
	if len(parts) == 1 {
		if isOS(parts[0]) {
			return "", fmt.Errorf("invalid platform %q: no architecture (want os/arch[/variant], e.g. %s/amd64)", s, parts[0])
		}
		parts = []string{"linux", parts[0]}
	}
	goos := parts[0]
	if goos == "macos" {
		goos = "darwin"
	}
	if !isOS(goos) {
		return "", fmt.Errorf("invalid platform %q: unknown operating system %q", s, parts[0])
	}
	arch, variant := parts[1], ""
	if len(parts) == 3 {
		variant = parts[2]
	}
	arch, variant = normalizeArch(arch, variant)
	if !isArch(arch) {
		return "", fmt.Errorf("invalid platform %q: unknown architecture %q", s, parts[1])
	}
	if variant != "" {
		return goos + "/" + arch + "/" + variant, nil
	}
	return goos + "/" + arch, nil
}

// SplitPlatform splits a normalized platform into its os, architecture and
// variant.
func SplitPlatform(p string) (goos, arch, variant string) {
	parts := strings.SplitN(p, "/", 3)
	goos = parts[0]
	if len(parts) > 1 {
		arch = parts[1]
	}
	if len(parts) > 2 {
		variant = parts[2]
	}
	return goos, arch, variant
}

// normalizeArch is containerd's normalizeArch.
func normalizeArch(arch, variant string) (string, string) {
	switch arch {
	case "i386":
		return "386", ""
	case "x86_64", "x86-64", "amd64":
		if variant == "v1" {
			variant = ""
		}
		return "amd64", variant
	case "aarch64", "arm64":
		switch variant {
		case "8", "v8", "v8.0":
			variant = ""
		case "9", "9.0", "v9.0":
			variant = "v9"
		}
		return "arm64", variant
	case "armhf":
		return "arm", "v7"
	case "armel":
		return "arm", "v6"
	case "arm":
		switch variant {
		case "", "7":
			variant = "v7"
		case "5", "6", "8":
			variant = "v" + variant
		}
		return "arm", variant
	}
	return arch, variant
}

func isOS(s string) bool {
	switch s {
	case "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "plan9", "dragonfly", "android", "ios", "js", "wasip1":
		return true
	}
	return false
}

func isArch(s string) bool {
	switch s {
	case "386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le",
		"ppc64", "ppc64le", "riscv64", "s390x", "wasm", "sparc64":
		return true
	}
	return false
}

// platformArgs are the ARGs BuildKit predefines: BUILD* for the platform
// strata runs on, TARGET* for the platform being built.
func platformArgs(target string) []string {
	build := HostPlatform()
	bos, barch, bvariant := SplitPlatform(build)
	tos, tarch, tvariant := SplitPlatform(target)
	return []string{
		"BUILDPLATFORM=" + build, "BUILDOS=" + bos, "BUILDARCH=" + barch, "BUILDVARIANT=" + bvariant,
		"TARGETPLATFORM=" + target, "TARGETOS=" + tos, "TARGETARCH=" + tarch, "TARGETVARIANT=" + tvariant,
	}
}

// freshStages parses the stages again from the syntax tree, so that the
// commands are new values that no other plan shares.
func (d *Dockerfile) freshStages() ([]instructions.Stage, error) {
	if d.ast == nil {
		return d.Stages, nil
	}
	stages, _, err := instructions.Parse(d.ast, quietLinter())
	if err != nil {
		return nil, wrapError(d.File, nil, err)
	}
	return stages, nil
}
