package solver

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
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
}

// copySource is one resolved source: a path under root.
type copySource struct {
	root    string // directory the path is relative to
	path    string // slash path relative to root
	archive bool   // ADD: extract instead of copy if it is an archive
}

func (r *stageRun) dispatchCopy(ctx context.Context, op copyOp) error {
	c := op.cmd
	verb := "COPY"
	if op.add {
		verb = "ADD"
	}
	if op.parents {
		return r.errorf(c, "%s --parents is not supported yet", verb)
	}
	if op.checksum != "" {
		if !op.add {
			return r.errorf(c, "checksum can't be specified for COPY")
		}
		if len(op.SourcePaths) != 1 || !isURL(op.SourcePaths[0]) {
			return r.errorf(c, "ADD --checksum requires a single HTTP(S) source")
		}
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
	r.begin(cmdString(c))

	tmp, err := r.b.store.tempDir("copy-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Resolve the sources and what identifies their content.
	keyParts := []string{"copy", r.st.key.String(), verb, dest, op.chown, op.chmod, strings.Join(op.excludes, "\x00")}
	var srcs []copySource
	var fromRoot func() (string, func(), error) // mounts a stage or image source
	keepOwner := false
	switch {
	case op.from != "":
		src, key, err := r.fromSource(ctx, op.from)
		if err != nil {
			return r.errorf(c, "%s --from=%s: %v", verb, op.from, err)
		}
		keepOwner = true
		keyParts = append(keyParts, "from", key.String(), joinQuoted(op.SourcePaths))
		fromRoot = func() (string, func(), error) { return r.mountReadOnly(tmp, src) }
		for _, p := range op.SourcePaths {
			srcs = append(srcs, copySource{path: p})
		}
	default:
		for _, p := range op.SourcePaths {
			if op.add && isURL(p) {
				s, sum, err := r.download(ctx, tmp, p, op.checksum)
				if err != nil {
					return r.errorf(c, "ADD %s: %v", p, err)
				}
				keyParts = append(keyParts, "url", p, sum)
				srcs = append(srcs, s)
				continue
			}
			if r.mirror == nil {
				return r.errorf(c, "%s %s: the build has no context", verb, p)
			}
			matches, err := fscopy.ResolveWildcards(r.mirror.dir, path.Join("/", p), true)
			if err != nil {
				return r.errorf(c, "%s %s: %v", verb, p, err)
			}
			if len(matches) == 0 && !hasWildcard(p) {
				return r.errorf(c, "%s %s: %q not found in the build context (or excluded by .dockerignore)", verb, p, p)
			}
			for _, m := range matches {
				// Resolve symlinks inside the context, as docker build does:
				// a link can never lead to the host's files.
				rel, err := r.mirror.resolve(strings.TrimPrefix(filepath.ToSlash(m), "/"))
				if err != nil {
					return r.errorf(c, "%s %s: %v", verb, p, err)
				}
				h := sha256.New()
				if err := r.mirror.digestTree(h, rel); err != nil {
					return r.errorf(c, "%s %s: %v", verb, p, err)
				}
				keyParts = append(keyParts, "ctx", rel, fmt.Sprintf("%x", h.Sum(nil)))
				srcs = append(srcs, copySource{root: r.mirror.dir, path: rel, archive: op.add && (op.unpack == nil || *op.unpack)})
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
		srcs = append(srcs, copySource{root: dir, path: name})
	}
	key := hashKey(keyParts...)
	createdBy := copyHistory(verb, op) + " # buildkit"

	return r.fsStep(ctx, key, createdBy, func(rootfs string) error {
		// userChown is --chown; chown also makes context files root's,
		// as docker build does. Archives extracted by ADD keep their
		// entries' owners unless --chown is given.
		var chown, userChown fscopy.Chowner
		if op.chown != "" {
			uid, gid, err := lookupUser(rootfs, op.chown)
			if err != nil {
				return err
			}
			userChown = func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: uid, GID: gid}, nil }
			chown = userChown
		} else if !keepOwner {
			chown = func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: 0, GID: 0}, nil }
		}
		if fromRoot != nil {
			root, release, err := fromRoot()
			if err != nil {
				return err
			}
			defer release()
			var resolved []copySource
			for _, s := range srcs {
				matches, err := fscopy.ResolveWildcards(root, path.Join("/", s.path), true)
				if err != nil {
					return err
				}
				if len(matches) == 0 && !hasWildcard(s.path) {
					return fmt.Errorf("%q not found", s.path)
				}
				for _, m := range matches {
					resolved = append(resolved, copySource{root: root, path: m})
				}
			}
			srcs = resolved
		}
		for _, s := range srcs {
			if s.archive {
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
				ci.XAttrErrorHandler = func(dst, src, key string, err error) error { return nil }
			}}
			if err := fscopy.Copy(ctx, s.root, path.Join("/", s.path), rootfs, dest, opts...); err != nil {
				return trimRoots(err, s.root, rootfs)
			}
		}
		return nil
	})
}

// fromSource resolves COPY --from to a stage or image state.
func (r *stageRun) fromSource(ctx context.Context, from string) (*stageState, v1.Hash, error) {
	st, err := r.plan.FromStage(from, r.stage)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if st != nil {
		dep := r.deps[st]
		return dep, dep.key, nil
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
	lowers := r.b.lowerDirs(st)
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
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return copySource{}, "", fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	sum := fmt.Sprintf("sha256:%x", h.Sum(nil))
	if checksum != "" && checksum != sum {
		return copySource{}, "", fmt.Errorf("checksum mismatch: expected %s, got %s", checksum, sum)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(p, lm, lm)
	} else {
		os.Chtimes(p, time.Unix(0, 0), time.Unix(0, 0))
	}
	return copySource{root: dir, path: name}, sum, nil
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
	return r.fsStep(ctx, key, "WORKDIR "+wd, func(rootfs string) error {
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

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?[") }

// trimRoots removes host directories from an error's text so it names the
// paths as the Dockerfile does.
func trimRoots(err error, roots ...string) error {
	msg := err.Error()
	for _, r := range roots {
		msg = strings.ReplaceAll(msg, r, "")
	}
	return fmt.Errorf("%s", msg)
}
