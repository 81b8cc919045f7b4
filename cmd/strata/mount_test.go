package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testregistry"
)

// Tests of RUN --mount, RUN --security and RUN --network, and of the
// --secret, --ssh and --allow flags.

// buildEnv builds ctxDir into a new local folder with the extra environment
// env and returns it with the result; the build must succeed.
func buildEnv(t *testing.T, env []string, cache, ctxDir string, args ...string) built {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	all := append([]string{"build", "--progress=plain", "--cache-dir", cache, "-o", "type=local,dest=" + root}, args...)
	r := strataIn(t, "", "", env, append(all, ctxDir)...)
	if r.code != 0 {
		t.Fatalf("strata %s: exit %d\nstderr:\n%s", strings.Join(all, " "), r.code, r.stderr)
	}
	return built{root: root, res: r}
}

var stepsRunRE = regexp.MustCompile(`\((\d+) steps run, (\d+) cached\)`)

// stepsRun is how many steps a build executed, from its progress output.
func stepsRun(t *testing.T, r result) int {
	t.Helper()
	m := stepsRunRE.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no step counts in the output:\n%s", r.stderr)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestRunMountCache(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	first := writeContext(t, "FROM "+base+"\nRUN --mount=type=cache,target=/var/cache/app echo first > /var/cache/app/first && echo built > /built\n", map[string]string{})
	b := buildLocal(t, cache, first)
	b.wantContent(t, "built", "built\n")
	b.wantAbsent(t, "var") // neither the cache's content nor its mount point
	if n := len(b.cfg.RootFS.DiffIDs); n != 2 {
		t.Errorf("%d layers, want the base's and the RUN's", n)
	}

	// Another build, other steps: the cache is still there (its id is its
	// target), and a cache with other settings is another cache.
	second := writeContext(t, "FROM "+base+" AS seed\nRUN mkdir -p /seed && echo seeded > /seed/f && chown 1000 /seed\nFROM "+base+`
RUN --mount=type=cache,target=/var/cache/app cat /var/cache/app/first > /seen
RUN --mount=type=cache,target=/s,from=seed,source=/seed cat /s/f > /seeded && stat -c %u /s > /seeded-owner
RUN --mount=type=cache,id=/var/cache/app,target=/elsewhere,ro ls /elsewhere > /ro-ls && (touch /elsewhere/x 2>/dev/null && echo writable || echo read-only) > /ro
RUN --mount=type=cache,id=owned,target=/c,uid=1000,gid=50,mode=0750 stat -c '%u:%g %a' /c > /owned && ls -A /c > /owned-ls
`, map[string]string{})
	b = buildLocal(t, cache, second)
	b.wantContent(t, "seen", "first\n")
	b.wantContent(t, "seeded", "seeded\n") // a new cache starts from from=
	b.wantContent(t, "seeded-owner", "1000\n")
	b.wantContent(t, "ro-ls", "first\n")
	b.wantContent(t, "ro", "read-only\n")
	b.wantContent(t, "owned", "1000:50 750\n")
	b.wantContent(t, "owned-ls", "")
	for _, p := range []string{"var", "elsewhere", "c", "s"} {
		b.wantAbsent(t, p)
	}

	// The cache's content is not part of the step's cache key.
	if r := mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, first); stepsRun(t, r) != 0 {
		t.Errorf("a rebuild ran %d steps, want 0:\n%s", stepsRun(t, r), r.stderr)
	}
}

// TestRunMountCacheSharing: steps in parallel stages take turns on a
// locked cache and get instances of their own of a private one.
func TestRunMountCacheSharing(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	df := fmt.Sprintf(`FROM %[1]s AS a
RUN --mount=type=cache,target=/c,sharing=locked echo a-start >> /c/log; sleep 1; echo a-end >> /c/log
FROM %[1]s AS b
RUN --mount=type=cache,target=/c,sharing=locked echo b-start >> /c/log; sleep 1; echo b-end >> /c/log
FROM %[1]s AS p1
RUN --mount=type=cache,id=p,target=/c,sharing=private touch /c/p1; sleep 2; ls /c > /ls
FROM %[1]s AS p2
RUN --mount=type=cache,id=p,target=/c,sharing=private touch /c/p2; sleep 2; ls /c > /ls
FROM %[1]s
COPY --from=a /etc/passwd /a-done
COPY --from=b /etc/passwd /b-done
COPY --from=p1 /ls /p1-ls
COPY --from=p2 /ls /p2-ls
RUN --mount=type=cache,target=/c,sharing=locked cp /c/log /log
`, base)
	b := buildLocal(t, cache, writeContext(t, df, map[string]string{}))
	log, _ := b.file(t, "log")
	lines := strings.Fields(log)
	if len(lines) != 4 || strings.TrimSuffix(lines[0], "-start") != strings.TrimSuffix(lines[1], "-end") ||
		strings.TrimSuffix(lines[2], "-start") != strings.TrimSuffix(lines[3], "-end") || lines[0] == lines[2] {
		t.Errorf("locked cache log = %q, want one step's start and end, then the other's", lines)
	}
	b.wantContent(t, "p1-ls", "p1\n")
	b.wantContent(t, "p2-ls", "p2\n")
}

func TestRunMountBindAndTmpfs(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	df := fmt.Sprintf(`FROM %[1]s AS tools
RUN mkdir -p /out && echo from-stage > /out/f
FROM %[1]s
RUN --mount=target=/src,source=src cat /src/a.txt /src/sub/b.txt > /ctx.txt && (touch /src/x 2>/dev/null && echo writable || echo read-only) > /ro.txt
RUN --mount=type=bind,from=tools,source=/out,target=/mnt/out cat /mnt/out/f > /stage.txt
RUN --mount=from=tools,source=out/f,target=/one cat /one > /one.txt
RUN --mount=from=%[1]s,source=/etc/group,target=/image-group head -1 /image-group > /image.txt
RUN --mount=source=src,target=/w,rw echo new > /w/new.txt && rm /w/a.txt && ls /w > /rw-ls.txt
RUN --mount=source=src,target=/w ls /w > /rw-after.txt
RUN --mount=from=tools,source=/out,target=/w2,rw echo x > /w2/f && cat /w2/f > /rw-stage.txt
RUN --mount=type=tmpfs,target=/t,size=1m grep ' /t ' /proc/mounts > /tmpfs.txt && echo x > /t/x
`, base)
	ctxDir := writeContext(t, df, map[string]string{"src/a.txt": "a\n", "src/sub/b.txt": "b\n"})
	b := buildLocal(t, cache, ctxDir)
	b.wantContent(t, "ctx.txt", "a\nb\n")
	b.wantContent(t, "ro.txt", "read-only\n")
	b.wantContent(t, "stage.txt", "from-stage\n")
	b.wantContent(t, "one.txt", "from-stage\n")
	b.wantContent(t, "image.txt", "root:x:0:\n")
	b.wantContent(t, "rw-ls.txt", "new.txt\nsub\n")
	b.wantContent(t, "rw-after.txt", "a.txt\nsub\n") // rw writes are thrown away
	b.wantContent(t, "rw-stage.txt", "x\n")
	if got, _ := b.file(t, "tmpfs.txt"); !strings.HasPrefix(got, "tmpfs /t tmpfs ") || !strings.Contains(got, "size=1024k") {
		t.Errorf("tmpfs.txt = %q, want a tmpfs of 1 MiB at /t", got)
	}
	for _, p := range []string{"src", "mnt", "one", "image-group", "w", "w2", "t"} {
		b.wantAbsent(t, p)
	}
	if data, err := os.ReadFile(filepath.Join(ctxDir, "src/a.txt")); err != nil || string(data) != "a\n" {
		t.Errorf("context src/a.txt = %q, %v after an rw mount", data, err)
	}

	// Bound content is part of the key: touching changes nothing, changing
	// the content re-runs the steps that bind it.
	run(t, "touch", "-d", "2001-01-01", filepath.Join(ctxDir, "src/a.txt"))
	if r := mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, ctxDir); stepsRun(t, r) != 0 {
		t.Errorf("after touch: %d steps ran, want 0", stepsRun(t, r))
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "src/a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b = buildLocal(t, cache, ctxDir)
	b.wantContent(t, "ctx.txt", "changed\nb\n")
	if n := stepsRun(t, b.res); n == 0 {
		t.Errorf("after a change: no step ran")
	}

	// Errors name the mount.
	bad := writeContext(t, "FROM "+base+"\nRUN --mount=source=missing,target=/m true\n", map[string]string{})
	if r := strata(t, "build", "--cache-dir", cache, bad); r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, `"missing" not found`) {
		t.Errorf("missing bind source: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	later := writeContext(t, "FROM "+base+"\nRUN --mount=from=later,target=/m true\nFROM "+base+" AS later\n", map[string]string{})
	if r := strata(t, "build", "--cache-dir", cache, later); r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, "--mount=from=later") {
		t.Errorf("mount from a later stage: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// walkBytes calls fn with the content of every regular file below dir.
func walkBytes(t *testing.T, dir string, fn func(path string, data []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(p, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunMountSecret: secrets reach the step as files and variables, and
// nowhere else: every byte strata writes (cache, outputs, metadata,
// stdout and stderr, also of failed builds) is searched for the value.
func TestRunMountSecret(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	newValue := func() string { return "strata-secret-" + rand.Text() }
	value := newValue()
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	df := "FROM " + base + `
RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -c1-64 > /file.sum && stat -c '%a %u:%g' /run/secrets/tok > /file.stat
RUN --mount=type=secret,id=envtok,env=TOKEN,required printf %s "$TOKEN" | sha256sum | cut -c1-64 > /env.sum
RUN --mount=type=secret,id=tok,target=/etc/app/token,mode=0440,uid=1000,gid=50 stat -c '%a %u:%g' /etc/app/token > /custom.stat
RUN --mount=type=secret,id=absent ls /run/secrets > /absent.txt 2>&1 || echo none > /absent.txt
`
	ctxDir := writeContext(t, df, map[string]string{})
	outs := t.TempDir()
	var written []result
	build := func(v string, extra ...string) result {
		t.Helper()
		n := len(written)
		args := []string{"build", "--progress=plain", "--cache-dir", cache,
			"--secret", "id=tok,src=" + secretFile, "--secret", "id=envtok,env=STRATA_TEST_TOKEN",
			"--iidfile", filepath.Join(outs, fmt.Sprint("iid", n)), "--metadata-file", filepath.Join(outs, fmt.Sprint("md", n)),
			"-o", "type=oci,dest=" + filepath.Join(outs, fmt.Sprint("oci", n, ".tar")),
			"-o", "type=local,dest=" + filepath.Join(outs, fmt.Sprint("root", n))}
		r := strataIn(t, "", "", []string{"STRATA_TEST_TOKEN=" + v}, append(append(args, extra...), ctxDir)...)
		written = append(written, r)
		return r
	}
	r := build(value)
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	b := built{root: filepath.Join(outs, "root0")}
	sum := sha256.Sum256([]byte(value))
	b.wantContent(t, "file.sum", hex.EncodeToString(sum[:])+"\n")
	b.wantContent(t, "env.sum", hex.EncodeToString(sum[:])+"\n")
	b.wantContent(t, "file.stat", "400 0:0\n")
	b.wantContent(t, "custom.stat", "440 1000:50\n")
	b.wantContent(t, "absent.txt", "none\n") // an optional secret not given is left out
	b.wantAbsent(t, "run")
	b.wantAbsent(t, "etc/app")

	// The key holds the id, not the value: a new value runs nothing.
	if err := os.WriteFile(secretFile, []byte(newValue()), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := build(newValue()); r.code != 0 || stepsRun(t, r) != 0 {
		t.Errorf("build with new secret values: exit %d, %d steps ran, want 0:\n%s", r.code, stepsRun(t, r), r.stderr)
	}
	if err := os.WriteFile(secretFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}

	// Failing steps with the secret mounted, and a required secret missing.
	failing := writeContext(t, "FROM "+base+"\nRUN --mount=type=secret,id=tok,env=TOKEN test -z \"$TOKEN\"\n", map[string]string{})
	r = strataIn(t, "", "", []string{"STRATA_TEST_TOKEN=" + value}, "build", "--progress=plain", "--cache-dir", cache, "--secret", "id=tok,env=STRATA_TEST_TOKEN", failing)
	written = append(written, r)
	if r.code != 1 || !strings.Contains(r.stderr, "exit code: 1") {
		t.Errorf("failing step: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	required := writeContext(t, "FROM "+base+"\nRUN --mount=type=secret,id=needed,required=true true\n", map[string]string{})
	r = strataIn(t, "", "", []string{"STRATA_TEST_TOKEN=" + value}, "build", "--cache-dir", cache, "--secret", "id=tok,src="+secretFile, required)
	written = append(written, r)
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, `secret "needed" is required`) {
		t.Errorf("missing required secret: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	leaks := 0
	check := func(where string, data []byte) {
		if bytes.Contains(data, []byte(value)) {
			leaks++
			t.Errorf("the secret is in %s", where)
		}
	}
	walkBytes(t, cache, check)
	walkBytes(t, outs, check)
	for i, r := range written {
		check(fmt.Sprint("the stdout of build ", i), []byte(r.stdout))
		check(fmt.Sprint("the stderr of build ", i), []byte(r.stderr))
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), cache) {
		t.Errorf("mounts left under the cache:\n%s", mounts)
	}
	t.Logf("searched the cache, %d builds' outputs and logs: %d leaks", len(written), leaks)
}

func TestSecretAndSSHFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("STRATA_TEST_SECRET_ENV", "v")
	t.Setenv("SSH_AUTH_SOCK", sock)
	tests := []struct {
		secrets, ssh, allow []string
		want                string // %v of the parsed values, or the start of the error
	}{
		{secrets: []string{"id=a,src=" + file, "id=b,env=X", "id=c,type=env,src=Y", "id=d,source=" + file + ",env=Z"},
			want: fmt.Sprintf("map[a:{%[1]s } b:{ X} c:{ Y} d:{ Z}]", file)},
		{secrets: []string{"id=STRATA_TEST_SECRET_ENV", "id=" + file}, want: fmt.Sprintf("map[%[1]s:{%[1]s } STRATA_TEST_SECRET_ENV:{ STRATA_TEST_SECRET_ENV}]", file)},
		{secrets: []string{"src=" + file}, want: "--secret"},
		{secrets: []string{"id=a,src=" + filepath.Join(dir, "missing")}, want: "--secret id=a:"},
		{secrets: []string{"id=a,type=ssh"}, want: "--secret"},
		{secrets: []string{"id=a,bogus=1"}, want: "--secret"},
		{secrets: []string{"id"}, want: "--secret"},
		{ssh: []string{"default", "other=" + sock}, want: fmt.Sprintf("map[default:%[1]s other:%[1]s]", sock)},
		{ssh: []string{"=" + sock}, want: fmt.Sprintf("map[default:%s]", sock)},
		{ssh: []string{"default", "default"}, want: "--ssh default: duplicate"},
		{ssh: []string{"k=" + file}, want: "--ssh k=" + file + ": " + file + " is not an agent socket; key files are not supported yet"},
		{ssh: []string{"k=" + file + "," + file}, want: "--ssh k=" + file + "," + file + ": key files are not supported yet"},
		{ssh: []string{"k=" + filepath.Join(dir, "missing")}, want: "--ssh k="},
		{allow: []string{"security.insecure"}, want: "true"},
		{allow: []string{"network.host,security.insecure"}, want: "true"},
		{allow: []string{"network.host"}, want: "false"},
		{allow: []string{"device"}, want: "--allow device: unknown entitlement"},
	}
	for _, tt := range tests {
		var got any
		var err error
		switch {
		case tt.secrets != nil:
			got, err = parseSecrets(tt.secrets)
		case tt.ssh != nil:
			got, err = parseSSH(tt.ssh)
		default:
			got, err = parseAllow(tt.allow)
		}
		s := fmt.Sprint(got)
		if err != nil {
			s = err.Error()
			if _, ok := err.(usageError); !ok {
				t.Errorf("%v%v%v: error %v is not a usage error", tt.secrets, tt.ssh, tt.allow, err)
			}
		}
		if !strings.HasPrefix(s, tt.want) {
			t.Errorf("%v%v%v = %s, want %s", tt.secrets, tt.ssh, tt.allow, s, tt.want)
		}
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := parseSSH([]string{"default"}); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK is not set") {
		t.Errorf("--ssh default without SSH_AUTH_SOCK: %v", err)
	}
}

// startAgent starts an ssh-agent holding a new key whose comment is
// comment, and returns its socket.
func startAgent(t *testing.T, comment string) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 100 {
			t.Fatal("ssh-agent did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	key := filepath.Join(dir, "key")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key)
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

// withBinary copies a dynamically linked program and the libraries ldd
// lists for it into dir, at their paths, for COPY into a busybox image.
func withBinary(t *testing.T, dir, program string) {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{p}
	for _, f := range strings.Fields(run(t, "ldd", p)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		run(t, "cp", "-L", "--parents", f, dir)
	}
}

func TestRunMountSSH(t *testing.T) {
	requireE2E(t, "runc", "docker-registry", "ssh-agent", "ssh-add", "ssh-keygen", "ldd")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	sock := startAgent(t, "strata-test-key")
	other := startAgent(t, "strata-other-key")

	df := "FROM " + base + `
COPY sshroot/ /
RUN --mount=type=ssh ssh-add -l > /default.txt && echo "$SSH_AUTH_SOCK" > /default-sock.txt
RUN --mount=type=ssh,id=other,target=/agent.sock,required ssh-add -l > /other.txt && echo "$SSH_AUTH_SOCK" > /other-sock.txt
RUN --mount=type=ssh,id=absent (ssh-add -l || echo none) > /absent.txt 2>&1
`
	ctxDir := writeContext(t, df, map[string]string{})
	withBinary(t, filepath.Join(ctxDir, "sshroot"), "ssh-add")
	b := buildEnv(t, []string{"SSH_AUTH_SOCK=" + sock}, cache, ctxDir, "--ssh", "default", "--ssh", "other="+other)
	if got, _ := b.file(t, "default.txt"); !strings.Contains(got, "strata-test-key (ED25519)") {
		t.Errorf("ssh-add -l in the step = %q, want the agent's key", got)
	}
	b.wantContent(t, "default-sock.txt", "/run/buildkit/ssh_agent.0\n")
	if got, _ := b.file(t, "other.txt"); !strings.Contains(got, "strata-other-key (ED25519)") {
		t.Errorf("ssh-add -l with id=other = %q, want the other agent's key", got)
	}
	b.wantContent(t, "other-sock.txt", "/agent.sock\n")
	if got, _ := b.file(t, "absent.txt"); !strings.Contains(got, "none") {
		t.Errorf("an optional agent not given: %q, want no agent", got)
	}
	for _, p := range []string{"run", "agent.sock"} {
		b.wantAbsent(t, p)
	}

	required := writeContext(t, "FROM "+base+"\nRUN --mount=type=ssh,id=nope,required true\n", map[string]string{})
	if r := strata(t, "build", "--cache-dir", cache, required); r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, `ssh agent "nope" is required`) {
		t.Errorf("missing required agent: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	key := filepath.Join(t.TempDir(), "id_ed25519")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	if r := strata(t, "build", "--cache-dir", cache, "--ssh", "default="+key, required); r.code != 2 || !strings.Contains(r.stderr, "not supported yet") {
		t.Errorf("--ssh with a key file: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestRunSecurityAndNetwork: RUN --security=insecure needs --allow
// security.insecure and then runs with every capability; RUN --network
// still works.
func TestRunSecurityAndNetwork(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	df := "FROM " + base + `
RUN --security=insecure mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && grep CapEff /proc/self/status > /caps.txt
RUN grep CapEff /proc/self/status > /default-caps.txt
RUN --network=none grep -c : /proc/net/dev > /ifaces-none.txt
RUN --network=host ip -o link | grep -c . > /ifaces-host.txt
`
	ctxDir := writeContext(t, df, map[string]string{})
	r := strata(t, "build", "--cache-dir", cache, ctxDir)
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, "--allow security.insecure") {
		t.Errorf("insecure without --allow: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := strata(t, "build", "--cache-dir", cache, "--allow", "bogus", ctxDir); r.code != 2 {
		t.Errorf("--allow bogus: exit %d, want 2", r.code)
	}
	b := buildLocal(t, cache, ctxDir, "--allow", "security.insecure")
	capEff := func(p string) uint64 {
		s, _ := b.file(t, p)
		n, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(s, "CapEff:")), 16, 64)
		if err != nil {
			t.Errorf("%s = %q", p, s)
		}
		return n
	}
	const sysAdmin = 1 << 21
	if c := capEff("caps.txt"); c&sysAdmin == 0 {
		t.Errorf("insecure step capabilities %x, want CAP_SYS_ADMIN", c)
	}
	if c := capEff("default-caps.txt"); c != 0xa80425fb {
		t.Errorf("default step capabilities %x, want Docker's a80425fb", c)
	}
	b.wantContent(t, "ifaces-none.txt", "1\n") // loopback only
	if got, _ := b.file(t, "ifaces-host.txt"); got == "1\n" || got == "" {
		t.Errorf("--network=host sees %q interfaces, want the host's", got)
	}
}
