package main

import (
	"archive/tar"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/internal/testregistry"
	"github.com/stratabuild/strata/solver"
	"github.com/stratabuild/strata/solver/sandbox"
)

func TestCheckPlatformOutputs(t *testing.T) {
	two := []string{"linux/amd64", "linux/arm64"}
	docker := output{Type: "docker", Dest: "x.tar"}
	tests := []struct {
		name      string
		platforms []string
		outs      []output
		want      string
	}{
		{"one platform, docker", two[:1], []output{docker}, ""},
		{"host, docker", nil, []output{docker}, ""},
		{"two platforms, oci, local, tar, registry", two, []output{{Type: "oci", Dest: "x"}, {Type: "local", Dest: "d"}, {Type: "tar", Dest: "-"}, {Type: "registry"}}, ""},
		{"two platforms, docker", two, []output{{Type: "local", Dest: "d"}, docker}, "a docker tar holds one platform (docker load cannot load an image index)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPlatformOutputs(tt.platforms, tt.outs)
			if tt.want == "" {
				if err != nil {
					t.Errorf("checkPlatformOutputs() = %v, want nil", err)
				}
				return
			}
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &ue) {
				t.Errorf("checkPlatformOutputs() = %v, want a usage error saying %q", err, tt.want)
			}
		})
	}
}

// TestPlanPlatforms checks that each platform gets its own plan with the
// predefined ARGs Docker sets, and that no platform means the host's.
func TestPlanPlatforms(t *testing.T) {
	df, err := frontend.Parse("Dockerfile", []byte("FROM --platform=$BUILDPLATFORM scratch AS build\nFROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	host := "linux/" + runtime.GOARCH
	tests := []struct {
		platforms []string
		want      []string
	}{
		{nil, []string{host}},
		{[]string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}},
	}
	for _, tt := range tests {
		plans, err := planPlatforms(df, frontend.Options{}, tt.platforms)
		if err != nil {
			t.Fatal(err)
		}
		if len(plans) != len(tt.want) {
			t.Fatalf("planPlatforms(%q) made %d plans, want %d", tt.platforms, len(plans), len(tt.want))
		}
		for i, p := range plans {
			if p.Platform != tt.want[i] {
				t.Errorf("plan %d platform = %q, want %q", i, p.Platform, tt.want[i])
			}
			if v, _ := p.ArgValue("TARGETPLATFORM"); v != tt.want[i] {
				t.Errorf("plan %d TARGETPLATFORM = %q, want %q", i, v, tt.want[i])
			}
			if v, _ := p.ArgValue("BUILDPLATFORM"); v != host {
				t.Errorf("plan %d BUILDPLATFORM = %q, want %q", i, v, host)
			}
			if p.All[0].Platform != host {
				t.Errorf("plan %d: FROM --platform=$BUILDPLATFORM gives %q, want %q", i, p.All[0].Platform, host)
			}
		}
	}
}

func TestStagePrefix(t *testing.T) {
	var got []string
	var sp stagePrefix
	sink := sp.wrap(func(e solver.Event) { got = append(got, e.Stage) })
	sink(solver.Event{Stage: "build"})
	sp.set("linux/arm64 ")
	sink(solver.Event{Stage: "build"})
	if strings.Join(got, "|") != "build|linux/arm64 build" {
		t.Errorf("stages = %q", got)
	}
}

// TestPlatformUsageErrors runs the CLI with --platform values and outputs
// that are refused before anything is built (exit 2).
func TestPlatformUsageErrors(t *testing.T) {
	ctxDir := writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": "a\n"})
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown architecture", []string{"--platform", "linux/nope"}, `--platform: invalid platform "linux/nope": unknown architecture "nope"`},
		{"empty item", []string{"--platform", "linux/amd64,"}, "--platform: empty platform"},
		{"docker and two platforms", []string{"--platform", "linux/amd64", "--platform", "linux/arm64", "-o", "type=docker,dest=" + filepath.Join(out, "d.tar")},
			"a docker tar holds one platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"build", "--cache-dir", t.TempDir()}, tt.args...)
			r := strata(t, append(args, ctxDir)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a refused build wrote %d files", len(entries))
	}
}

// arm64Busybox downloads Debian's busybox-static for arm64 (download only,
// never installed) and returns the path of its static binary. apt needs
// the arm64 architecture for that; the helper adds it when it is missing.
func arm64Busybox(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	download := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "download", "busybox-static:arm64")
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	out, err := download()
	if err != nil {
		t.Logf("apt-get download busybox-static:arm64: %v\n%s\nadding the arm64 architecture to dpkg and apt", err, out)
		foreign, _ := exec.Command("dpkg", "--print-foreign-architectures").Output()
		if !strings.Contains(string(foreign), "arm64") {
			if out, err := exec.Command("dpkg", "--add-architecture", "arm64").CombinedOutput(); err != nil {
				require(t, false, fmt.Sprintf("dpkg --add-architecture arm64: %v\n%s", err, out))
			}
		}
		if out, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
			require(t, false, fmt.Sprintf("apt-get update: %v\n%s", err, out))
		}
		if out, err = download(); err != nil {
			require(t, false, fmt.Sprintf("apt-get download busybox-static:arm64: %v\n%s", err, out))
		}
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "busybox-static_*_arm64.deb"))
	if len(debs) != 1 {
		t.Fatalf("apt-get download left %q", debs)
	}
	x := filepath.Join(dir, "x")
	run(t, "dpkg-deb", "-x", debs[0], x)
	return filepath.Join(x, "bin", "busybox")
}

// multiArchBusybox builds the busybox base for linux/amd64 and linux/arm64
// with strata itself, from one Dockerfile that copies rootfs-$TARGETARCH,
// and pushes both under one tag as an index.
func multiArchBusybox(t *testing.T, reg, cache string) string {
	t.Helper()
	amd := filepath.Join(t.TempDir(), "amd64")
	run(t, "bash", "../../testdata/busybox/make-context.sh", amd)
	ctxDir := t.TempDir()
	run(t, "cp", "-a", filepath.Join(amd, "rootfs"), filepath.Join(ctxDir, "rootfs-amd64"))
	// The same tree with arm64's busybox: same version, same applets.
	run(t, "cp", "-a", filepath.Join(amd, "rootfs"), filepath.Join(ctxDir, "rootfs-arm64"))
	run(t, "install", "-m", "0755", arm64Busybox(t), filepath.Join(ctxDir, "rootfs-arm64", "bin", "busybox"))
	df := "FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\nCMD [\"/bin/sh\"]\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg + "/strata/busybox-multi:latest"
	mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "--platform", "linux/amd64,linux/arm64", "-t", ref, "--push", ctxDir)
	return ref
}

// rawIndex reads an index with skopeo inspect --raw and checks its shape.
func rawIndex(t *testing.T, transportRef string, extra ...string) (v1.IndexManifest, v1.Hash) {
	t.Helper()
	args := append([]string{"inspect", "--raw"}, extra...)
	raw := run(t, "skopeo", append(args, transportRef)...)
	var im v1.IndexManifest
	if err := json.Unmarshal([]byte(raw), &im); err != nil {
		t.Fatalf("%s: %v\n%s", transportRef, err, raw)
	}
	d, _, err := v1.SHA256(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return im, d
}

// TestMultiPlatformBuild is the acceptance test of multi-platform builds:
// --platform linux/amd64,linux/arm64 on a Dockerfile that runs
// `uname -m > /arch` gives an index of two manifests, the arm64 one built
// under QEMU emulation, on a base that is itself an index.
func TestMultiPlatformBuild(t *testing.T) {
	requireE2E(t, "runc", "skopeo", "umoci", "docker-registry", "apt-get", "dpkg-deb")
	if runtime.GOARCH != "amd64" {
		t.Skip("the test's busybox bases are amd64 and arm64; the host is " + runtime.GOARCH)
	}
	if err := sandbox.CheckEmulation("linux/arm64"); err != nil {
		// What the user sees without QEMU: the build fails before any
		// work and says what to install.
		ctxDir := writeContext(t, "FROM --platform=linux/arm64 scratch\nRUN true\n", map[string]string{})
		r := strata(t, "build", "--cache-dir", t.TempDir(), ctxDir)
		if r.code != 1 || !strings.Contains(r.stderr, "apt-get install qemu-user-static binfmt-support") ||
			!strings.Contains(r.stderr, "Dockerfile:2: RUN true: RUN for linux/arm64") {
			t.Errorf("RUN for linux/arm64 without emulation: exit %d\n%s", r.code, r.stderr)
		}
		require(t, false, "no QEMU emulation for linux/arm64 here: "+err.Error())
	}

	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := multiArchBusybox(t, reg, cache)
	bim, _ := rawIndex(t, "docker://"+base, "--tls-verify=false")
	if len(bim.Manifests) != 2 {
		t.Fatalf("base %s: %d manifests, want 2", base, len(bim.Manifests))
	}

	const dockerfile = `ARG BASE
FROM --platform=$BUILDPLATFORM $BASE AS build
RUN uname -m > /build-arch
FROM $BASE
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDARCH
RUN uname -m > /arch
RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM $BUILDARCH" > /args
COPY --from=build /build-arch /build-arch
`
	ctxDir := writeContext(t, dockerfile, map[string]string{})
	out := t.TempDir()
	ref := reg + "/team/multi:1"
	ociTar, ociDir, local, fsTar, md := filepath.Join(out, "oci.tar"), filepath.Join(out, "oci"), filepath.Join(out, "local"), filepath.Join(out, "fs.tar"), filepath.Join(out, "md.json")
	build := func() result {
		for _, p := range []string{ociTar, ociDir, local, fsTar, md} {
			os.RemoveAll(p)
		}
		return mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "--build-arg", "BASE="+base,
			"--platform", "linux/amd64,linux/arm64", "-t", ref, "--push",
			"-o", "type=oci,dest="+ociTar, "-o", "type=oci,tar=false,dest="+ociDir,
			"-o", "type=local,dest="+local, "-o", "type=tar,dest="+fsTar, "--metadata-file", md, ctxDir)
	}
	r := build()
	digest := strings.TrimSpace(r.stdout)
	if !digestRE.MatchString(digest) {
		t.Fatalf("stdout = %q, want a digest", r.stdout)
	}
	// The build stage is pinned to the build platform: the second
	// platform finds its RUN in the cache.
	cached := regexp.MustCompile(`\[linux/arm64 build \d+/\d+\] RUN uname -m > /build-arch: CACHED`)
	if !cached.MatchString(r.stderr) {
		t.Errorf("the $BUILDPLATFORM stage ran again for linux/arm64:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "[linux/arm64 stage-1 2/4] RUN uname -m > /arch") {
		t.Errorf("progress does not name the platform:\n%s", r.stderr)
	}

	// The registry has an index with one manifest per platform.
	im, d := rawIndex(t, "docker://"+ref, "--tls-verify=false")
	if d.String() != digest {
		t.Errorf("registry index digest = %s, stdout says %s", d, digest)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("registry has %s with %d manifests, want an OCI index of 2", im.MediaType, len(im.Manifests))
	}
	want := []struct {
		arch, uname string
		machine     uint16 // e_machine of its ELF binaries
	}{{"amd64", "x86_64", 0x3e}, {"arm64", "aarch64", 0xb7}}
	for i, w := range want {
		m := im.Manifests[i]
		if m.Platform == nil || m.Platform.OS != "linux" || m.Platform.Architecture != w.arch {
			t.Errorf("manifest %d platform = %+v, want linux/%s", i, m.Platform, w.arch)
		}
		if m.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d media type = %s", i, m.MediaType)
		}
	}

	// Each platform, pulled and unpacked on its own.
	work := t.TempDir()
	layout := filepath.Join(work, "layout")
	for _, w := range want {
		run(t, "skopeo", "--override-arch", w.arch, "copy", "--src-tls-verify=false", "docker://"+ref, "oci:"+layout+":"+w.arch)
		var cfg v1.ConfigFile
		if err := json.Unmarshal([]byte(run(t, "skopeo", "--override-arch", w.arch, "inspect", "--tls-verify=false", "--config", "--raw", "docker://"+ref)), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Architecture != w.arch || cfg.OS != "linux" {
			t.Errorf("%s config says %s/%s", w.arch, cfg.OS, cfg.Architecture)
		}
		bundle := filepath.Join(work, "bundle-"+w.arch)
		run(t, "umoci", "unpack", "--image", layout+":"+w.arch, bundle)
		rootfs := filepath.Join(bundle, "rootfs")
		wantFile(t, filepath.Join(rootfs, "arch"), w.uname+"\n")
		wantFile(t, filepath.Join(rootfs, "build-arch"), "x86_64\n")
		wantFile(t, filepath.Join(rootfs, "args"), fmt.Sprintf("linux/%s linux %s [] linux/amd64 amd64\n", w.arch, w.arch))
		// The base was chosen per platform: its busybox is the platform's.
		if got := elfMachine(t, filepath.Join(rootfs, "bin", "busybox")); got != w.machine {
			t.Errorf("%s: /bin/busybox is for ELF machine %#x, want %#x", w.arch, got, w.machine)
		}
	}

	// OCI archive and layout: index.json lists the index.
	if _, d := rawIndex(t, "oci-archive:"+ociTar+":1"); d.String() != digest {
		t.Errorf("oci-archive index = %s, want %s", d, digest)
	}
	if _, d := rawIndex(t, "oci:"+ociDir+":1"); d.String() != digest {
		t.Errorf("oci layout index = %s, want %s", d, digest)
	}
	// Local and tar: one folder per platform.
	for _, w := range want {
		wantFile(t, filepath.Join(local, "linux_"+w.arch, "arch"), w.uname+"\n")
	}
	files := tarFiles(t, fsTar)
	for _, w := range want {
		if got := files["linux_"+w.arch+"/arch"]; got != w.uname+"\n" {
			t.Errorf("tar linux_%s/arch = %q, want %q", w.arch, got, w.uname+"\n")
		}
	}
	var meta map[string]any
	if data, err := os.ReadFile(md); err != nil || json.Unmarshal(data, &meta) != nil || meta["containerimage.digest"] != digest {
		t.Errorf("metadata file: %v (%v), want containerimage.digest %s", meta, err, digest)
	}

	// A rebuild runs nothing and gives the same index.
	r = build()
	if got := strings.TrimSpace(r.stdout); got != digest {
		t.Errorf("rebuild digest = %s, want %s", got, digest)
	}
	if !strings.Contains(r.stderr, "(0 steps run,") {
		t.Errorf("rebuild ran steps:\n%s", r.stderr)
	}

	// One foreign platform gives a single image, built under emulation.
	one := filepath.Join(out, "one")
	r = mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "--build-arg", "BASE="+base,
		"--platform", "linux/arm64", "-o", "type=local,dest="+one, "-o", "type=oci,tar=false,dest="+ociDir+"-one", ctxDir)
	wantFile(t, filepath.Join(one, "arch"), "aarch64\n")
	var m v1.Manifest
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "--raw", "oci:"+ociDir+"-one")), &m); err != nil || m.MediaType != types.OCIManifestSchema1 {
		t.Errorf("one platform: %s, %v, want an image manifest", m.MediaType, err)
	}
	if strings.Contains(r.stderr, "[linux/arm64 ") {
		t.Errorf("one platform: progress names the platform:\n%s", r.stderr)
	}
}

// elfMachine reads e_machine from an ELF file's header.
func elfMachine(t *testing.T, p string) uint16 {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return uint16(f.Machine)
}

func wantFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != want {
		t.Errorf("%s = %q, %v; want %q", p, b, err, want)
	}
}

// tarFiles reads the regular files of a tar.
func tarFiles(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]string{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[hdr.Name] = string(b)
		}
	}
}
