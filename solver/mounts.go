package solver

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	fscopy "github.com/tonistiigi/fsutil/copy"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/layers"
	"github.com/stratabuild/strata/solver/sandbox"
)

// This file gives RUN its --mount flags, with BuildKit's meaning:
//
//   - bind (the default type): a file or directory of the build context, or
//     of a stage or image (from=), read-only; with rw, writes go to a
//     throwaway overlay and are discarded. The bound content is part of the
//     step's cache key, as for COPY.
//   - cache: a directory kept across builds (see cachemount.go), not part of
//     the layer nor of the cache key.
//   - tmpfs: an empty tmpfs.
//   - secret: a value given with --secret, as a read-only file on a tmpfs
//     (default /run/secrets/<id>) and/or an environment variable (env=). Only
//     the secret's id is in the cache key; its value is never written to a
//     disk, a layer, a log or an error.
//   - ssh: a socket forwarding to an ssh-agent given with --ssh, at
//     /run/buildkit/ssh_agent.<n> by default, with SSH_AUTH_SOCK set.
//
// A secret or ssh mount whose value was not given is left out, or is an
// error naming its id when the mount says required.

// SecretSource is where the value of a secret comes from (--secret): the
// file File, read when a step needs it, or else the environment variable
// Env of this process.
type SecretSource struct {
	File string
	Env  string
}

// maxSecretSize is BuildKit's limit on the size of a secret.
const maxSecretSize = 500 << 10

// runMount is one RUN --mount, checked and resolved before the step runs.
type runMount struct {
	*instructions.Mount
	target string      // absolute path in the container ("" for a secret only in the environment)
	source string      // clean slash path relative to the source's root, "" for the root
	from   *stageState // bind and cache from=; nil for the context (bind) or nothing (cache)
	ctxRel string      // bind from the context: the source resolved in the mirror
	id     string      // cache: identity of its directories; secret and ssh: the id
	env    string      // secret: the environment variable to set, if any
}

// runMounts resolves the --mount flags of c and returns them with what they
// add to the step's cache key.
func (r *stageRun) runMounts(ctx context.Context, c *instructions.RunCommand) ([]*runMount, []string, error) {
	var mounts []*runMount
	var key []string
	nssh := 0
	for _, m := range instructions.GetMounts(c) {
		rm := &runMount{Mount: m, source: strings.TrimPrefix(path.Clean("/"+m.Source), "/")}
		fail := func(err error) ([]*runMount, []string, error) {
			return nil, nil, fmt.Errorf("--mount=type=%s,target=%s: %w", m.Type, m.Target, err)
		}
		switch m.Type {
		case instructions.MountTypeBind, instructions.MountTypeCache, instructions.MountTypeTmpfs:
			t := m.Target
			if !path.IsAbs(t) {
				t = path.Join("/", r.st.cfg.Config.WorkingDir, t)
			}
			if t = path.Clean(t); t == "/" {
				return fail(fmt.Errorf("invalid mount target %q", t))
			}
			rm.target = t
		}
		switch m.Type {
		case instructions.MountTypeBind:
			if m.From != "" {
				st, err := r.mountFrom(ctx, m.From)
				if err != nil {
					return fail(err)
				}
				rm.from = st
				key = append(key, "bind", rm.target, "from", st.key.String(), rm.source, strconv.FormatBool(m.ReadOnly))
				break
			}
			if r.mirror == nil {
				return fail(errors.New("the build has no context"))
			}
			rel, err := r.mirror.resolve(rm.source)
			if err != nil {
				return fail(err)
			}
			h := sha256.New()
			if err := r.mirror.digestTree(h, rel); err != nil {
				return fail(err)
			}
			rm.ctxRel = rel
			key = append(key, "bind", rm.target, "ctx", rel, fmt.Sprintf("%x", h.Sum(nil)), strconv.FormatBool(m.ReadOnly))
		case instructions.MountTypeCache:
			id := m.CacheID
			if id == "" {
				id = path.Clean(m.Target)
			}
			ident := []string{id}
			if m.From != "" {
				st, err := r.mountFrom(ctx, m.From)
				if err != nil {
					return fail(err)
				}
				rm.from = st
				ident = append(ident, "from", st.key.String(), rm.source)
			}
			if m.Mode != nil || m.UID != nil || m.GID != nil {
				ident = append(ident, "dir", fileInfoString(m.Mode, m.UID, m.GID))
			}
			rm.id = joinQuoted(ident)
			r.b.useMount(rm.id)
			sharing := m.CacheSharing
			if sharing == "" {
				sharing = instructions.MountSharingShared
				m.CacheSharing = sharing
			}
			key = append(key, "cache", rm.target, rm.id, rm.source, string(sharing), strconv.FormatBool(m.ReadOnly))
		case instructions.MountTypeTmpfs:
			key = append(key, "tmpfs", rm.target, strconv.FormatInt(m.SizeLimit, 10))
		case instructions.MountTypeSecret:
			id := m.CacheID
			if m.Source != "" {
				id = m.Source
			}
			if id == "" {
				if m.Target == "" {
					return fail(errors.New("one of source, target required"))
				}
				id = path.Base(m.Target)
			}
			rm.id = id
			t := m.Target
			if t == "" && m.Env == nil {
				t = "/run/secrets/" + path.Base(id)
			}
			if t != "" {
				rm.target = path.Join("/", t)
			}
			if m.Env != nil {
				rm.env = *m.Env
				if rm.env == "" {
					rm.env = id
				}
			}
			key = append(key, "secret", id, rm.target, rm.env, strconv.FormatBool(m.Required), fileInfoString(m.Mode, m.UID, m.GID))
		case instructions.MountTypeSSH:
			if m.Source != "" {
				return fail(errors.New("ssh does not support source"))
			}
			rm.id = cmp.Or(m.CacheID, "default")
			rm.target = path.Join("/", m.Target)
			if m.Target == "" {
				rm.target = fmt.Sprintf("/run/buildkit/ssh_agent.%d", nssh)
			}
			nssh++
			key = append(key, "ssh", rm.id, rm.target, strconv.FormatBool(m.Required), fileInfoString(m.Mode, m.UID, m.GID))
		default:
			return fail(fmt.Errorf("unsupported mount type %q", m.Type))
		}
		mounts = append(mounts, rm)
	}
	return mounts, key, nil
}

// mountFrom resolves from= of a mount: a stage this stage depends on, or
// an image.
func (r *stageRun) mountFrom(ctx context.Context, from string) (*stageState, error) {
	st, _, err := r.fromSource(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("from=%s: %w", from, err)
	}
	return st, nil
}

func fileInfoString(mode, uid, gid *uint64) string {
	s := func(p *uint64, format string) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf(format, *p)
	}
	return s(mode, "%o") + ":" + s(uid, "%d") + ":" + s(gid, "%d")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func valueOr(p *uint64, def uint64) uint64 {
	if p == nil {
		return def
	}
	return *p
}

// stepMounts are the mounts of one running step and what undoes them.
type stepMounts struct {
	tmp    string // work directory of the step's mounts, under the store's tmp
	mounts []sandbox.Mount
	// env holds the step's secret variables and SSH_AUTH_SOCK ("K=V").
	env []string
	// secrets is a tmpfs for secret files and, when there are any
	// secrets, for the runtime bundle, whose config.json holds the
	// secret variables: secrets never reach a disk.
	secrets string
	undo    []func() error // in the order done
}

// setupMounts prepares the mounts of a step that is about to run.
func (r *stageRun) setupMounts(ctx context.Context, mounts []*runMount) (_ *stepMounts, err error) {
	if len(mounts) == 0 {
		return &stepMounts{}, nil
	}
	tmp, err := r.b.store.tempDir("mounts-*")
	if err != nil {
		return nil, err
	}
	sm := &stepMounts{tmp: tmp}
	defer func() {
		if err != nil {
			sm.release()
		}
	}()
	// Caches are taken in a fixed order, so that two steps locking the
	// same caches never wait for each other. A cache mounted twice in a
	// step is taken once, unless private: a private mount takes its own
	// instance, after the others of its cache are taken.
	var order []*runMount
	for _, m := range mounts {
		if m.Type == instructions.MountTypeCache {
			order = append(order, m)
		}
	}
	isPrivate := func(m *runMount) bool { return m.CacheSharing == instructions.MountSharingPrivate }
	slices.SortStableFunc(order, func(a, b *runMount) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(isPrivate(a)), boolInt(isPrivate(b)))
	})
	cacheOf := map[*runMount]cacheDir{}
	taken := map[string]cacheDir{}
	for _, m := range order {
		if cd, ok := taken[m.id]; ok && !isPrivate(m) {
			cacheOf[m] = cd
			continue
		}
		cd, err := r.b.store.acquireCache(ctx, cacheSpec{identity: m.id, sharing: m.CacheSharing, init: r.b.importedMountInit(m.id, r.cacheInit(ctx, sm, m))})
		if err != nil {
			return nil, fmt.Errorf("cache mount at %s: %w", m.target, err)
		}
		sm.undo = append(sm.undo, func() error { cd.release(); return nil })
		cacheOf[m] = cd
		if !isPrivate(m) {
			taken[m.id] = cd
		}
	}

	sshSock := ""
	for i, m := range mounts {
		switch m.Type {
		case instructions.MountTypeBind:
			src, err := r.bindSource(ctx, sm, m)
			if err != nil {
				return nil, fmt.Errorf("bind mount at %s: %w", m.target, err)
			}
			opt := "ro"
			if !m.ReadOnly {
				if src, err = sm.writable(ctx, src, i); err != nil {
					return nil, fmt.Errorf("bind mount at %s: %w", m.target, err)
				}
				opt = "rw"
			}
			sm.mounts = append(sm.mounts, sandbox.Mount{Type: "bind", Source: src, Destination: m.target, Options: []string{"rbind", opt}})
		case instructions.MountTypeCache:
			dir := cacheOf[m].path
			if m.from == nil && m.source != "" {
				p, err := securejoin.SecureJoin(dir, m.source)
				if err != nil {
					return nil, err
				}
				if err := os.MkdirAll(p, 0o755); err != nil {
					return nil, fmt.Errorf("cache mount at %s: %w", m.target, err)
				}
				dir = p
			}
			opt := "rw"
			if m.ReadOnly {
				opt = "ro"
			}
			sm.mounts = append(sm.mounts, sandbox.Mount{Type: "bind", Source: dir, Destination: m.target, Options: []string{"rbind", opt}})
		case instructions.MountTypeTmpfs:
			opts := []string{"nosuid"}
			if m.SizeLimit > 0 {
				opts = append(opts, fmt.Sprintf("size=%d", m.SizeLimit))
			}
			sm.mounts = append(sm.mounts, sandbox.Mount{Type: "tmpfs", Source: "tmpfs", Destination: m.target, Options: opts})
		case instructions.MountTypeSecret:
			if err := r.mountSecret(sm, m, i); err != nil {
				return nil, err
			}
		case instructions.MountTypeSSH:
			agent, ok := r.b.opts.SSH[m.id]
			if !ok {
				if m.Required {
					return nil, fmt.Errorf("ssh agent %q is required but not given (pass --ssh %s or --ssh %s=SOCKET)", m.id, m.id, m.id)
				}
				continue
			}
			sock, err := sm.forwardAgent(agent, i, m)
			if err != nil {
				return nil, fmt.Errorf("ssh agent %q: %w", m.id, err)
			}
			sm.mounts = append(sm.mounts, sandbox.Mount{Type: "bind", Source: sock, Destination: m.target, Options: []string{"rbind", "rw"}})
			if sshSock == "" {
				sshSock = m.target
				sm.env = append(sm.env, "SSH_AUTH_SOCK="+m.target)
			}
		}
	}
	// Parents before what is mounted inside them.
	slices.SortStableFunc(sm.mounts, func(a, b sandbox.Mount) int {
		return cmp.Compare(strings.Count(path.Clean(a.Destination), "/"), strings.Count(path.Clean(b.Destination), "/"))
	})
	return sm, nil
}

// release undoes the step's mounts, in reverse order, and removes their
// work directory unless something is still mounted in it.
func (sm *stepMounts) release() {
	for i := len(sm.undo) - 1; i >= 0; i-- {
		sm.undo[i]()
	}
	sm.undo = nil
	if sm.tmp != "" && len(mountsUnder(sm.tmp)) == 0 {
		os.RemoveAll(sm.tmp)
	}
}

// bindSource returns the host path that a bind mount binds.
func (r *stageRun) bindSource(ctx context.Context, sm *stepMounts, m *runMount) (string, error) {
	if m.from == nil {
		return filepath.Join(r.mirror.dir, filepath.FromSlash(m.ctxRel)), nil
	}
	root, release, err := r.mountReadOnly(sm.tmp, m.from)
	if err != nil {
		return "", err
	}
	sm.undo = append(sm.undo, func() error { release(); return nil })
	p, err := securejoin.SecureJoin(root, m.source)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%q not found in %s", "/"+m.source, m.From)
	}
	return p, nil
}

// writable returns a writable view of src whose changes are thrown away:
// an overlay over a directory, a copy of a file.
func (sm *stepMounts) writable(ctx context.Context, src string, i int) (string, error) {
	base := filepath.Join(sm.tmp, fmt.Sprintf("rw-%d", i))
	fi, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		if err := os.Mkdir(base, 0o700); err != nil {
			return "", err
		}
		name := filepath.Base(src)
		if err := fscopy.Copy(ctx, filepath.Dir(src), "/"+name, base, "/"+name); err != nil {
			return "", err
		}
		return filepath.Join(base, name), nil
	}
	upper, work, merged := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{base, upper, work, merged} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", err
		}
	}
	// The upper directory's root is the mount's root: it keeps the
	// source's mode and owner.
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Chmod(upper, fi.Mode().Perm()); err != nil {
		return "", err
	}
	if err := os.Lchown(upper, int(st.Uid), int(st.Gid)); err != nil {
		return "", err
	}
	if err := layers.Mount(merged, []string{src}, upper, work); err != nil {
		return "", err
	}
	sm.undo = append(sm.undo, func() error { return layers.Unmount(merged) })
	return merged, nil
}

// cacheInit returns what fills a new instance of m's cache: the content of
// from= (at source) or nothing, in a directory with the mode and owner
// asked for (default 0755, root).
func (r *stageRun) cacheInit(ctx context.Context, sm *stepMounts, m *runMount) func(string) error {
	return func(dir string) error {
		mode, uid, gid := os.FileMode(valueOr(m.Mode, 0o755)), int(valueOr(m.UID, 0)), int(valueOr(m.GID, 0))
		if m.from != nil {
			root, release, err := r.mountReadOnly(sm.tmp, m.from)
			if err != nil {
				return err
			}
			defer release()
			src, err := securejoin.SecureJoin(root, m.source)
			if err != nil {
				return err
			}
			fi, err := os.Stat(src)
			if err != nil || !fi.IsDir() {
				return fmt.Errorf("%q is not a directory in %s", "/"+m.source, m.From)
			}
			if err := fscopy.Copy(ctx, root, "/"+m.source, dir, "/", func(ci *fscopy.CopyInfo) {
				ci.CopyDirContents = true
				ci.XAttrErrorHandler = func(dst, src, key string, err error) error { return nil }
			}); err != nil {
				return trimRoots(err, root, dir)
			}
			if m.Mode == nil && m.UID == nil && m.GID == nil {
				st := fi.Sys().(*syscall.Stat_t)
				mode, uid, gid = fi.Mode().Perm(), int(st.Uid), int(st.Gid)
			}
		}
		if err := os.Chmod(dir, mode); err != nil {
			return err
		}
		return os.Lchown(dir, uid, gid)
	}
}

// secretsDir returns the step's tmpfs for secrets, mounting it the first
// time.
func (sm *stepMounts) secretsDir() (string, error) {
	if sm.secrets != "" {
		return sm.secrets, nil
	}
	dir := filepath.Join(sm.tmp, "secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0700"); err != nil {
		return "", fmt.Errorf("mounting a tmpfs for secrets: %w", err)
	}
	sm.undo = append(sm.undo, func() error { return unix.Unmount(dir, unix.MNT_DETACH) })
	sm.secrets = dir
	return dir, nil
}

// mountSecret provides the secret of m as a file, a variable or both.
func (r *stageRun) mountSecret(sm *stepMounts, m *runMount, i int) error {
	value, ok, err := r.b.secret(m.id)
	if err != nil {
		return err
	}
	if !ok {
		if m.Required {
			return fmt.Errorf("secret %q is required but not given (pass --secret id=%s,src=FILE or --secret id=%s,env=VARIABLE)", m.id, m.id, m.id)
		}
		return nil
	}
	dir, err := sm.secretsDir()
	if err != nil {
		return err
	}
	if m.env != "" {
		sm.env = append(sm.env, m.env+"="+string(value))
	}
	if m.target == "" {
		return nil
	}
	p := filepath.Join(dir, fmt.Sprintf("secret-%d", i))
	mode := os.FileMode(valueOr(m.Mode, 0o400))
	if err := os.WriteFile(p, value, 0o600); err != nil {
		return fmt.Errorf("secret %q: %w", m.id, err)
	}
	if err := os.Chmod(p, mode); err != nil {
		return err
	}
	if err := os.Lchown(p, int(valueOr(m.UID, 0)), int(valueOr(m.GID, 0))); err != nil {
		return err
	}
	sm.mounts = append(sm.mounts, sandbox.Mount{Type: "bind", Source: p, Destination: m.target, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}})
	return nil
}

// secret returns the value of the secret id, and false when the build was
// given no such secret. Errors name the secret, never its value.
func (b *Builder) secret(id string) ([]byte, bool, error) {
	src, ok := b.opts.Secrets[id]
	if !ok {
		return nil, false, nil
	}
	if src.File == "" {
		v, ok := os.LookupEnv(src.Env)
		if len(v) > maxSecretSize {
			return nil, false, fmt.Errorf("secret %q is too big: the limit is %d KiB", id, maxSecretSize>>10)
		}
		return []byte(v), ok, nil
	}
	f, err := os.Open(src.File)
	if err != nil {
		return nil, false, fmt.Errorf("secret %q: %w", id, err)
	}
	defer f.Close()
	v, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("secret %q: reading %s: %w", id, src.File, err)
	}
	if len(v) > maxSecretSize {
		return nil, false, fmt.Errorf("secret %q is too big: the limit is %d KiB", id, maxSecretSize>>10)
	}
	return v, true, nil
}

// forwardAgent makes a socket in the step's work directory that forwards
// each connection to the ssh-agent socket agent, with the mode (default
// 0600) and owner (default root) that m asks for, as BuildKit does, and
// returns its path. It stops forwarding when the step's mounts are
// released.
func (sm *stepMounts) forwardAgent(agent string, i int, m *runMount) (string, error) {
	c, err := net.Dial("unix", agent)
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %w", agent, err)
	}
	c.Close()
	p := filepath.Join(sm.tmp, fmt.Sprintf("ssh-%d.sock", i))
	l, err := net.Listen("unix", p)
	if err != nil {
		return "", err
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	sm.undo = append(sm.undo, func() error {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return nil
	})
	if err := os.Chmod(p, os.FileMode(valueOr(m.Mode, 0o600))); err != nil {
		return "", err
	}
	if err := os.Lchown(p, int(valueOr(m.UID, 0)), int(valueOr(m.GID, 0))); err != nil {
		return "", err
	}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("unix", agent)
			if err != nil {
				in.Close()
				continue
			}
			track(in, true)
			track(out, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				proxy(in, out)
				track(in, false)
				track(out, false)
			}()
		}
	}()
	return p, nil
}

// proxy copies between a and b until either side is done, then closes
// both.
func proxy(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if uc, ok := dst.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}
