package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stratabuild/strata/internal/testregistry"
)

// These tests run the strata binary the way users do. They need root,
// runc, a registry and skopeo/umoci; without them they skip, except under
// CI, where they fail.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func strataBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strata-bin-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "strata")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func require(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI requires this test to run: %s", why)
	}
	t.Skip(why)
}

func requireE2E(t *testing.T, tools ...string) {
	t.Helper()
	require(t, os.Geteuid() == 0, "needs root (overlay mounts, runc)")
	for _, tool := range tools {
		_, err := exec.LookPath(tool)
		require(t, err == nil, tool+" is not installed")
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func strata(t *testing.T, args ...string) result {
	t.Helper()
	return strataIn(t, "", "", nil, args...)
}

func mustStrata(t *testing.T, args ...string) result {
	t.Helper()
	r := strata(t, args...)
	if r.code != 0 {
		t.Fatalf("strata %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// busyboxBase builds the test base image with strata itself (FROM scratch
// + COPY of Debian's static busybox) and pushes it to reg.
func busyboxBase(t *testing.T, reg, cache string) string {
	t.Helper()
	ctxDir := filepath.Join(t.TempDir(), "busybox")
	run(t, "bash", "../../testdata/busybox/make-context.sh", ctxDir)
	ref := reg + "/strata/busybox:latest"
	r := mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "-t", ref, "--push", ctxDir)
	if d := strings.TrimSpace(r.stdout); !digestRE.MatchString(d) {
		t.Fatalf("stdout = %q, want a digest", r.stdout)
	}
	return ref
}

// copyDir copies testdata into a temp dir so a test can modify it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	run(t, "cp", "-a", src, dst)
	return dst
}

type ociConfig struct {
	Config struct {
		Env          []string
		Entrypoint   []string
		Cmd          []string
		User         string
		WorkingDir   string
		ExposedPorts map[string]struct{}
		Labels       map[string]string
		Healthcheck  *struct {
			Test     []string
			Interval int64
		}
	} `json:"config"`
	History []struct {
		CreatedBy  string `json:"created_by"`
		EmptyLayer bool   `json:"empty_layer"`
	} `json:"history"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

func TestBuildPushPullRun(t *testing.T) {
	requireE2E(t, "runc", "skopeo", "umoci", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	ctxDir := copyDir(t, "../../testdata/multistage")
	ref := reg + "/team/app:1.0"
	build := func() (string, map[string]any) {
		md := filepath.Join(t.TempDir(), "md.json")
		r := mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "--build-arg", "BASE="+base,
			"--build-arg", "VERSION=1.2.3", "-t", ref, "--push", "--metadata-file", md, ctxDir)
		var m map[string]any
		data, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.stderr, "exit 42") || strings.Contains(r.stderr, "[unused") {
			t.Errorf("the unused stage ran:\n%s", r.stderr)
		}
		return strings.TrimSpace(r.stdout), m
	}
	digest, md := build()
	if !digestRE.MatchString(digest) {
		t.Fatalf("stdout = %q, want a digest", digest)
	}
	if md["containerimage.digest"] != digest {
		t.Errorf("metadata digest = %v, want %s", md["containerimage.digest"], digest)
	}

	// Pull it back with skopeo into an OCI layout, unpack with umoci.
	work := t.TempDir()
	layout := filepath.Join(work, "layout")
	run(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+ref, "oci:"+layout+":app")
	inspect := run(t, "skopeo", "inspect", "--tls-verify=false", "docker://"+ref)
	if !strings.Contains(inspect, digest) {
		t.Errorf("skopeo inspect does not show digest %s:\n%s", digest, inspect)
	}
	bundle := filepath.Join(work, "bundle")
	run(t, "umoci", "unpack", "--image", layout+":app", bundle)
	rootfs := filepath.Join(bundle, "rootfs")

	checkFile := func(p, content string, mode os.FileMode, uid, gid int) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(rootfs, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return
		}
		if content != "" {
			data, _ := os.ReadFile(filepath.Join(rootfs, p))
			if string(data) != content {
				t.Errorf("%s content = %q, want %q", p, data, content)
			}
		}
		if fi.Mode() != mode {
			t.Errorf("%s mode = %v, want %v", p, fi.Mode(), mode)
		}
		st := fi.Sys().(*syscallStat)
		if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s owner = %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
	checkFile("app/build/result.txt", "built\n", 0o750, 0, 0)
	checkFile("app/build/version.txt", "1.2.3\n", 0o644, 0, 0)
	checkFile("app/build/lib/data.txt", "shared data\n", 0o644, 0, 0)
	checkFile("app/build/lib/data-symlink.txt", "", os.ModeSymlink|0o777, 0, 0)
	checkFile("app/entry.sh", "", 0o755, 1000, 1000)
	checkFile("app/app.conf", "", 0o640, 1000, 1000)
	checkFile("opt/data/new.txt", "new\n", 0o644, 0, 0)
	checkFile("bin/busybox", "", 0o755, 0, 0)
	for _, gone := range []string{"etc/motd", "opt/data/old.txt", "opt/data/sub"} {
		if _, err := os.Lstat(filepath.Join(rootfs, gone)); !os.IsNotExist(err) {
			t.Errorf("%s should be gone, got %v", gone, err)
		}
	}
	a, _ := os.Stat(filepath.Join(rootfs, "app/build/lib/data.txt"))
	b, _ := os.Stat(filepath.Join(rootfs, "app/build/lib/data-hardlink.txt"))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Errorf("data-hardlink.txt is not a hardlink of data.txt")
	}
	for _, leaked := range []string{"etc/resolv.conf", "etc/hosts", "etc/hostname"} {
		if _, err := os.Lstat(filepath.Join(rootfs, leaked)); err == nil {
			t.Errorf("/%s is in the image; the sandbox's mounts must not be committed", leaked)
		}
	}

	// The config, read from the blob itself (skopeo drops Healthcheck).
	var cfg ociConfig
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "--tls-verify=false", "--raw", "--config", "docker://"+ref)), &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	wantEnv := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello from strata", "APP_HOME=/app"}
	if fmt.Sprint(c.Env) != fmt.Sprint(wantEnv) {
		t.Errorf("Env = %q, want %q", c.Env, wantEnv)
	}
	if fmt.Sprint(c.Entrypoint) != "[/bin/sh /app/entry.sh]" || fmt.Sprint(c.Cmd) != "[hello]" {
		t.Errorf("Entrypoint, Cmd = %q, %q", c.Entrypoint, c.Cmd)
	}
	if c.User != "app" || c.WorkingDir != "/app" {
		t.Errorf("User, WorkingDir = %q, %q", c.User, c.WorkingDir)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts = %v", c.ExposedPorts)
	}
	if c.Labels["com.example.strata.test"] != "multistage" || c.Labels["org.opencontainers.image.title"] != "strata multistage" {
		t.Errorf("Labels = %v", c.Labels)
	}
	if c.Healthcheck == nil || fmt.Sprint(c.Healthcheck.Test) != "[CMD /bin/true]" || c.Healthcheck.Interval != 30e9 {
		t.Errorf("Healthcheck = %+v", c.Healthcheck)
	}
	var pattern []string
	layersInHistory := 0
	for _, h := range cfg.History {
		word := strings.Fields(h.CreatedBy + " x")[0]
		if h.EmptyLayer {
			pattern = append(pattern, word+"(empty)")
		} else {
			pattern = append(pattern, word)
			layersInHistory++
		}
	}
	// Base: COPY rootfs + CMD; then the final stage's steps.
	wantPattern := "COPY CMD(empty) COPY RUN RUN COPY COPY COPY USER(empty) WORKDIR ENV(empty) LABEL(empty) EXPOSE(empty) HEALTHCHECK(empty) ENTRYPOINT(empty) CMD(empty)"
	if strings.Join(pattern, " ") != wantPattern {
		t.Errorf("history = %s\nwant      %s", strings.Join(pattern, " "), wantPattern)
	}
	if layersInHistory != len(cfg.RootFS.DiffIDs) {
		t.Errorf("%d history entries with layers, %d diff_ids", layersInHistory, len(cfg.RootFS.DiffIDs))
	}

	// The image runs: its entrypoint under runc over the unpacked rootfs
	// (umoci writes the runtime config; it asks for a terminal, which a test
	// has not).
	specPath := filepath.Join(bundle, "config.json")
	var spec map[string]any
	if err := json.Unmarshal([]byte(run(t, "cat", specPath)), &spec); err != nil {
		t.Fatal(err)
	}
	spec["process"].(map[string]any)["terminal"] = false
	specData, _ := json.Marshal(spec)
	if err := os.WriteFile(specPath, specData, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "runc", "--root", filepath.Join(work, "runc-state"), "run", "--bundle", bundle, "strata-e2e-"+fmt.Sprint(os.Getpid()))
	for _, want := range []string{"args: hello", "greeting: hello from strata", "user: 1000:1000", "cwd: /app", "data: shared data", "version: 1.2.3"} {
		if !strings.Contains(out, want) {
			t.Errorf("running the image: output lacks %q:\n%s", want, out)
		}
	}

	// Rebuild with no change: nothing executes, same digest.
	digest2, md2 := build()
	if digest2 != digest || md2["strata.steps.executed"] != float64(0) {
		t.Errorf("no-change rebuild: digest %s (was %s), executed %v, want 0", digest2, digest, md2["strata.steps.executed"])
	}
	// Touch a copied file (mtime only): still nothing executes.
	run(t, "touch", "-d", "2001-01-01", filepath.Join(ctxDir, "app.conf"))
	digest3, md3 := build()
	if digest3 != digest || md3["strata.steps.executed"] != float64(0) {
		t.Errorf("after touch: digest %s (was %s), executed %v, want 0", digest3, digest, md3["strata.steps.executed"])
	}
	// Change its content: only the steps from that COPY on run (the COPY
	// itself and WORKDIR; the build stage is cached).
	if err := os.WriteFile(filepath.Join(ctxDir, "app.conf"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	digest4, md4 := build()
	if digest4 == digest || md4["strata.steps.executed"] != float64(2) {
		t.Errorf("after change: digest %s (was %s), executed %v, want 2", digest4, digest, md4["strata.steps.executed"])
	}
}
