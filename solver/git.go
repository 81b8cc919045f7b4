package solver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/frontend"
)

// gitRef is a git source as ADD and --build-context name it, parsed as
// BuildKit's dfgitutil.ParseGitRef does:
//
//	https://host/org/repo.git#REF:SUBDIR    git@host:org/repo.git?branch=dev
//	git://host/repo                          ssh://git@host/repo?subdir=sub
type gitRef struct {
	remote        string // what git fetches from: the URL without fragment and query
	ref           string // branch, tag, full ref or commit; "" is the default branch
	subdir        string // slash path inside the repository; "" is the root
	checksum      string // hex prefix the commit (or annotated tag) must have
	keepGitDir    *bool
	submodules    *bool
	mtime         string // "checkout" (default) or "commit"
	fetchByCommit bool
}

var gitProto = regexp.MustCompile(`^[a-zA-Z0-9]+://`)

// parseGitRef parses s as a git source. It reports false for anything
// that is not one: a local path, an http(s) URL whose path does not end in
// .git, another scheme. BuildKit's deprecated "github.com/org/repo" form is
// a local path here, as it is for ADD in BuildKit.
func parseGitRef(s string) (*gitRef, bool, error) {
	if strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || !frontend.IsGitURL(s) {
		return nil, false, nil
	}
	g := &gitRef{}
	var fragment string
	var query url.Values
	if gitProto.MatchString(s) {
		u, err := url.Parse(s)
		if err != nil {
			return nil, true, err
		}
		fragment, query = u.Fragment, u.Query()
		u.Fragment, u.RawFragment, u.RawQuery = "", "", ""
		g.remote = u.String()
	} else {
		m := scpGitURL.FindStringSubmatch(s)
		if m == nil {
			return nil, false, nil
		}
		q, err := url.ParseQuery(m[4])
		if err != nil {
			return nil, true, fmt.Errorf("invalid query in scp-style url: %w", err)
		}
		g.remote = m[1] + "@" + m[2] + ":" + m[3]
		fragment, query = m[5], q
	}
	if fragment != "" {
		ref, subdir, _ := strings.Cut(fragment, ":")
		g.ref, g.subdir = ref, strings.TrimPrefix(path.Join("/", subdir), "/")
	}
	return g, true, g.loadQuery(query)
}

var scpGitURL = regexp.MustCompile(`^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$`)

// loadQuery applies the URL's query, as BuildKit does.
func (g *gitRef) loadQuery(query url.Values) error {
	var tag, branch string
	boolValue := func(k string, v []string) (*bool, error) {
		b := true
		if len(v) > 0 {
			var err error
			if b, err = strconv.ParseBool(v[0]); err != nil {
				return nil, fmt.Errorf("invalid %s value: %q", k, v[0])
			}
		}
		return &b, nil
	}
	for k, v := range query {
		switch {
		case len(v) > 1:
			return fmt.Errorf("query %q has multiple values", k)
		case len(v) == 0 || v[0] == "":
			switch k {
			case "submodules", "keep-git-dir", "fetch-by-commit":
				v = nil
			default:
				return fmt.Errorf("query %q has no value", k)
			}
		}
		var err error
		switch k {
		case "ref":
			if g.ref != "" && g.ref != v[0] {
				return fmt.Errorf("ref conflicts: %q vs %q", g.ref, v[0])
			}
			g.ref = v[0]
		case "tag":
			tag = v[0]
		case "branch":
			branch = v[0]
		case "subdir":
			if g.subdir != "" && g.subdir != v[0] {
				return fmt.Errorf("subdir conflicts: %q vs %q", g.subdir, v[0])
			}
			g.subdir = strings.TrimPrefix(path.Join("/", v[0]), "/")
		case "checksum", "commit":
			g.checksum = v[0]
		case "keep-git-dir":
			g.keepGitDir, err = boolValue(k, v)
		case "submodules":
			g.submodules, err = boolValue(k, v)
		case "fetch-by-commit":
			var b *bool
			b, err = boolValue(k, v)
			g.fetchByCommit = b != nil && *b
		case "mtime":
			if v[0] != "checkout" && v[0] != "commit" {
				return fmt.Errorf("invalid mtime value: %q (must be \"checkout\" or \"commit\")", v[0])
			}
			g.mtime = v[0]
		default:
			return fmt.Errorf("unexpected query %q", k)
		}
		if err != nil {
			return err
		}
	}
	if tag != "" {
		if !strings.HasPrefix(tag, "refs/tags/") {
			tag = "refs/tags/" + tag
		}
		if g.ref != "" && g.ref != tag {
			return fmt.Errorf("ref conflicts: %q vs %q", g.ref, tag)
		}
		g.ref = tag
	}
	if branch != "" {
		if tag != "" {
			return errors.New("branch conflicts with tag")
		}
		if !strings.HasPrefix(branch, "refs/heads/") {
			branch = "refs/heads/" + branch
		}
		if g.ref != "" && g.ref != branch {
			return fmt.Errorf("ref conflicts: %q vs %q", g.ref, branch)
		}
		g.ref = branch
	}
	return nil
}

// redacted is the remote without credentials, for messages.
func (g *gitRef) redacted() string {
	if u, err := url.Parse(g.remote); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return g.remote
}

// gitCommit is what a ref resolved to.
type gitCommit struct {
	ref string // the full ref to fetch ("refs/heads/main"), or the commit itself
	sha string // what ref points at: a commit, or an annotated tag object
	// commit is the commit an annotated tag points at ("" otherwise); the
	// checkout is of this commit unless the .git directory is kept.
	commit string
}

// key is what identifies the checkout's content in cache keys.
func (c gitCommit) key(keepGitDir bool) string {
	if c.commit != "" && !keepGitDir {
		return c.commit
	}
	return c.sha
}

func isCommitSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

var (
	hexChecksum   = regexp.MustCompile(`^[a-fA-F0-9]+$`)
	defaultBranch = regexp.MustCompile(`refs/heads/(\S+)`)
)

// resolve finds the commit the ref names without fetching (git ls-remote),
// as BuildKit does for its cache key, and checks --checksum against it.
func (g *gitRef) resolve(ctx context.Context) (gitCommit, error) {
	if g.checksum != "" && !hexChecksum.MatchString(g.checksum) {
		return gitCommit{}, fmt.Errorf("invalid checksum %s for Git URL, expected hex commit hash", g.checksum)
	}
	if isCommitSHA(g.ref) {
		if g.checksum != "" && !strings.HasPrefix(g.ref, g.checksum) {
			return gitCommit{}, fmt.Errorf("expected checksum to match %s, got %s", g.checksum, g.ref)
		}
		return gitCommit{ref: g.ref, sha: g.ref}, nil
	}
	if g.fetchByCommit {
		if !isCommitSHA(g.checksum) {
			return gitCommit{}, fmt.Errorf("fetch-by-commit requires a full commit SHA checksum, got %q", g.checksum)
		}
		ref := g.ref
		if ref != "" && !strings.HasPrefix(ref, "refs/") {
			ref = "refs/heads/" + ref
		}
		if ref == "" {
			ref = g.checksum
		}
		return gitCommit{ref: ref, sha: g.checksum}, nil
	}
	ref := g.ref
	if ref == "" {
		out, err := runGit(ctx, "", "ls-remote", "--symref", g.remote, "HEAD")
		if err != nil {
			return gitCommit{}, fmt.Errorf("finding the default branch of %s: %w", g.redacted(), err)
		}
		m := defaultBranch.FindStringSubmatch(out)
		if m == nil {
			return gitCommit{}, fmt.Errorf("could not find default branch for repository: %s", g.redacted())
		}
		ref = m[1]
	}
	if strings.HasPrefix(ref, "-") {
		return gitCommit{}, fmt.Errorf("invalid git ref %q", ref)
	}
	out, err := runGit(ctx, "", "ls-remote", "--", g.remote, ref, ref+"^{}")
	if err != nil {
		return gitCommit{}, fmt.Errorf("reading refs of %s: %w", g.redacted(), err)
	}
	var (
		partialRef      = "refs/" + strings.TrimPrefix(ref, "refs/")
		headRef         = "refs/heads/" + strings.TrimPrefix(ref, "refs/heads/")
		tagRef          = "refs/tags/" + strings.TrimPrefix(ref, "refs/tags/")
		annotatedTagRef = tagRef + "^{}"
	)
	var sha, headSha, tagSha, peeled, used string
	for line := range strings.Lines(out) {
		lineSha, lineRef, _ := strings.Cut(strings.TrimSpace(line), "\t")
		switch lineRef {
		case headRef:
			headSha = lineSha
		case tagRef:
			tagSha = lineSha
		case annotatedTagRef:
			peeled = lineSha
		case partialRef:
			sha, used = lineSha, lineRef
		}
	}
	// Like git checkout, prefer a branch to a tag of the same name.
	if sha == "" {
		sha, used = headSha, headRef
	}
	if sha != "" {
		peeled = ""
	}
	if sha == "" {
		sha, used = tagSha, tagRef
	}
	if sha == "" {
		return gitCommit{}, fmt.Errorf("repository %s does not contain ref %s", g.redacted(), ref)
	}
	if !isCommitSHA(sha) {
		return gitCommit{}, fmt.Errorf("invalid commit sha %q", sha)
	}
	if g.checksum != "" && !strings.HasPrefix(sha, g.checksum) && !strings.HasPrefix(peeled, g.checksum) {
		got := sha
		if peeled != "" {
			got += " or " + peeled
		}
		return gitCommit{}, fmt.Errorf("expected checksum to match %s, got %s", g.checksum, got)
	}
	return gitCommit{ref: used, sha: sha, commit: peeled}, nil
}

// checkout fetches commit c of g into the build's shared bare repository of
// g's remote and writes the tree, or with keepGitDir a shallow clone, to
// dir (which must not exist), as BuildKit's git source does:
//
//   - files get the mode git gives them under umask 022 (0644, 0755 for
//     executables) and the time of the checkout, or with ?mtime=commit the
//     commit's time;
//   - with keepGitDir (and no subdir) dir/.git is a repository with the
//     commit checked out (a detached HEAD), the ref fetched under its own
//     name and origin set to the remote;
//   - submodules are checked out too, unless ?submodules=false;
//   - with a subdir, dir holds that directory's content only.
func (b *Builder) gitCheckout(ctx context.Context, g *gitRef, c gitCommit, keepGitDir bool, dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("ADD of a git repository and git build contexts need the git program: install it (Debian: apt-get install git)")
	}
	sum := sha256.Sum256([]byte(g.remote))
	bare := filepath.Join(b.store.dir, "git", hex.EncodeToString(sum[:12])+".git")
	if err := os.MkdirAll(filepath.Dir(bare), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(bare + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if err := b.gitFetch(ctx, g, c, bare); err != nil {
		return err
	}
	// The remote, for strata cache du.
	if _, err := os.Lstat(filepath.Join(bare, "strata-remote")); err != nil {
		_ = os.WriteFile(filepath.Join(bare, "strata-remote"), []byte(g.redacted()), 0o600)
	}
	b.store.use(bare)
	checkoutSha := c.sha
	if c.commit != "" && !keepGitDir {
		checkoutSha = c.commit
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	work := dir
	keep := keepGitDir && g.subdir == ""
	if keep {
		if err := gitClone(ctx, g, c, bare, dir); err != nil {
			return err
		}
	} else {
		if g.subdir != "" {
			if work, err = os.MkdirTemp(dir, ".checkout-"); err != nil {
				return err
			}
		}
		index := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".index")
		defer os.Remove(index)
		if _, err := runGitEnv(ctx, []string{"GIT_INDEX_FILE=" + index}, "", "--work-tree", work, "--git-dir", bare, "checkout", "--no-overlay", checkoutSha, "--", "."); err != nil {
			return fmt.Errorf("checking out %s: %w", g.redacted(), err)
		}
		if submodulesWanted(g, work) {
			if _, err := runGitEnv(ctx, []string{"GIT_INDEX_FILE=" + index}, "", "--work-tree", work, "--git-dir", bare, "submodule", "update", "--init", "--recursive", "--depth=1"); err != nil {
				return fmt.Errorf("updating submodules of %s: %w", g.redacted(), err)
			}
		}
	}
	if keep && submodulesWanted(g, work) {
		if _, err := runGit(ctx, work, "submodule", "update", "--init", "--recursive", "--depth=1"); err != nil {
			return fmt.Errorf("updating submodules of %s: %w", g.redacted(), err)
		}
	}
	if g.subdir != "" {
		if err := moveSubdir(work, g.subdir, dir); err != nil {
			return err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if g.mtime == "commit" {
		out, err := runGit(ctx, "", "--git-dir", bare, "log", "-1", "--format=%ct", checkoutSha+"^{commit}")
		if err != nil {
			return err
		}
		ts, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return fmt.Errorf("commit time %q: %w", out, err)
		}
		return setTreeTimes(dir, time.Unix(ts, 0))
	}
	return nil
}

func submodulesWanted(g *gitRef, work string) bool {
	if g.submodules != nil && !*g.submodules {
		return false
	}
	_, err := os.Lstat(filepath.Join(work, ".gitmodules"))
	return err == nil
}

// gitFetch makes commit c of g present in the bare repository, fetching
// only that ref, shallowly, unless the commit is there already.
func (b *Builder) gitFetch(ctx context.Context, g *gitRef, c gitCommit, bare string) error {
	if _, err := os.Stat(filepath.Join(bare, "HEAD")); err != nil {
		os.RemoveAll(bare)
		if _, err := runGit(ctx, "", "-c", "init.defaultBranch=master", "init", "--bare", bare); err != nil {
			return err
		}
		if _, err := runGit(ctx, "", "--git-dir", bare, "remote", "add", "origin", g.remote); err != nil {
			return err
		}
	}
	have := func() bool {
		_, err := runGit(ctx, "", "--git-dir", bare, "cat-file", "-e", c.sha+"^{commit}")
		return err == nil
	}
	if have() && (isCommitSHA(c.ref) || gitRefIs(ctx, bare, c.ref, c.sha)) {
		return nil
	}
	_ = os.Remove(filepath.Join(bare, "shallow.lock"))
	var args []string
	switch {
	case isCommitSHA(c.ref):
		args = []string{"fetch", "--depth=1", "--no-tags", "origin", c.ref}
	case g.fetchByCommit:
		args = []string{"fetch", "--depth=1", "--no-tags", "origin", c.sha}
	default:
		args = []string{"fetch", "--depth=1", "--no-tags", "origin", "--force", "--", c.ref + ":" + c.ref}
	}
	if _, err := runGit(ctx, "", append([]string{"--git-dir", bare}, args...)...); err != nil {
		return fmt.Errorf("fetching %s from %s: %w", c.ref, g.redacted(), err)
	}
	if !have() {
		// The ref moved since ls-remote: fetch the commit itself.
		if _, err := runGit(ctx, "", "--git-dir", bare, "fetch", "--depth=1", "--no-tags", "origin", c.sha); err != nil || !have() {
			return fmt.Errorf("fetched ref %s of %s does not match the expected commit %s, which cannot be fetched", c.ref, g.redacted(), c.sha)
		}
	}
	if strings.HasPrefix(c.ref, "refs/") {
		if _, err := runGit(ctx, "", "--git-dir", bare, "update-ref", "--no-deref", c.ref, c.sha); err != nil {
			return err
		}
	}
	return nil
}

func gitRefIs(ctx context.Context, bare, ref, sha string) bool {
	out, err := runGit(ctx, "", "--git-dir", bare, "rev-parse", "--verify", "--quiet", ref)
	return err == nil && strings.TrimSpace(out) == sha
}

// gitClone makes dir a repository holding commit c with its ref, fetched
// from the bare repository over the file protocol (which disables git's
// local-clone shortcuts), and points origin at the real remote.
func gitClone(ctx context.Context, g *gitRef, c gitCommit, bare, dir string) error {
	steps := [][]string{
		{"-c", "init.defaultBranch=master", "init"},
		{"remote", "add", "origin", "file://" + bare},
	}
	for _, args := range steps {
		if _, err := runGit(ctx, dir, args...); err != nil {
			return err
		}
	}
	var pullref string
	switch {
	case isCommitSHA(c.ref) || !strings.HasPrefix(c.ref, "refs/"):
		// A commit: fetch it through a temporary ref, so no ref is named.
		var id [8]byte
		rand.Read(id[:])
		tmpRef := "refs/strata/" + hex.EncodeToString(id[:])
		if _, err := runGit(ctx, "", "--git-dir", bare, "update-ref", tmpRef, c.sha); err != nil {
			return err
		}
		defer runGit(context.WithoutCancel(ctx), "", "--git-dir", bare, "update-ref", "-d", tmpRef)
		pullref = tmpRef
	default:
		pullref = c.ref + ":" + c.ref
	}
	if _, err := runGit(ctx, dir, "fetch", "-u", "--depth=1", "--", "origin", pullref); err != nil {
		return fmt.Errorf("cloning %s: %w", g.redacted(), err)
	}
	for _, args := range [][]string{
		{"checkout", "FETCH_HEAD"},
		{"remote", "set-url", "origin", g.redacted()},
		{"reflog", "expire", "--all", "--expire=now"},
	} {
		if _, err := runGit(ctx, dir, args...); err != nil {
			return fmt.Errorf("checking out %s: %w", g.redacted(), err)
		}
	}
	if err := os.Remove(filepath.Join(dir, ".git", "FETCH_HEAD")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// moveSubdir replaces dir's content with that of subdir inside work (a
// directory within dir), which must be a directory reached through
// directories only.
func moveSubdir(work, subdir, dir string) error {
	p := work
	for _, part := range strings.Split(subdir, "/") {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("invalid subdir %s: %q not found in the repository", subdir, strings.TrimPrefix(p, work+"/"))
		}
		if !fi.IsDir() {
			return fmt.Errorf("invalid subdir %s: git subpath %q contains non-directory %q", subdir, subdir, strings.TrimPrefix(p, work+"/"))
		}
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(p, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return os.RemoveAll(work)
}

// setTreeTimes sets the mtime and atime of everything below and at dir to
// t, symlinks included, directories last.
func setTreeTimes(dir string, t time.Time) error {
	var dirs []string
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, dirs[i], ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return nil
}

func runGit(ctx context.Context, dir string, args ...string) (string, error) {
	return runGitEnv(ctx, nil, dir, args...)
}

// runGitEnv runs git as BuildKit does: no terminal prompts, no system or
// global git configuration, files only from the file protocol the user
// names (not from submodules), and umask 022, so that checked-out files
// get the same modes on every machine. The user's ssh agent and proxies
// are passed on.
func runGitEnv(ctx context.Context, env []string, dir string, args ...string) (string, error) {
	full := append([]string{"-c", "umask 022 && exec git \"$@\"", "git", "-c", "protocol.file.allow=user", "-c", "advice.detachedHead=false"}, args...)
	cmd := exec.CommandContext(ctx, "/bin/sh", full...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"LC_ALL=C",
	}, env...)
	for _, k := range []string{"HOME", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("git %s: %s", gitVerb(args), msg)
	}
	return stdout.String(), nil
}

// gitVerb is the git subcommand in args, for messages.
func gitVerb(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-c" || a == "--git-dir" || a == "--work-tree":
			i++
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return "git"
}
