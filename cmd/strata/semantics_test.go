package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/stratabuild/strata/internal/testregistry"
)

// built is an image built into a local folder and an OCI layout.
type built struct {
	root string
	cfg  *v1.ConfigFile
	res  result
}

func buildLocal(t *testing.T, cache, ctxDir string, args ...string) built {
	t.Helper()
	out := t.TempDir()
	root, oci := filepath.Join(out, "root"), filepath.Join(out, "oci")
	all := append([]string{"build", "--progress=plain", "--cache-dir", cache, "-o", "type=local,dest=" + root, "-o", "type=oci,tar=false,dest=" + oci}, args...)
	r := mustStrata(t, append(all, ctxDir)...)
	idx, err := layout.ImageIndexFromPath(oci)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("layout index: %v, %v", m, err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return built{root: root, cfg: cfg, res: r}
}

// file returns a file's content and stat, or fails.
func (b built) file(t *testing.T, p string) (string, *syscall.Stat_t) {
	t.Helper()
	full := filepath.Join(b.root, p)
	fi, err := os.Lstat(full)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return "", &syscall.Stat_t{}
	}
	var data []byte
	if fi.Mode().IsRegular() {
		data, _ = os.ReadFile(full)
	}
	return string(data), fi.Sys().(*syscall.Stat_t)
}

func (b built) wantContent(t *testing.T, p, want string) {
	t.Helper()
	if got, _ := b.file(t, p); got != want {
		t.Errorf("%s = %q, want %q", p, got, want)
	}
}

func (b built) wantAbsent(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(b.root, p)); err == nil {
		t.Errorf("%s exists, want it absent", p)
	}
}

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(data)), Uid: 7, Gid: 8, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestDockerfileSemantics builds one Dockerfile that exercises many
// instructions and checks the resulting tree and config.
func TestDockerfileSemantics(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
		fmt.Fprint(w, "downloaded\n")
	}))
	defer srv.Close()
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("downloaded\n")))

	df := `ARG GLOBAL=from-global
FROM ` + base + ` AS tools
RUN echo tool > /tool.txt

FROM ` + base + `
ARG GLOBAL
ARG OVERRIDDEN=default
ENV A=1 B=two
ENV A=changed C=${A}
COPY dir /dst/
COPY dir /dst2/
RUN [ "$(stat -c %i /dst/a.txt)" != "$(stat -c %i /dst2/a.txt)" ] && echo distinct > /inodes.txt
RUN rm -r /dst2
COPY dir /dst2/
RUN rm -r /dst2
COPY dir /dst2/
COPY dir/sub/b.txt /single
COPY dir/sub/b.txt /into/
COPY *.md /md/
COPY --chown=app:staff owned.txt /owned/
COPY --chown=1000 owned.txt /owned-uid.txt
ADD archive.tar.gz /unpacked/
COPY archive.tar.gz /not-unpacked/
ADD --checksum=` + sum + ` ` + srv.URL + `/files/remote.txt /remote/
COPY --from=tools /tool.txt /tool.txt
COPY <<EOF /inline.txt
inline $A
EOF
RUN <<EOF
echo "$GLOBAL $OVERRIDDEN $C" > /args.txt
echo second > /heredoc2.txt
EOF
RUN <<EOF
#!/bin/sh
echo shebang > /shebang.txt
EOF
SHELL ["/bin/sh", "-ec"]
RUN echo "$0 $-" | grep -q e && echo shell-ok > /shell.txt
USER app
WORKDIR rel/dir
RUN id -u > uid.txt && pwd > pwd.txt
ENTRYPOINT ["/bin/echo"]
STOPSIGNAL SIGQUIT
VOLUME /data
MAINTAINER someone
`
	ctxDir := writeContext(t, df, map[string]string{
		"dir/a.txt":       "a\n",
		"dir/sub/b.txt":   "b\n",
		"one.md":          "one\n",
		"two.md":          "two\n",
		"owned.txt":       "owned\n",
		"ignored.log":     "nope\n",
		"keep.log":        "kept\n",
		"dir/skip.tmp":    "nope\n",
		".dockerignore":   "*.log\n!keep.log\n**/*.tmp\n",
		"archive.tar.gz":  string(tarGz(t, map[string]string{"x/in-tar.txt": "from tar\n"})),
		"nested/keep.log": "n\n",
	})
	b := buildLocal(t, cache, ctxDir, "--build-arg", "OVERRIDDEN=from-flag")

	b.wantContent(t, "dst/a.txt", "a\n") // directory contents, not the directory
	b.wantContent(t, "dst/sub/b.txt", "b\n")
	b.wantAbsent(t, "dst/dir")
	b.wantAbsent(t, "dst/skip.tmp") // .dockerignore
	// Two COPYs of one directory give files of their own, and a layer
	// made twice in a stage (the same COPY after the same rm) mounts.
	b.wantContent(t, "inodes.txt", "distinct\n")
	b.wantContent(t, "dst2/sub/b.txt", "b\n")
	b.wantContent(t, "single", "b\n")
	b.wantContent(t, "into/b.txt", "b\n")
	b.wantContent(t, "md/one.md", "one\n")
	b.wantContent(t, "md/two.md", "two\n")
	if _, st := b.file(t, "owned/owned.txt"); st.Uid != 1000 || st.Gid != 50 {
		t.Errorf("--chown=app:staff gave %d:%d, want 1000:50", st.Uid, st.Gid)
	}
	if _, st := b.file(t, "owned-uid.txt"); st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("--chown=1000 gave %d:%d, want 1000:1000", st.Uid, st.Gid)
	}
	if _, st := b.file(t, "dst/a.txt"); st.Uid != 0 || st.Gid != 0 || st.Mode&0o777 != 0o644 {
		t.Errorf("COPY from context: %d:%d %o, want 0:0 644", st.Uid, st.Gid, st.Mode&0o777)
	}
	b.wantContent(t, "unpacked/x/in-tar.txt", "from tar\n")
	if _, st := b.file(t, "unpacked/x/in-tar.txt"); st.Uid != 7 || st.Gid != 8 || st.Mode&0o777 != 0o640 {
		t.Errorf("ADD tar entry: %d:%d %o, want 7:8 640", st.Uid, st.Gid, st.Mode&0o777)
	}
	if data, _ := b.file(t, "not-unpacked/archive.tar.gz"); !strings.HasPrefix(data, "\x1f\x8b") {
		t.Errorf("COPY of an archive must not extract it")
	}
	b.wantContent(t, "remote/remote.txt", "downloaded\n")
	if _, st := b.file(t, "remote/remote.txt"); st.Mode&0o777 != 0o600 || st.Mtim.Sec != 1445412480 {
		t.Errorf("ADD URL: mode %o mtime %d, want 600 and Last-Modified", st.Mode&0o777, st.Mtim.Sec)
	}
	b.wantContent(t, "tool.txt", "tool\n")
	b.wantContent(t, "inline.txt", "inline changed\n")
	b.wantContent(t, "args.txt", "from-global from-flag 1\n")
	b.wantContent(t, "heredoc2.txt", "second\n")
	b.wantContent(t, "shebang.txt", "shebang\n")
	b.wantContent(t, "shell.txt", "shell-ok\n")
	b.wantContent(t, "rel/dir/uid.txt", "1000\n")
	b.wantContent(t, "rel/dir/pwd.txt", "/rel/dir\n")
	if _, st := b.file(t, "rel/dir"); st.Uid != 1000 {
		t.Errorf("WORKDIR after USER app: owner %d, want 1000", st.Uid)
	}
	for _, p := range []string{"ignored.log", "nested/keep.log", "dev/pipes"} {
		b.wantAbsent(t, p)
	}

	c := b.cfg.Config
	if got := strings.Join(c.Env, " "); got != "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin A=changed B=two C=1" {
		t.Errorf("Env = %s", got)
	}
	if fmt.Sprint(c.Entrypoint) != "[/bin/echo]" || c.Cmd != nil {
		t.Errorf("ENTRYPOINT must reset the base's CMD: Entrypoint %q Cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.WorkingDir != "/rel/dir" || c.User != "app" || c.StopSignal != "SIGQUIT" || b.cfg.Author != "someone" {
		t.Errorf("WorkingDir %q User %q StopSignal %q Author %q", c.WorkingDir, c.User, c.StopSignal, b.cfg.Author)
	}
	if _, ok := c.Volumes["/data"]; !ok || fmt.Sprint(c.Shell) != "[/bin/sh -ec]" {
		t.Errorf("Volumes %v Shell %v", c.Volumes, c.Shell)
	}
	var runHist string
	for _, h := range b.cfg.History {
		if strings.Contains(h.CreatedBy, "args.txt") {
			runHist = h.CreatedBy
		}
	}
	if !strings.HasPrefix(runHist, "RUN |2 GLOBAL=from-global OVERRIDDEN=from-flag /bin/sh -c ") || !strings.HasSuffix(runHist, " # buildkit") {
		t.Errorf("RUN history = %q", runHist)
	}
}

// TestOnbuild: triggers recorded in a parent image run in the child build,
// before the child's own instructions, and are not inherited further.
func TestOnbuild(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	parent := reg + "/strata/onbuild:1"
	mustStrata(t, "build", "--cache-dir", cache, "-t", parent, "--push",
		writeContext(t, "FROM "+base+"\nONBUILD COPY trigger.txt /from-trigger.txt\nONBUILD RUN echo ran > /onbuild-ran\n", map[string]string{}))
	child := buildLocal(t, cache, writeContext(t, "FROM "+parent+"\nRUN cat /onbuild-ran > /child-saw\n",
		map[string]string{"trigger.txt": "trig\n"}))
	child.wantContent(t, "from-trigger.txt", "trig\n")
	child.wantContent(t, "child-saw", "ran\n")
	if len(child.cfg.Config.OnBuild) != 0 {
		t.Errorf("OnBuild = %q, want triggers cleared in the child", child.cfg.Config.OnBuild)
	}
}

// TestAddChecksumMismatch fails the build with both digests named.
func TestAddChecksumMismatch(t *testing.T) {
	requireE2E(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	defer srv.Close()
	bad := "sha256:" + strings.Repeat("0", 64)
	dir := writeContext(t, "FROM scratch\nADD --checksum="+bad+" "+srv.URL+"/f /f\n", map[string]string{})
	r := strata(t, "build", "--cache-dir", t.TempDir(), dir)
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("exit %d stderr:\n%s", r.code, r.stderr)
	}
}

// TestStagesRunInParallel: two independent stages meet over the host
// loopback (RUN uses the host network by default), one listening, one
// sending and waiting for an acknowledgement. Run one after the other, the
// listener would time out.
// TestStagesRunInParallel: independent stages run at once, and a stage
// waits for a stage it copies from only when it reaches that COPY, not
// before its first step (as in BuildKit). The final stage's RUN talks to
// the listener stage's RUN, so either kind of serialisation fails it.
func TestStagesRunInParallel(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	// Below the kernel's ephemeral port range, so no other test's client
	// port can collide with it.
	port := 10000 + os.Getpid()%20000
	df := fmt.Sprintf(`FROM %[1]s AS listener
RUN for i in $(seq 1 6); do timeout 10 nc -l -p %[2]d -e sh -c 'read x; echo "$x" > /got.txt; echo ack'; grep -q hello /got.txt 2>/dev/null && exit 0; done; exit 1
FROM %[1]s
RUN for i in $(seq 1 250); do r=$( (echo hello; sleep 1) | nc 127.0.0.1 %[2]d 2>/dev/null); [ "$r" = ack ] && exit 0; sleep 0.2; done; exit 1
COPY --from=listener /got.txt /got.txt
`, base, port)
	b := buildLocal(t, cache, writeContext(t, df, map[string]string{}), "--no-cache")
	b.wantContent(t, "got.txt", "hello\n")
}
