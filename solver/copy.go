package solver

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	mode "github.com/tonistiigi/dchapes-mode"
	fscopy "github.com/tonistiigi/fsutil/copy"

	"github.com/stratabuild/strata/layers"
)

// copyOp is a COPY or ADD with its flags.
type copyOp struct {
	cmd instructions.Command
	instructions.SourcesAndDest
	from         string
	add          bool
	chown, chmod string
	link         bool
	parents      bool
	excludes     []string
	checksum     string
	unpack       *bool
	keepGitDir   *bool
}

// copySource is one source of a COPY or ADD.
type copySource struct {
	root string // directory the path is relative to
	path string // slash path relative to root
	// pattern is, for COPY --parents, what to copy below path (the
	// part after the "/./" pivot, or the whole source): the directories
	// leading to each match are copied too.
	pattern string
	// required is, for COPY --parents without wildcards, the path that
	// must exist.
	required string
	unpack   bool // ADD: extract instead of copy if it is an archive
	// git is an ADD of a git repository, fetched when the step runs into
	// root (path "/"), which is copied as a directory.
	git *gitSource
}

type gitSource struct {
	ref        *gitRef
	commit     gitCommit
	keepGitDir bool
}

// dispatchCopy runs COPY and ADD as BuildKit's dockerfile2llb and file op
// do, with tonistiigi/fsutil's copier (BuildKit's own):
//
//   - context and stage sources follow symlinks at the top, copy a
//     directory's contents, expand wildcards (matching nothing is no
//     error); --exclude patterns are matched against paths below each
//     copied source;
//   - COPY --parents copies each match with the directories that lead to
//     it, from the context root or from a "/./" pivot in the source;
//   - ADD extracts local archives unless --unpack=false, and URLs only
//     with --unpack=true; ADD of a git URL copies the checkout;
//   - COPY --link (without --chmod, which BuildKit ignores --link with)
//     copies into an empty filesystem and lays the result over the stage
//     as its own layer: see link below.
func (r *stageRun) dispatchCopy(ctx context.Context, op copyOp) error {
	c := op.cmd
	verb := "COPY"
	if op.add {
		verb = "ADD"
	}
	if op.chown != "" && op.link && chownByName(op.chown) {
		return r.errorf(c, "--chown=%s: user and group names can't be resolved when used with --link, use numeric uid[:gid] instead", op.chown)
	}
	if op.checksum != "" {
		switch {
		case !op.add:
			return r.errorf(c, "checksum can't be specified for COPY")
		case len(op.SourcePaths) != 1:
			return r.errorf(c, "checksum can't be specified for multiple sources")
		}
	}
	gitRefs := make([]*gitRef, len(op.SourcePaths))
	for i, p := range op.SourcePaths {
		g, isGit, err := parseGitRef(p)
		if isGit && err != nil {
			return r.errorf(c, "%s %s: %v", verb, p, err)
		}
		switch {
		case g != nil && !op.add:
			return r.errorf(c, "source can't be a git ref for COPY")
		case g == nil && isURL(p) && !op.add:
			return r.errorf(c, "source can't be a URL for COPY")
		case g == nil && op.checksum != "" && !isURL(p):
			return r.errorf(c, "checksum requires HTTP(S) or Git sources")
		}
		if g != nil {
			if op.keepGitDir != nil && g.keepGitDir != nil && *op.keepGitDir != *g.keepGitDir {
				return r.errorf(c, "inconsistent keep-git-dir configuration")
			}
			if op.checksum != "" && g.checksum != "" && op.checksum != g.checksum {
				return r.errorf(c, "checksum mismatch %q != %q", op.checksum, g.checksum)
			}
			if g.checksum == "" {
				g.checksum = op.checksum
			}
		}
		gitRefs[i] = g
	}
	nsrc := len(op.SourcePaths) + len(op.SourceContents)
	dest := r.workdirPath(op.DestPath)
	if nsrc > 1 && !strings.HasSuffix(dest, "/") {
		return r.errorf(c, "When using %s with more than one source file, the destination must be a directory and end with a /", verb)
	}
	chmod, chmodStr, err := parseChmod(op.chmod)
	if err != nil {
		return r.errorf(c, "%v", err)
	}
	// BuildKit makes a linked copy only without --chmod.
	link := op.link && op.chmod == ""
	r.begin(cmdString(c))

	tmp, err := r.b.store.tempDir("copy-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Resolve the sources and what identifies their content. A linked
	// copy does not depend on the stage's filesystem.
	base := r.st.key.String()
	if link {
		base = "link"
	}
	keyParts := []string{"copy", base, verb, dest, op.chown, op.chmod, strings.Join(op.excludes, "\x00"), strconv.FormatBool(op.parents)}
	var srcs []copySource
	var named []input    // the sources' files, for explain.go
	var from *stageState // COPY --from a stage or an image: mounted when the step runs
	keepOwner := false
	mirror := r.mirror
	if op.from != "" {
		st, key, err := r.fromSource(ctx, op.from)
		if err != nil {
			return r.errorf(c, "%s --from=%s: %v", verb, op.from, err)
		}
		if st.mirror != nil {
			// A named context directory reads like the build context.
			mirror = st.mirror
		} else {
			from, keepOwner = st, true
			keyParts = append(keyParts, "from", key.String(), joinQuoted(op.SourcePaths))
			named = append(named, r.fromInput(op.from, key))
		}
	}
	for i, p := range op.SourcePaths {
		switch {
		case gitRefs[i] != nil:
			g := gitRefs[i]
			cm, err := g.resolve(ctx)
			if err != nil {
				return r.errorf(c, "ADD %s: %v", p, err)
			}
			keep := op.keepGitDir != nil && *op.keepGitDir || g.keepGitDir != nil && *g.keepGitDir
			keyParts = append(keyParts, "git", g.remote, cm.key(keep), g.subdir, strconv.FormatBool(keep), fmt.Sprint(g.submodules), g.mtime)
			named = append(named, input{Kind: "file", Type: "git", Name: p, Value: cm.key(keep)})
			srcs = append(srcs, copySource{root: filepath.Join(tmp, "git", strconv.Itoa(i)), path: "/", git: &gitSource{ref: g, commit: cm, keepGitDir: keep}})
		case op.add && isURL(p):
			unpack := op.unpack != nil && *op.unpack
			s, sum, err := r.download(ctx, tmp, p, op.checksum)
			if err != nil {
				return r.errorf(c, "ADD %s: %v", p, err)
			}
			s.unpack = unpack
			keyParts = append(keyParts, "url", p, sum, strconv.FormatBool(unpack))
			named = append(named, input{Kind: "file", Type: "f", Name: p, Value: sum})
			srcs = append(srcs, s)
		case from != nil:
			s, err := parentsSource(p, op.parents)
			if err != nil {
				return r.errorf(c, "%s %s: %v", verb, p, err)
			}
			srcs = append(srcs, s)
		default:
			if mirror == nil {
				return r.errorf(c, "%s %s: the build has no context", verb, p)
			}
			s, err := parentsSource(p, op.parents)
			if err != nil {
				return r.errorf(c, "%s %s: %v", verb, p, err)
			}
			s.unpack = op.add && (op.unpack == nil || *op.unpack)
			found, err := mirrorSources(mirror, s, op.excludes)
			if err != nil {
				return r.errorf(c, "%s %s: %v", verb, p, err)
			}
			for _, f := range found {
				keyParts = append(keyParts, "ctx", f.src.path, f.src.pattern, f.digest, strconv.FormatBool(f.src.unpack))
				named = append(named, treeInputs(f.src.path, &f.tree, f.digest)...)
				srcs = append(srcs, f.src)
			}
		}
	}
	for i, sc := range op.SourceContents {
		dir := filepath.Join(tmp, "inline", strconv.Itoa(i))
		name := strings.TrimPrefix(path.Clean("/"+sc.Path), "/")
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sc.Data), 0o644); err != nil {
			return err
		}
		keyParts = append(keyParts, "inline", name, sc.Data)
		named = append(named, inlineInput(name, sc.Data))
		srcs = append(srcs, copySource{root: dir, path: name})
	}
	key := hashKey(keyParts...)
	r.in = append(r.stepInputs(c, false, "destination", dest, "chown", op.chown, "chmod", op.chmod,
		"exclude", strings.Join(op.excludes, " "), "parents", strconv.FormatBool(op.parents), "link", strconv.FormatBool(link)), named...)
	if link {
		r.in = dropParent(r.in)
	}
	createdBy := copyHistory(verb, op) + " # buildkit"

	// A plain copy of one context directory can link the mirror's files
	// (see linkCopy); the clamp of SOURCE_DATE_EPOCH changes the times of
	// the layer's files, which would change the mirror's.
	// A source rooted in the mirror is neither a stage's, nor a URL, git
	// or inline one.
	linkable := len(srcs) == 1 && mirror != nil && srcs[0].root == mirror.dir &&
		!op.parents && len(op.excludes) == 0 && op.chown == "" && op.chmod == "" &&
		r.b.opts.SourceDateEpoch.IsZero()
	mutate := func(sn snapshot) error {
		rootfs := sn.root
		// userChown is --chown; chown also makes the files of the
		// context, URLs and git checkouts root's, as docker build does.
		// Files from a stage or an image keep their owners, and archives
		// extracted by ADD their entries' owners, unless --chown is given.
		var chown, userChown fscopy.Chowner
		if op.chown != "" {
			uid, gid, err := lookupUser(rootfs, op.chown)
			if err != nil {
				return err
			}
			userChown = func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: uid, GID: gid}, nil }
			chown = userChown
		}
		rootChown := chown
		if rootChown == nil {
			rootChown = func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: 0, GID: 0}, nil }
		}
		if !keepOwner {
			chown = rootChown
		}
		if from != nil {
			root, release, err := r.mountReadOnly(tmp, from)
			if err != nil {
				return err
			}
			defer release()
			var resolved []copySource
			for _, s := range srcs {
				if s.root != "" {
					resolved = append(resolved, s)
					continue
				}
				matches, err := resolveSources(root, s)
				if err != nil {
					return err
				}
				resolved = append(resolved, matches...)
			}
			srcs = resolved
		}
		for _, s := range srcs {
			if s.git != nil {
				if err := r.b.gitCheckout(ctx, s.git.ref, s.git.commit, s.git.keepGitDir, s.root); err != nil {
					return err
				}
				err := fscopy.Copy(ctx, s.root, "/", rootfs, dest, func(ci *fscopy.CopyInfo) {
					ci.Chown = rootChown
					ci.Mode = chmod
					ci.ModeStr = chmodStr
					ci.ExcludePatterns = op.excludes
					ci.XAttrErrorHandler = ignoreXattrErrors
				})
				if err != nil {
					return trimRoots(err, s.root, rootfs)
				}
				continue
			}
			if s.unpack {
				ok, err := extractIfArchive(filepath.Join(s.root, s.path), rootfs, dest, userChown)
				if err != nil {
					return err
				}
				if ok {
					continue
				}
			}
			opts := []fscopy.Opt{func(ci *fscopy.CopyInfo) {
				ci.Chown = chown
				ci.Mode = chmod
				ci.ModeStr = chmodStr
				ci.CopyDirContents = true
				ci.FollowLinks = true
				ci.ExcludePatterns = op.excludes
				if s.pattern != "" {
					ci.IncludePatterns = []string{s.pattern}
				}
				ci.XAttrErrorHandler = ignoreXattrErrors
			}}
			if linkable {
				done, err := linkCopy(ctx, mirror, s.path, sn, dest, opts...)
				if err != nil || done {
					return err
				}
			}
			if err := fscopy.Copy(ctx, s.root, path.Join("/", s.path), rootfs, dest, opts...); err != nil {
				return trimRoots(err, s.root, rootfs)
			}
		}
		return nil
	}
	if link {
		return r.fsStepOver(ctx, key, nil, createdBy, mutate)
	}
	return r.fsStep(ctx, key, createdBy, mutate)
}

func ignoreXattrErrors(dst, src, key string, err error) error { return nil }

// chownByName reports whether a --chown value names a user or a group
// rather than giving numeric ids.
func chownByName(chown string) bool {
	u, g, _ := strings.Cut(chown, ":")
	isID := func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 32)
		return err == nil
	}
	return !isID(u) || g != "" && !isID(g)
}

// parentsSource makes the source for a COPY path. With --parents the
// path splits at a "/./" pivot (else at the root) into the directory to
// copy from and the pattern of what to copy below it; the joined path
// must exist if neither part has wildcards.
func parentsSource(p string, parents bool) (copySource, error) {
	if !parents {
		return copySource{path: strings.TrimPrefix(path.Clean("/"+p), "/")}, nil
	}
	parent, pattern, ok := strings.Cut(p, "/./")
	if !ok {
		parent, pattern = "/", p
	}
	parent = strings.TrimPrefix(path.Clean("/"+parent), "/")
	pattern = strings.TrimPrefix(path.Clean("/"+pattern), "/")
	if pattern == "" {
		// BuildKit copies nothing here and then fails: the path it
		// requires is not among the (no) paths copied.
		return copySource{}, fmt.Errorf("--parents copies the paths below %q with the directories that lead to them, and none is named; to copy all of %q, leave out --parents", "/"+parent, "/"+parent)
	}
	s := copySource{path: parent, pattern: pattern}
	if !containsWildcards(parent) && !containsWildcards(pattern) {
		s.required = path.Join(parent, pattern)
	}
	return s, nil
}

// resolveSources expands the wildcards of s's path inside root (a stage's
// or an image's filesystem) and checks what --parents requires.
func resolveSources(root string, s copySource) ([]copySource, error) {
	matches, err := fscopy.ResolveWildcards(root, path.Join("/", s.path), true)
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 && !containsWildcards(s.path) {
		return nil, fmt.Errorf("%q not found", s.path)
	}
	if s.required != "" {
		if err := checkRequired(root, s.required); err != nil {
			return nil, err
		}
	}
	var out []copySource
	for _, m := range matches {
		out = append(out, copySource{root: root, path: filepath.ToSlash(m), pattern: s.pattern})
	}
	return out, nil
}

func checkRequired(root, rel string) error {
	p, err := securePath(root, rel)
	if err == nil {
		_, err = os.Lstat(p)
	}
	if err != nil {
		return fmt.Errorf("%q not found", rel)
	}
	return nil
}

// found is a source matched in a context mirror, with the digest of what
// it will copy.
type found struct {
	src    copySource
	digest string
	tree   treeLines // what the digest was made of (see explain.go)
}

// mirrorSources resolves s in a context mirror: wildcards expanded,
// symlinks followed inside the context, and each match's content digested
// (only what the --parents pattern and the excludes let through).
func mirrorSources(m *contextMirror, s copySource, excludes []string) ([]found, error) {
	notFound := func(p string) error {
		return fmt.Errorf("%q not found in the build context (or excluded by .dockerignore)", p)
	}
	if s.required != "" {
		if _, err := m.resolve(s.required); err != nil {
			return nil, notFound(s.required)
		}
	}
	matches, err := fscopy.ResolveWildcards(m.dir, path.Join("/", s.path), true)
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 && !containsWildcards(s.path) {
		return nil, notFound(s.path)
	}
	var out []found
	for _, match := range matches {
		// Resolve symlinks inside the context, as docker build does: a
		// link can never lead to the host's files.
		rel, err := m.resolve(strings.TrimPrefix(filepath.ToSlash(match), "/"))
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		var tree treeLines
		w := io.MultiWriter(h, &tree)
		if s.pattern == "" && len(excludes) == 0 {
			err = m.digestTree(w, rel)
		} else {
			err = m.digestMatching(w, rel, s.pattern, excludes)
		}
		if err != nil {
			return nil, err
		}
		src := s
		src.root, src.path = m.dir, rel
		out = append(out, found{src: src, digest: fmt.Sprintf("%x", h.Sum(nil)), tree: tree})
	}
	return out, nil
}

// digestMatching is digestTree for a copy with an include pattern and
// excludes: it describes what the copy takes, each file and, once, each
// directory that leads to one. Excluded files can change without changing
// the digest.
func (m *contextMirror) digestMatching(h io.Writer, rel, include string, excludes []string) error {
	root := filepath.Join(m.dir, filepath.FromSlash(rel))
	top, err := os.Lstat(root)
	if err != nil {
		return err
	}
	if !top.IsDir() {
		// The copied source itself is never matched against patterns.
		fmt.Fprintf(h, "f %o %s\n", top.Mode(), m.digestOf(rel))
		return nil
	}
	var inc, exc *patternmatcher.PatternMatcher
	if include != "" {
		if inc, err = patternmatcher.New([]string{include}); err != nil {
			return err
		}
	}
	if len(excludes) > 0 {
		if exc, err = patternmatcher.New(excludes); err != nil {
			return err
		}
	}
	fmt.Fprintf(h, "d . %o\n", top.Mode())
	var pending []string // directories not yet described
	var walk func(dir, relDir string, incParent, excParent patternmatcher.MatchInfo) error
	walk = func(dir, relDir string, incParent, excParent patternmatcher.MatchInfo) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			r := path.Join(relDir, e.Name())
			included, incInfo := true, patternmatcher.MatchInfo{}
			if inc != nil {
				if included, incInfo, err = inc.MatchesUsingParentResults(r, incParent); err != nil {
					return err
				}
			}
			var excInfo patternmatcher.MatchInfo
			if exc != nil {
				var excluded bool
				if excluded, excInfo, err = exc.MatchesUsingParentResults(r, excParent); err != nil {
					return err
				}
				if excluded {
					included = false
					if !exc.Exclusions() && inc == nil {
						continue
					}
				}
			}
			fi, err := e.Info()
			if err != nil {
				return err
			}
			if fi.IsDir() {
				pending = append(pending, fmt.Sprintf("d %q %o\n", r, fi.Mode()))
				if included {
					flushPending(h, &pending)
				}
				if err := walk(p, r, incInfo, excInfo); err != nil {
					return err
				}
				if len(pending) > 0 {
					pending = pending[:len(pending)-1]
				}
				continue
			}
			if !included {
				continue
			}
			flushPending(h, &pending)
			if fi.Mode()&fs.ModeSymlink != 0 {
				t, _ := os.Readlink(p)
				fmt.Fprintf(h, "l %q %q\n", r, t)
			} else {
				fmt.Fprintf(h, "f %q %o %s\n", r, fi.Mode(), m.digestOf(path.Join(rel, r)))
			}
		}
		return nil
	}
	return walk(root, "", patternmatcher.MatchInfo{}, patternmatcher.MatchInfo{})
}

func flushPending(h io.Writer, pending *[]string) {
	for i, d := range *pending {
		if d != "" {
			io.WriteString(h, d)
			(*pending)[i] = ""
		}
	}
}

// fromSource resolves COPY --from (and RUN --mount from=) to a state: a
// stage (which a named context may have replaced), else a named context,
// else an image. The state of a named context directory has no layers:
// its mirror is the filesystem (see stageState.mirror).
func (r *stageRun) fromSource(ctx context.Context, from string) (*stageState, v1.Hash, error) {
	st, err := r.plan.FromStage(from, r.stage)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if st != nil {
		dep, err := r.dep(ctx, st)
		if err != nil {
			return nil, v1.Hash{}, err
		}
		return dep, dep.key, nil
	}
	if nc := r.plan.NamedContext(from); nc != nil {
		src, err := r.contextSource(ctx, nc, r.plan.Platform)
		if err != nil {
			return nil, v1.Hash{}, err
		}
		return src, src.key, nil
	}
	base, err := r.b.pull(ctx, from, r.plan.Platform)
	if err != nil {
		if names := r.plan.StageNames(); len(names) > 0 {
			return nil, v1.Hash{}, fmt.Errorf("no stage named %q (stages: %s), and as an image: %w", from, strings.Join(names, ", "), err)
		}
		return nil, v1.Hash{}, err
	}
	st2 := fromBase(base)
	return st2, st2.key, nil
}

// mountReadOnly mounts a state's filesystem read-only under tmp.
func (r *stageRun) mountReadOnly(tmp string, st *stageState) (string, func(), error) {
	target, err := os.MkdirTemp(tmp, "from-*")
	if err != nil {
		return "", nil, err
	}
	lowers, err := r.b.lowerDirs(st)
	if err != nil {
		return "", nil, err
	}
	if len(lowers) == 0 {
		return target, func() {}, nil
	}
	if err := layers.Mount(target, lowers, "", ""); err != nil {
		return "", nil, fmt.Errorf("mounting source: %w", err)
	}
	return target, func() {
		if err := layers.Unmount(target); err != nil {
			// Keep the directory rather than delete through a mount.
			os.Rename(target, target+".stuck")
		}
	}, nil
}

// download fetches an ADD URL into tmp, checking checksum when given. The
// file is named after the URL's last path element, as in BuildKit, with
// mode 0600 and the server's Last-Modified time.
func (r *stageRun) download(ctx context.Context, tmp, rawURL, checksum string) (copySource, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return copySource{}, "", err
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		name = "__unnamed__"
	}
	dir, err := os.MkdirTemp(tmp, "url-*")
	if err != nil {
		return copySource{}, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return copySource{}, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return copySource{}, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return copySource{}, "", fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return copySource{}, "", err
	}
	h, want := sha256.New(), sha256.New()
	algo := "sha256"
	if checksum != "" {
		if algo, want, err = checksumHash(checksum); err != nil {
			f.Close()
			return copySource{}, "", err
		}
	}
	_, err = io.Copy(io.MultiWriter(f, h, want), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return copySource{}, "", fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	sum := fmt.Sprintf("sha256:%x", h.Sum(nil))
	if got := fmt.Sprintf("%s:%x", algo, want.Sum(nil)); checksum != "" && checksum != got {
		return copySource{}, "", fmt.Errorf("checksum mismatch: expected %s, got %s", checksum, got)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(p, lm, lm)
	} else {
		os.Chtimes(p, time.Unix(0, 0), time.Unix(0, 0))
	}
	return copySource{root: dir, path: name}, sum, nil
}

// checksumHash checks an ADD --checksum digest (sha256, sha384 or
// sha512, as BuildKit accepts) and returns the hash to compute.
func checksumHash(d string) (string, hash.Hash, error) {
	algo, hexSum, ok := strings.Cut(d, ":")
	sizes := map[string]func() hash.Hash{"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}
	newHash, known := sizes[algo]
	switch {
	case !ok || hexSum == "":
		return "", nil, fmt.Errorf("invalid checksum digest format: %q", d)
	case !known:
		return "", nil, fmt.Errorf("unsupported digest algorithm %q in checksum %q", algo, d)
	}
	h := newHash()
	if len(hexSum) != 2*h.Size() || strings.Trim(hexSum, "0123456789abcdef") != "" {
		return "", nil, fmt.Errorf("invalid checksum digest format: %q", d)
	}
	return algo, h, nil
}

// dispatchWorkdir sets the working directory and creates it, owned by the
// current USER, as BuildKit does.
func (r *stageRun) dispatchWorkdir(ctx context.Context, c *instructions.WorkdirCommand) error {
	wd := c.Path
	if !path.IsAbs(wd) {
		wd = path.Join(r.st.cfg.Config.WorkingDir, wd)
	}
	wd = path.Clean("/" + wd)
	r.st.cfg.Config.WorkingDir = wd
	r.begin(c.String())
	if wd == "/" {
		r.addHistory("WORKDIR "+wd, false)
		return nil
	}
	user := r.st.cfg.Config.User
	key := hashKey("workdir", r.st.key.String(), wd, user)
	r.in = r.stepInputs(c, false, "workdir", wd, "user", user)
	return r.fsStep(ctx, key, "WORKDIR "+wd, func(sn snapshot) error {
		rootfs := sn.root
		var chown fscopy.Chowner
		if user != "" {
			uid, gid, err := lookupUser(rootfs, user)
			if err != nil {
				return err
			}
			chown = func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: uid, GID: gid}, nil }
		}
		p, err := securePath(rootfs, wd)
		if err != nil {
			return err
		}
		_, err = fscopy.MkdirAll(p, 0o755, chown, nil)
		return err
	})
}

func copyHistory(verb string, op copyOp) string {
	parts := []string{verb}
	if op.parents {
		parts = append(parts, "--parents")
	}
	if op.chown != "" {
		parts = append(parts, "--chown="+op.chown)
	}
	if op.chmod != "" {
		parts = append(parts, "--chmod="+op.chmod)
	}
	parts = append(parts, op.SourcePaths...)
	for _, sc := range op.SourceContents {
		parts = append(parts, "<<"+sc.Path)
	}
	return strings.Join(append(parts, op.DestPath), " ")
}

// parseChmod accepts octal (0755) or symbolic (u+x) modes, as BuildKit does.
func parseChmod(s string) (*int, string, error) {
	if s == "" {
		return nil, "", nil
	}
	if n, err := strconv.ParseUint(s, 8, 32); err == nil {
		if n > 0o7777 {
			return nil, "", fmt.Errorf("invalid chmod parameter: '%v'. it should be octal string and between 0 and 07777", s)
		}
		m := int(n)
		return &m, "", nil
	}
	if strings.Trim(s, "0123456789") == "" {
		return nil, "", fmt.Errorf("invalid chmod parameter: '%v'. it should be octal string and between 0 and 07777", s)
	}
	if _, err := mode.Parse(s); err != nil {
		return nil, "", fmt.Errorf("invalid chmod parameter %q: want an octal mode (0755) or a symbolic one (u+x,go-w): %v", s, err)
	}
	return nil, s, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// containsWildcards reports whether a source path has unescaped wildcard
// characters, as BuildKit decides it.
func containsWildcards(name string) bool {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '*', '?', '[':
			return true
		case '\\':
			i++
		}
	}
	return false
}

// trimRoots removes host directories from an error's text so it names the
// paths as the Dockerfile does.
func trimRoots(err error, roots ...string) error {
	msg := err.Error()
	for _, r := range roots {
		msg = strings.ReplaceAll(msg, r, "")
	}
	return fmt.Errorf("%s", msg)
}
