package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabuild/strata/internal/testregistry"
)

// writeContext makes a build context with a Dockerfile and files.
func writeContext(t *testing.T, dockerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["Dockerfile"] = dockerfile
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOutputs(t *testing.T) {
	requireE2E(t, "skopeo")
	cache := t.TempDir()
	ctxDir := writeContext(t, "FROM scratch\nCOPY hello.txt /greet/\nCOPY --chmod=0700 run.sh /run.sh\nCMD [\"/run.sh\"]\n",
		map[string]string{"hello.txt": "hello\n", "run.sh": "#!/bin/sh\n"})
	out := t.TempDir()
	ociTar, dockerTar, local := filepath.Join(out, "x.tar"), filepath.Join(out, "y.tar"), filepath.Join(out, "local")
	r := mustStrata(t, "build", "--cache-dir", cache, "-t", "example.com/strata/out:v1",
		"--output", "type=oci,dest="+ociTar, "-o", "type=docker,dest="+dockerTar, "-o", "type=local,dest="+local, ctxDir)
	digest := strings.TrimSpace(r.stdout)
	if !digestRE.MatchString(digest) {
		t.Fatalf("stdout = %q, want a digest", r.stdout)
	}
	if got := run(t, "skopeo", "inspect", "oci-archive:"+ociTar); !strings.Contains(got, digest) {
		t.Errorf("skopeo inspect oci-archive: no %s in\n%s", digest, got)
	}
	if got := run(t, "skopeo", "inspect", "docker-archive:"+dockerTar); !strings.Contains(got, `"Cmd"`) && !strings.Contains(got, "Layers") {
		t.Errorf("skopeo inspect docker-archive:\n%s", got)
	}
	data, err := os.ReadFile(filepath.Join(local, "greet", "hello.txt"))
	if err != nil || string(data) != "hello\n" {
		t.Errorf("local greet/hello.txt = %q, %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(local, "run.sh")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("local run.sh: %v %v", fi, err)
	}
	// type=tar to stdout is the filesystem, and stdout carries nothing else.
	cmd := exec.Command(strataBin(t), "build", "--cache-dir", cache, "-o", "-", ctxDir)
	tarData, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(out, "fs.tar")
	if err := os.WriteFile(tf, tarData, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(t, "tar", "tf", tf); !strings.Contains(got, "greet/hello.txt") || !strings.Contains(got, "run.sh") {
		t.Errorf("tar output lists:\n%s", got)
	}
}

func TestBuildErrors(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	tests := []struct {
		name       string
		dockerfile string
		args       []string
		code       int
		want       []string
	}{
		{"unknown instruction", "FROM scratch\nRUNN echo\n", nil, 1,
			[]string{"Dockerfile:2:", "unknown instruction: RUNN", "did you mean RUN?"}},
		{"unterminated heredoc", "FROM scratch\nRUN <<EOF\necho hi\n", nil, 1,
			[]string{"Dockerfile:2:", "unterminated heredoc"}},
		{"unknown stage", "FROM " + base + " AS build\nFROM " + base + "\nCOPY --from=biuld /x /x\n", nil, 1,
			[]string{"Dockerfile:3:", `no stage named "biuld" (stages: build)`}},
		{"missing base image", "FROM " + reg + "/no/such:image\nRUN true\n", nil, 1,
			[]string{"Dockerfile:1:", reg + "/no/such:image", "not found"}},
		{"failing RUN", "FROM " + base + "\nRUN for i in $(seq 30); do echo line $i; done; echo to stderr >&2; exit 7\n", nil, 1,
			[]string{"Dockerfile:2: [stage-0 2/2] RUN for i", "exit code: 7", "last lines of stdout:\n  line 21", "line 30", "last lines of stderr:\n  to stderr"}},
		{"unreachable registry", "FROM 127.0.0.1:1/x:y\n", nil, 1,
			[]string{"Dockerfile:1:", "127.0.0.1:1"}},
		{"unreachable registry on push", "FROM scratch\n", []string{"-t", "127.0.0.1:1/x:y", "--push"}, 1,
			[]string{"127.0.0.1:1"}},
		// Each ENV doubles A: line 19 would make it 2 MiB, line 32 16 GiB.
		{"runaway ENV expansion", "FROM scratch\nENV A=0123456789abcdef\n" + strings.Repeat("ENV A=$A$A\n", 30), nil, 1,
			[]string{"Dockerfile:19:", "longer than 1 MiB"}},
		{"missing COPY source", "FROM scratch\nCOPY nothere /x\n", nil, 1,
			[]string{"Dockerfile:2:", `"nothere" not found`}},
		{"bad flag", "FROM scratch\n", []string{"--progress=loud"}, 2, []string{"--progress"}},
		{"bad output", "FROM scratch\n", []string{"-o", "type=floppy"}, 2, []string{"unknown type"}},
		{"two outputs on stdout", "FROM scratch\n", []string{"-o", "-", "-o", "type=oci,dest=-"}, 2, []string{"only one --output can write to stdout"}},
		{"bad tag", "FROM scratch\n", []string{"-t", "UPPER/Bad::tag", "--push"}, 2, []string{`--tag "UPPER/Bad::tag"`}},
		{"local output into a non-empty folder", "FROM scratch\n", []string{"-o", "type=local,dest=."}, 2, []string{"is not empty"}},
		{"unknown target", "FROM scratch AS a\n", []string{"--target", "b"}, 1, []string{`target stage "b" could not be found`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeContext(t, tt.dockerfile, map[string]string{})
			args := append([]string{"build", "--cache-dir", cache}, tt.args...)
			r := strata(t, append(args, dir)...)
			if r.code != tt.code {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", r.stdout)
			}
		})
	}
}

// TestMissingRuntime: a Dockerfile with RUN names runc and how to install
// it; one without RUN builds without any runtime.
func TestMissingRuntime(t *testing.T) {
	requireE2E(t)
	cache := t.TempDir()
	dir := writeContext(t, "FROM scratch\nCOPY a /a\nRUN true\n", map[string]string{"a": "a"})
	r := strata(t, "build", "--cache-dir", cache, "--runtime", "runc-not-installed", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "runc-not-installed") || !strings.Contains(r.stderr, "apt-get install runc") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	dir = writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": "a"})
	mustStrata(t, "build", "--cache-dir", cache, "--runtime", "runc-not-installed", dir)
}

// TestZstdLayers: --compression=zstd writes zstd layers with the OCI zstd
// media type, which skopeo reads back.
func TestZstdLayers(t *testing.T) {
	requireE2E(t, "skopeo")
	dir := writeContext(t, "FROM scratch\nCOPY a /a\n", map[string]string{"a": strings.Repeat("zstd ", 1000)})
	out := filepath.Join(t.TempDir(), "z.tar")
	mustStrata(t, "build", "--cache-dir", t.TempDir(), "--compression", "zstd", "-o", "type=oci,dest="+out, dir)
	raw := run(t, "skopeo", "inspect", "--raw", "oci-archive:"+out)
	if !strings.Contains(raw, `"application/vnd.oci.image.layer.v1.tar+zstd"`) {
		t.Errorf("manifest has no zstd layer:\n%s", raw)
	}
	local := filepath.Join(t.TempDir(), "root")
	run(t, "skopeo", "copy", "oci-archive:"+out, "dir:"+local)
	if r := strata(t, "build", "--compression", "lz4", dir); r.code != 2 || !strings.Contains(r.stderr, "--compression") {
		t.Errorf("--compression lz4: exit %d, %s", r.code, r.stderr)
	}
}
