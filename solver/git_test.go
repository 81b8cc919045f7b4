package solver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseGitRef(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		in   string
		want *gitRef // nil: not a git source
		err  string
	}{
		{in: "https://example.com/foo.git", want: &gitRef{remote: "https://example.com/foo.git"}},
		{in: "https://example.com/foo.git#deadbeef", want: &gitRef{remote: "https://example.com/foo.git", ref: "deadbeef"}},
		{in: "https://example.com/foo.git#release/1:sub/../dir/", want: &gitRef{remote: "https://example.com/foo.git", ref: "release/1", subdir: "dir"}},
		{in: "https://example.com/foo.git?tag=v1&subdir=a&keep-git-dir=true", want: &gitRef{remote: "https://example.com/foo.git", ref: "refs/tags/v1", subdir: "a", keepGitDir: &yes}},
		{in: "https://example.com/foo.git?branch=dev&submodules=false&mtime=commit", want: &gitRef{remote: "https://example.com/foo.git", ref: "refs/heads/dev", submodules: &no, mtime: "commit"}},
		{in: "https://example.com/foo.git?checksum=abc&keep-git-dir", want: &gitRef{remote: "https://example.com/foo.git", checksum: "abc", keepGitDir: &yes}},
		{in: "http://user:pw@127.0.0.1:8080/x/repo.git#v2", want: &gitRef{remote: "http://user:pw@127.0.0.1:8080/x/repo.git", ref: "v2"}},
		{in: "git://host/repo#main:src", want: &gitRef{remote: "git://host/repo", ref: "main", subdir: "src"}},
		{in: "ssh://git@host/org/repo.git", want: &gitRef{remote: "ssh://git@host/org/repo.git"}},
		{in: "git@github.com:org/repo.git#v1:docs", want: &gitRef{remote: "git@github.com:org/repo.git", ref: "v1", subdir: "docs"}},
		{in: "git@github.com:org/repo.git?branch=x", want: &gitRef{remote: "git@github.com:org/repo.git", ref: "refs/heads/x"}},
		{in: "https://example.com/foo"},
		{in: "https://example.com/foo.tar.gz"},
		{in: "file:///srv/repo.git"},
		{in: "github.com/org/repo"},
		{in: "./repo.git"},
		{in: "dir/file.txt"},
		{in: "https://example.com/foo.git?bogus=1", err: `unexpected query "bogus"`},
		{in: "https://example.com/foo.git?tag=a&branch=b", err: "branch conflicts with tag"},
		{in: "https://example.com/foo.git?ref=a&tag=b", err: "ref conflicts"},
		{in: "https://example.com/foo.git?mtime=now", err: "invalid mtime value"},
		{in: "https://example.com/foo.git?keep-git-dir=maybe", err: "invalid keep-git-dir value"},
		{in: "https://example.com/foo.git?subdir=", err: `query "subdir" has no value`},
	}
	for _, tt := range tests {
		got, isGit, err := parseGitRef(tt.in)
		switch {
		case tt.err != "":
			if !isGit || err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseGitRef(%q) = %+v, %v, %v, want error with %q", tt.in, got, isGit, err, tt.err)
			}
		case tt.want == nil:
			if isGit || got != nil || err != nil {
				t.Errorf("parseGitRef(%q) = %+v, %v, %v, want no git source", tt.in, got, isGit, err)
			}
		case err != nil || !isGit:
			t.Errorf("parseGitRef(%q): %v, %v", tt.in, isGit, err)
		case !sameGitRef(got, tt.want):
			t.Errorf("parseGitRef(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	g, _, _ := parseGitRef("https://user:secret@example.com/r.git")
	if strings.Contains(g.redacted(), "secret") {
		t.Errorf("redacted() = %s, shows the password", g.redacted())
	}
}

func sameGitRef(a, b *gitRef) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.remote == b.remote && a.ref == b.ref && a.subdir == b.subdir && a.checksum == b.checksum &&
		a.mtime == b.mtime && a.fetchByCommit == b.fetchByCommit && eq(a.keepGitDir, b.keepGitDir) && eq(a.submodules, b.submodules)
}

// testRepo makes a repository with commits on main (tagged v1 by an
// annotated tag and lite by a lightweight one), a branch "v1" that is not
// the tag, and returns its path and commits.
func testRepo(t *testing.T) (string, map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e",
			"GIT_AUTHOR_DATE=2020-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2020-01-02T03:04:05Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, data string, mode os.FileMode) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("a.txt", "1\n", 0o664)
	write("run.sh", "#!/bin/sh\n", 0o775)
	write("sub/deep/f.txt", "f\n", 0o600)
	git("add", "-A")
	git("commit", "-q", "-m", "one")
	c := map[string]string{"one": git("rev-parse", "HEAD")}
	git("tag", "-a", "-m", "v1", "v1")
	c["v1-tag"] = git("rev-parse", "refs/tags/v1")
	git("tag", "lite")
	write("a.txt", "2\n", 0o644)
	git("commit", "-q", "-am", "two")
	c["two"] = git("rev-parse", "HEAD")
	git("branch", "v1") // a branch named like the tag, at "two"
	return dir, c
}

func TestGitResolve(t *testing.T) {
	repo, c := testRepo(t)
	ctx := context.Background()
	tests := []struct {
		ref, checksum string
		want          gitCommit
		err           string
	}{
		{ref: "", want: gitCommit{ref: "refs/heads/main", sha: c["two"]}},
		{ref: "main", want: gitCommit{ref: "refs/heads/main", sha: c["two"]}},
		// A branch wins over a tag of the same name, as in git checkout.
		{ref: "v1", want: gitCommit{ref: "refs/heads/v1", sha: c["two"]}},
		{ref: "refs/tags/v1", want: gitCommit{ref: "refs/tags/v1", sha: c["v1-tag"], commit: c["one"]}},
		{ref: "lite", want: gitCommit{ref: "refs/tags/lite", sha: c["one"]}},
		{ref: c["one"], want: gitCommit{ref: c["one"], sha: c["one"]}},
		{ref: "main", checksum: c["two"][:7], want: gitCommit{ref: "refs/heads/main", sha: c["two"]}},
		{ref: "refs/tags/v1", checksum: c["one"][:10], want: gitCommit{ref: "refs/tags/v1", sha: c["v1-tag"], commit: c["one"]}},
		{ref: "main", checksum: "0000", err: "expected checksum to match 0000, got " + c["two"]},
		{ref: c["one"], checksum: c["two"], err: "expected checksum to match"},
		{ref: "main", checksum: "xyz", err: "expected hex commit hash"},
		{ref: "nope", err: "does not contain ref nope"},
		{ref: "-x", err: "invalid git ref"},
	}
	for _, tt := range tests {
		g := &gitRef{remote: repo, ref: tt.ref, checksum: tt.checksum}
		got, err := g.resolve(ctx)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("resolve(%q, checksum %q) = %+v, %v, want error with %q", tt.ref, tt.checksum, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolve(%q, checksum %q) = %+v, %v, want %+v", tt.ref, tt.checksum, got, err, tt.want)
		}
	}
}

func TestGitCheckout(t *testing.T) {
	repo, c := testRepo(t)
	ctx := context.Background()
	b, err := New(Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	checkout := func(t *testing.T, g *gitRef, keep bool) string {
		t.Helper()
		cm, err := g.resolve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "out")
		if err := b.gitCheckout(ctx, g, cm, keep, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	mode := func(t *testing.T, p string) os.FileMode {
		t.Helper()
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode()
	}

	t.Run("tree", func(t *testing.T) {
		dir := checkout(t, &gitRef{remote: repo, ref: "refs/tags/v1"}, false)
		if data, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(data) != "1\n" {
			t.Errorf("a.txt = %q, want the tagged commit's", data)
		}
		// Modes as git writes them under umask 022, whatever they were.
		for p, want := range map[string]os.FileMode{"a.txt": 0o644, "run.sh": 0o755, "sub/deep/f.txt": 0o644, "sub": os.ModeDir | 0o755, ".": os.ModeDir | 0o755} {
			if got := mode(t, filepath.Join(dir, p)); got != want {
				t.Errorf("%s mode %v, want %v", p, got, want)
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			t.Errorf(".git kept without keepGitDir")
		}
	})
	t.Run("keep git dir", func(t *testing.T) {
		dir := checkout(t, &gitRef{remote: repo, ref: "main"}, true)
		out, err := runGit(ctx, dir, "rev-parse", "HEAD", "refs/heads/main")
		if err != nil || out != c["two"]+"\n"+c["two"]+"\n" {
			t.Errorf("rev-parse HEAD refs/heads/main = %q, %v", out, err)
		}
		if out, _ := runGit(ctx, dir, "remote", "get-url", "origin"); strings.TrimSpace(out) != repo {
			t.Errorf("origin = %q, want %s", out, repo)
		}
		if out, _ := runGit(ctx, dir, "status", "--porcelain"); out != "" {
			t.Errorf("the checkout is not clean:\n%s", out)
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git", "FETCH_HEAD")); err == nil {
			t.Errorf("FETCH_HEAD left behind")
		}
	})
	t.Run("keep git dir at a commit", func(t *testing.T) {
		dir := checkout(t, &gitRef{remote: repo, ref: c["one"]}, true)
		if out, err := runGit(ctx, dir, "rev-parse", "HEAD"); err != nil || strings.TrimSpace(out) != c["one"] {
			t.Errorf("HEAD = %q, %v, want %s", out, err, c["one"])
		}
		if out, _ := runGit(ctx, dir, "for-each-ref"); out != "" {
			t.Errorf("a checkout of a commit names refs:\n%s", out)
		}
	})
	t.Run("subdir", func(t *testing.T) {
		dir := checkout(t, &gitRef{remote: repo, subdir: "sub"}, true)
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || entries[0].Name() != "deep" {
			t.Errorf("subdir checkout has %v, want only deep (and no .git)", entries)
		}
		g := &gitRef{remote: repo, subdir: "a.txt"}
		cm, _ := g.resolve(ctx)
		if err := b.gitCheckout(ctx, g, cm, false, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "non-directory") {
			t.Errorf("subdir a.txt: %v, want a non-directory error", err)
		}
	})
	t.Run("mtime", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		dir := checkout(t, &gitRef{remote: repo}, false)
		if fi, _ := os.Stat(filepath.Join(dir, "a.txt")); fi.ModTime().Before(before) {
			t.Errorf("default mtime %v, want the checkout's time", fi.ModTime())
		}
		dir = checkout(t, &gitRef{remote: repo, mtime: "commit"}, false)
		want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, p := range []string{"a.txt", "sub", "."} {
			if fi, _ := os.Lstat(filepath.Join(dir, p)); !fi.ModTime().Equal(want) {
				t.Errorf("mtime=commit: %s mtime %v, want %v", p, fi.ModTime(), want)
			}
		}
	})
}
