package main

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testregistry"
)

// These tests build with COPY and ADD features and named build contexts
// and check the resulting tree: paths, contents, modes and owners.

// wantMode checks a path's permission bits and owner.
func (b built) wantMode(t *testing.T, p string, mode os.FileMode, uid, gid uint32) {
	t.Helper()
	_, st := b.file(t, p)
	if got := os.FileMode(st.Mode & 0o7777); got != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %o owner %d:%d, want %o %d:%d", p, got, st.Uid, st.Gid, mode, uid, gid)
	}
}

func TestCopyParents(t *testing.T) {
	requireE2E(t)
	cache := t.TempDir()
	df := `FROM scratch AS first
COPY --parents a/b/c.txt /p1/
COPY --parents a/./b/c.txt /p2/
COPY --parents */*.md /p3/
COPY --parents x/./**/*.md /p4/
COPY --parents --chown=1000:1000 a/b /p5/
COPY --parents --exclude=**/d.txt a /p6/
COPY --parents a/b/c.txt x/top.md /p7/
FROM scratch
COPY --from=first --parents /p1/./a/b/c.txt /p8/
COPY --from=first --parents p4/./**/z.md /p9/
COPY --from=first / /
`
	ctxDir := writeContext(t, df, map[string]string{
		"a/b/c.txt": "c\n",
		"a/d.txt":   "d\n",
		"a/e.txt":   "e\n",
		"x/top.md":  "top\n",
		"x/y/z.md":  "z\n",
	})
	for p, m := range map[string]os.FileMode{"a": 0o700, "a/b": 0o750} {
		if err := os.Chmod(filepath.Join(ctxDir, p), m); err != nil {
			t.Fatal(err)
		}
	}
	b := buildLocal(t, cache, ctxDir)
	b.wantContent(t, "p1/a/b/c.txt", "c\n")
	// The directories leading to a match are copied with their metadata.
	b.wantMode(t, "p1/a", 0o700, 0, 0)
	b.wantMode(t, "p1/a/b", 0o750, 0, 0)
	b.wantAbsent(t, "p1/a/d.txt")
	b.wantContent(t, "p2/b/c.txt", "c\n") // "/./" is the pivot
	b.wantAbsent(t, "p2/a")
	b.wantContent(t, "p3/x/top.md", "top\n")
	b.wantAbsent(t, "p3/x/y")
	b.wantContent(t, "p4/top.md", "top\n")
	b.wantContent(t, "p4/y/z.md", "z\n")
	b.wantMode(t, "p5/a/b/c.txt", 0o644, 1000, 1000)
	b.wantMode(t, "p5/a", 0o700, 1000, 1000)
	b.wantContent(t, "p6/a/e.txt", "e\n")
	b.wantAbsent(t, "p6/a/d.txt")
	b.wantContent(t, "p7/a/b/c.txt", "c\n")
	b.wantContent(t, "p7/x/top.md", "top\n")
	b.wantContent(t, "p8/a/b/c.txt", "c\n") // --from, with a pivot
	b.wantContent(t, "p9/y/z.md", "z\n")
	b.wantAbsent(t, "p9/top.md")

	// A path without wildcards must exist; a pivot must have something
	// after it (BuildKit fails on "a/./" and "." too).
	for df, want := range map[string]string{
		"FROM scratch\nCOPY --parents a/missing.txt /p/\n": `"a/missing.txt" not found`,
		"FROM scratch\nCOPY --parents a/./missing/ /p/\n":  `"a/missing" not found`,
		"FROM scratch\nCOPY --parents a/./ /p/\n":          "leave out --parents",
	} {
		dir := writeContext(t, df, map[string]string{"a/b.txt": "b\n"})
		r := strata(t, "build", "--progress=plain", "--cache-dir", cache, dir)
		if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2") || !strings.Contains(r.stderr, want) {
			t.Errorf("%q: exit %d, want %q in stderr:\n%s", df, r.code, want, r.stderr)
		}
	}
	// A wildcard that matches nothing is no error, as in BuildKit.
	buildLocal(t, cache, writeContext(t, "FROM scratch\nCOPY --parents a/*.none /p/\n", map[string]string{"a/b.txt": "b\n"}))
}

func TestCopyExclude(t *testing.T) {
	requireE2E(t)
	cache := t.TempDir()
	df := `FROM scratch AS first
COPY --exclude=*.txt dir1 /e1/
COPY --exclude=sub dir2 /e2/
COPY --exclude=*.txt dir* /e3/
COPY --exclude=*.txt --exclude=!keep.txt dir1 /e4/
ADD --exclude=*.png dir1 /e5/
FROM scratch
COPY --from=first --exclude=*.png /e1 /e6/
COPY --from=first --exclude=sub/** /e2 /e7/
`
	files := map[string]string{
		"dir1/a.png":     "png\n",
		"dir1/b.txt":     "b\n",
		"dir1/keep.txt":  "keep\n",
		"dir2/c.txt":     "c\n",
		"dir2/sub/d.txt": "d\n",
	}
	ctxDir := writeContext(t, df, files)
	b := buildLocal(t, cache, ctxDir, "--target", "first")
	b.wantContent(t, "e1/a.png", "png\n")
	b.wantAbsent(t, "e1/b.txt")
	b.wantAbsent(t, "e1/keep.txt")
	b.wantContent(t, "e2/c.txt", "c\n")
	b.wantAbsent(t, "e2/sub")
	// Patterns match below each copied source, from its top: *.txt is
	// not sub/d.txt.
	b.wantContent(t, "e3/a.png", "png\n")
	b.wantAbsent(t, "e3/b.txt")
	b.wantAbsent(t, "e3/c.txt")
	b.wantContent(t, "e3/sub/d.txt", "d\n")
	b.wantContent(t, "e4/keep.txt", "keep\n")
	b.wantAbsent(t, "e4/b.txt")
	b.wantAbsent(t, "e5/a.png")
	b.wantContent(t, "e5/b.txt", "b\n")

	b2 := buildLocal(t, cache, ctxDir)
	if entries, err := os.ReadDir(filepath.Join(b2.root, "e6")); err != nil || len(entries) != 0 {
		t.Errorf("COPY --from --exclude: e6 has %v (%v), want an empty directory", entries, err)
	}
	b2.wantContent(t, "e7/c.txt", "c\n")
	b2.wantAbsent(t, "e7/sub/d.txt")

	// An excluded file can change without a rebuild of the step.
	if err := os.WriteFile(filepath.Join(ctxDir, "dir1/b.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b3 := buildLocal(t, cache, ctxDir, "--target", "first")
	if n := stepsRun(t, b3.res); n != 1 { // e3 has dir2, and only ADD e5 copies b.txt
		t.Errorf("after changing an excluded file: %d steps run, want 1 (ADD e5)\n%s", n, b3.res.stderr)
	}
}

func TestCopyLink(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	df := func(marker string) string {
		return `FROM ` + base + `
RUN mkdir -p /app /data && chown 1000:1000 /app && chmod 0700 /app && ln -s /data /linked && echo ` + marker + ` > /marker
COPY --link f.txt /app/sub/
COPY --link --chown=1000 f.txt /new/dir/
COPY f.txt /app/plain.txt
COPY --link f.txt /linked/f.txt
COPY --link --chmod=0600 f.txt /app/chmod.txt
`
	}
	ctxDir := writeContext(t, df("one"), map[string]string{"f.txt": "f\n"})
	b := buildLocal(t, cache, ctxDir)
	b.wantContent(t, "app/sub/f.txt", "f\n")
	// The linked layer's parent directories are made afresh (0755,
	// root, or the --chown owner) and replace the base's metadata, as
	// BuildKit's --link does.
	b.wantMode(t, "app", 0o755, 0, 0)
	b.wantMode(t, "app/sub", 0o755, 0, 0)
	b.wantMode(t, "new", 0o755, 1000, 1000)
	b.wantMode(t, "new/dir/f.txt", 0o644, 1000, 1000)
	b.wantContent(t, "app/plain.txt", "f\n")
	// A symlink in the destination is not followed: the layer has a real
	// directory there.
	if fi, err := os.Lstat(filepath.Join(b.root, "linked")); err != nil || !fi.IsDir() {
		t.Errorf("/linked: %v, %v; want a directory replacing the symlink", fi, err)
	}
	b.wantContent(t, "linked/f.txt", "f\n")
	b.wantAbsent(t, "data/f.txt")
	// With --chmod BuildKit ignores --link.
	b.wantMode(t, "app/chmod.txt", 0o600, 0, 0)

	// The linked steps do not depend on the layers below them.
	ctxDir2 := writeContext(t, df("two"), map[string]string{"f.txt": "f\n"})
	b2 := buildLocal(t, cache, ctxDir2)
	if n := stepsRun(t, b2.res); n != 3 { // RUN, COPY (not linked), COPY --chmod
		t.Errorf("after changing the RUN below: %d steps run, want 3\n%s", n, b2.res.stderr)
	}
	b2.wantContent(t, "marker", "two\n")
	b2.wantContent(t, "app/sub/f.txt", "f\n")

	// Names cannot be resolved in an empty filesystem.
	r := strata(t, "build", "--cache-dir", cache, writeContext(t, "FROM "+base+"\nCOPY --link --chown=app f.txt /f\n", map[string]string{"f.txt": "f\n"}))
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2") || !strings.Contains(r.stderr, "use numeric uid[:gid] instead") {
		t.Errorf("COPY --link --chown=app: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestAddUnpack(t *testing.T) {
	requireE2E(t)
	archive := tarGz(t, map[string]string{"in/x.txt": "x\n"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(archive) }))
	defer srv.Close()
	sum512 := fmt.Sprintf("sha512:%x", sha512.Sum512(archive))
	df := `FROM scratch
ADD a.tar.gz /u1/
ADD --unpack=false a.tar.gz /u2/
ADD ` + srv.URL + `/r.tar.gz /u3/
ADD --unpack=true ` + srv.URL + `/r.tar.gz /u4/
ADD --unpack=true --checksum=` + sum512 + ` ` + srv.URL + `/r.tar.gz /u5/
`
	b := buildLocal(t, t.TempDir(), writeContext(t, df, map[string]string{"a.tar.gz": string(archive)}))
	b.wantContent(t, "u1/in/x.txt", "x\n")
	b.wantMode(t, "u1/in/x.txt", 0o640, 7, 8) // the entries' owners
	b.wantContent(t, "u2/a.tar.gz", string(archive))
	b.wantContent(t, "u3/r.tar.gz", string(archive)) // URLs are not unpacked by default
	b.wantMode(t, "u3/r.tar.gz", 0o600, 0, 0)
	b.wantContent(t, "u4/in/x.txt", "x\n")
	b.wantContent(t, "u5/in/x.txt", "x\n")

	for _, tc := range []struct{ df, want string }{
		{"FROM scratch\nADD --checksum=sha256:" + strings.Repeat("0", 64) + " a.tar.gz /\n", "checksum requires HTTP(S) or Git sources"},
		{"FROM scratch\nCOPY " + srv.URL + "/r.tar.gz /\n", "source can't be a URL for COPY"},
		{"FROM scratch\nADD --checksum=md5:00 " + srv.URL + "/r.tar.gz /\n", "unsupported digest algorithm"},
	} {
		r := strata(t, "build", "--cache-dir", t.TempDir(), writeContext(t, tc.df, map[string]string{"a.tar.gz": "x"}))
		if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, want %q in stderr:\n%s", tc.df, r.code, tc.want, r.stderr)
		}
	}
}

// gitRepo makes a repository served over git's smart HTTP protocol (git
// http-backend as a CGI program) on 127.0.0.1 and returns its URL and the
// commits: main (c1, tagged v1 with an annotated tag, then c2) and dev
// (c1, then c3).
func gitRepo(t *testing.T) (string, map[string]string) {
	t.Helper()
	gitExec, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	repo := filepath.Join(root, "repo.git")
	env := append(os.Environ(), "HOME="+root, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	git := func(date string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, data string, mode os.FileMode) {
		p := filepath.Join(repo, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(repo, 0o755)
	const d1, d2 = "2020-01-02T03:04:05Z", "2021-01-02T03:04:05Z"
	git(d1, "init", "-q", "-b", "main")
	write("a.txt", "a\n", 0o644)
	write("exe.sh", "#!/bin/sh\n", 0o755)
	write("sub/s.txt", "s\n", 0o644)
	if err := os.Symlink("a.txt", filepath.Join(repo, "link")); err != nil {
		t.Fatal(err)
	}
	git(d1, "add", "-A")
	git(d1, "commit", "-q", "-m", "c1")
	shas := map[string]string{"c1": git(d1, "rev-parse", "HEAD")}
	git(d1, "tag", "-a", "-m", "v1", "v1")
	shas["v1"] = git(d1, "rev-parse", "v1")
	git(d1, "checkout", "-q", "-b", "dev")
	write("dev.txt", "dev\n", 0o644)
	git(d2, "add", "-A")
	git(d2, "commit", "-q", "-m", "c3")
	shas["c3"] = git(d2, "rev-parse", "HEAD")
	git(d2, "checkout", "-q", "main")
	write("b.txt", "b\n", 0o644)
	git(d2, "add", "-A")
	git(d2, "commit", "-q", "-m", "c2")
	shas["c2"] = git(d2, "rev-parse", "HEAD")

	srv := httptest.NewServer(&cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(gitExec)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	})
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git", shas
}

func TestAddGit(t *testing.T) {
	requireE2E(t)
	url, shas := gitRepo(t)
	cache := t.TempDir()
	start := time.Now().Add(-time.Minute)
	df := `FROM scratch
ADD ` + url + ` /g1/
ADD ` + url + `#v1 /g2
ADD ` + url + `#main:sub /g3/
ADD --keep-git-dir=true ` + url + `#dev /g4/
ADD --checksum=` + shas["c2"][:12] + ` ` + url + ` /g5/
ADD ` + url + `?mtime=commit#v1 /g6/
ADD --chown=1000:1000 ` + url + `#refs/tags/v1 /g7/
ADD --exclude=*.sh ` + url + `#` + shas["c1"] + ` /g8/
`
	ctxDir := writeContext(t, df, map[string]string{})
	b := buildLocal(t, cache, ctxDir)
	b.wantContent(t, "g1/a.txt", "a\n")
	b.wantContent(t, "g1/b.txt", "b\n")
	b.wantContent(t, "g1/sub/s.txt", "s\n")
	b.wantMode(t, "g1/a.txt", 0o644, 0, 0)
	b.wantMode(t, "g1/exe.sh", 0o755, 0, 0)
	b.wantMode(t, "g1/sub", 0o755, 0, 0)
	if target, err := os.Readlink(filepath.Join(b.root, "g1/link")); err != nil || target != "a.txt" {
		t.Errorf("g1/link -> %q, %v; want a.txt", target, err)
	}
	b.wantAbsent(t, "g1/.git")
	// Files have the time of the checkout, as in BuildKit.
	if _, st := b.file(t, "g1/a.txt"); time.Unix(st.Mtim.Unix()).Before(start) {
		t.Errorf("g1/a.txt mtime %v, want the checkout's time", time.Unix(st.Mtim.Unix()))
	}
	b.wantContent(t, "g2/a.txt", "a\n") // the annotated tag
	b.wantAbsent(t, "g2/b.txt")
	b.wantContent(t, "g3/s.txt", "s\n") // the subdirectory only
	b.wantAbsent(t, "g3/a.txt")
	b.wantContent(t, "g4/dev.txt", "dev\n")
	b.wantContent(t, "g4/.git/HEAD", shas["c3"]+"\n") // a detached HEAD
	if cfg, _ := b.file(t, "g4/.git/config"); !strings.Contains(cfg, "url = "+url) {
		t.Errorf("g4/.git/config has no origin %s:\n%s", url, cfg)
	}
	if ref, _ := b.file(t, "g4/.git/refs/heads/dev"); ref != shas["c3"]+"\n" {
		if packed, _ := os.ReadFile(filepath.Join(b.root, "g4/.git/packed-refs")); !strings.Contains(string(packed), shas["c3"]+" refs/heads/dev") {
			t.Errorf("g4/.git lacks refs/heads/dev at %s", shas["c3"])
		}
	}
	b.wantContent(t, "g5/b.txt", "b\n")
	if _, st := b.file(t, "g6/a.txt"); st.Mtim.Sec != time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Unix() {
		t.Errorf("?mtime=commit: g6/a.txt mtime %d, want the commit's time", st.Mtim.Sec)
	}
	b.wantMode(t, "g7/a.txt", 0o644, 1000, 1000)
	b.wantAbsent(t, "g8/exe.sh")
	b.wantContent(t, "g8/sub/s.txt", "s\n")
	b.wantAbsent(t, "g8/b.txt")

	// Nothing changed in the repository: every step is cached.
	if n := stepsRun(t, buildLocal(t, cache, ctxDir).res); n != 0 {
		t.Errorf("rebuild: %d steps run, want 0", n)
	}

	for _, tc := range []struct{ df, want string }{
		{"ADD " + url + "#nope /x/", "does not contain ref nope"},
		{"ADD --checksum=0000 " + url + " /x/", "expected checksum to match 0000, got " + shas["c2"]},
		{"ADD --checksum=sha256:00 " + url + " /x/", "expected hex commit hash"},
		{"COPY " + url + " /x/", "source can't be a git ref for COPY"},
		{"ADD --keep-git-dir=false " + url + "?keep-git-dir=true /x/", "inconsistent keep-git-dir configuration"},
		{"ADD " + url + "#main:nope /x/", "invalid subdir nope"},
		{"ADD " + url + "?bogus=1 /x/", `unexpected query "bogus"`},
	} {
		r := strata(t, "build", "--cache-dir", cache, writeContext(t, "FROM scratch\n"+tc.df+"\n", map[string]string{}))
		if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, want %q in stderr:\n%s", tc.df, r.code, tc.want, r.stderr)
		}
	}
}

func TestNamedContexts(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	gitURL, _ := gitRepo(t)

	extra := t.TempDir()
	for name, data := range map[string]string{"x.txt": "x\n", "skip.log": "no\n", "sub/y.txt": "y\n", ".dockerignore": "*.log\n"} {
		os.MkdirAll(filepath.Join(extra, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(extra, name), []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	df := `FROM ` + base + ` AS tools
RUN exit 1
FROM extra AS fromdir
FROM alpine:3.20 AS aliased
RUN echo aliased > /aliased
FROM base
COPY --from=extra . /extra/
COPY --from=tools /x.txt /tools-x.txt
COPY --from=fromdir /sub/y.txt /fromdir-y.txt
COPY --from=aliased /aliased /aliased
COPY --from=src dev.txt /git-dev.txt
COPY --from=layout /bin/busybox /layout-busybox
RUN --mount=from=extra,target=/m cat /m/sub/y.txt > /mounted
`
	ctxDir := writeContext(t, df, map[string]string{})
	// The busybox image as an OCI layout.
	lay := buildLocal(t, cache, writeContext(t, "FROM "+base+"\n", map[string]string{}))
	layoutDir := filepath.Join(filepath.Dir(lay.root), "oci")
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(layoutDir, "index.json"))
	if err != nil || json.Unmarshal(data, &index) != nil || len(index.Manifests) != 1 {
		t.Fatalf("layout index: %s, %v", data, err)
	}
	b := buildLocal(t, cache, ctxDir,
		"--build-context", "extra="+extra,
		"--build-context", "tools="+extra, // replaces the stage: its RUN never runs
		"--build-context", "docker.io/library/alpine:3.20=docker-image://"+base,
		"--build-context", "base=docker-image://"+base,
		"--build-context", "src="+gitURL+"#dev",
		"--build-context", "layout=oci-layout://"+layoutDir+"@"+index.Manifests[0].Digest,
	)
	b.wantContent(t, "extra/x.txt", "x\n")
	b.wantContent(t, "extra/sub/y.txt", "y\n")
	b.wantAbsent(t, "extra/skip.log") // the directory's own .dockerignore
	b.wantMode(t, "extra/x.txt", 0o640, 0, 0)
	b.wantContent(t, "tools-x.txt", "x\n")
	b.wantContent(t, "fromdir-y.txt", "y\n")
	b.wantContent(t, "aliased", "aliased\n")
	b.wantContent(t, "git-dev.txt", "dev\n")
	b.wantContent(t, "mounted", "y\n")
	if busybox, _ := os.ReadFile("/bin/busybox"); len(busybox) > 0 {
		b.wantContent(t, "layout-busybox", string(busybox))
	}

	// A stage FROM a directory: the directory is its first layer.
	fromDir := buildLocal(t, cache, writeContext(t, "FROM extra\nCOPY --from=extra x.txt /again.txt\n", map[string]string{}),
		"--build-context", "extra="+extra)
	fromDir.wantContent(t, "x.txt", "x\n")
	fromDir.wantMode(t, "sub/y.txt", 0o640, 0, 0)
	fromDir.wantAbsent(t, "skip.log")
	fromDir.wantContent(t, "again.txt", "x\n")
	if h := fromDir.cfg.History; len(h) != 2 || h[0].CreatedBy != "local source for extra" || h[0].EmptyLayer {
		t.Errorf("history = %+v, want the directory's layer first", h)
	}
	// An oci-layout context by tag: strata's layout names the image
	// "latest" when it has no tag.
	fromLayout := buildLocal(t, cache, writeContext(t, "FROM img\nRUN echo ok > /ok\n", map[string]string{}),
		"--build-context", "img=oci-layout://"+layoutDir)
	fromLayout.wantContent(t, "ok", "ok\n")

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--build-context", "extra=" + filepath.Join(extra, "missing")}, 2, "directory " + filepath.Join(extra, "missing") + " not found"},
		{[]string{"--build-context", "extra"}, 2, "want NAME=VALUE"},
		{[]string{"--build-context", "extra=https://example.com/x.tar"}, 2, "unsupported context source https"},
		{[]string{"--build-context", "extra=oci-layout://" + layoutDir + ":nosuchtag"}, 1, `no image tagged "nosuchtag"`},
	} {
		r := strata(t, append(append([]string{"build", "--cache-dir", cache}, tc.args...),
			writeContext(t, "FROM extra\n", map[string]string{}))...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, want %d and %q in stderr:\n%s", tc.args, r.code, tc.code, tc.want, r.stderr)
		}
	}
}
