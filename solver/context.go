package solver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/frontend"
)

// contextMirror is a copy of the build context with the .dockerignore'd
// paths left out. COPY reads from it, which gives .dockerignore exactly the
// effect it has in docker build (where the context is sent to the daemon
// filtered), and it keeps a content digest per file so cache keys depend on
// content, not on mtimes. BuildKit keeps a synced copy of the context for
// the same reasons.
//
// A rebuild only stats the context: a file whose size, mtime, ctime and inode
// are unchanged keeps its copy and digest.
type contextMirror struct {
	dir   string
	files map[string]fileEntry // by slash path relative to the root
	// nodes describes every entry of a synced mirror by slash path (the
	// root is ""), as Lstat would, so that a tree digest is computed from
	// memory rather than by walking the mirror again. nil for a mirror made
	// in place (mirrorInPlace), whose tree digests walk the directory.
	nodes map[string]mirrorNode
}

// mirrorNode is one entry of a synced mirror.
type mirrorNode struct {
	mode     fs.FileMode // the mirror entry's mode
	target   string      // a symlink's target
	children []string    // a directory's entries, sorted by name
}

// fileEntry is a context file as the index records it (see contextIndex).
type fileEntry struct {
	Size, Mtime, Ctime int64
	Ino                uint64
	Mode               uint32
	Digest             string
}

// syncContext brings the mirror of c under the store up to date and locks
// it for the rest of the build; call release when done.
func (s *store) syncContext(c *frontend.Context) (m *contextMirror, release func(), err error) {
	sum := sha256.Sum256([]byte(c.Dir + "\x00" + strings.Join(c.Excludes, "\n")))
	dir := filepath.Join(s.dir, "context", hex.EncodeToString(sum[:8]))
	lock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, nil, err
	}
	m = &contextMirror{dir: filepath.Join(dir, "root"), files: map[string]fileEntry{}, nodes: map[string]mirrorNode{}}
	index := filepath.Join(dir, contextIndex)
	old := readContextIndex(index)
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		lock()
		return nil, nil, err
	}
	sy := &syncer{m: m, c: c, old: old}
	// A cache directory inside the context (`--cache-dir .cache` in a
	// CI checkout) is not part of it: mirroring it would mirror the
	// mirror, without end.
	sy.cacheDir, _ = os.Stat(s.dir)
	sy.copies.SetLimit(runtime.GOMAXPROCS(0))
	children, err := sy.sync("", frontend.MatchInfo{})
	if cerr := sy.finish(); err == nil {
		err = cerr
	}
	if err != nil {
		lock()
		return nil, nil, fmt.Errorf("reading build context %s: %w", c.Dir, err)
	}
	rootInfo, err := os.Lstat(m.dir)
	if err != nil {
		lock()
		return nil, nil, err
	}
	m.nodes[""] = mirrorNode{mode: rootInfo.Mode(), children: children}
	if err := m.prune(""); err != nil {
		lock()
		return nil, nil, err
	}
	// A rebuild of an unchanged context rewrites nothing; the cache grew
	// only if some file has content it did not have before (a touched
	// file is copied again, but takes no more room).
	if !maps.Equal(old, m.files) {
		if err := writeContextIndex(s, index, m.files); err != nil {
			lock()
			return nil, nil, err
		}
		for p, e := range m.files {
			if o, ok := old[p]; !ok || o.Digest != e.Digest || o.Size != e.Size {
				s.grew.Store(true)
				break
			}
		}
	}
	// What the mirror is of, for strata cache du.
	source := filepath.Join(dir, "source")
	if old, err := os.ReadFile(source); err != nil || string(old) != c.Dir {
		_ = os.WriteFile(source, []byte(c.Dir), 0o600)
	}
	s.use(index)
	return m, lock, nil
}

// contextIndex is the file, beside a mirror's root, that lists the files
// of the context as the last sync saw them: one line per file, of
// tab-separated path (Go-quoted), size, mtime, ctime, inode, mode and
// digest. A text format rather than JSON: a rebuild of a context of 10,000
// files reads it in a few milliseconds.
const contextIndex = "index"

func readContextIndex(p string) map[string]fileEntry {
	data, err := os.ReadFile(p)
	if err != nil {
		return map[string]fileEntry{}
	}
	out := make(map[string]fileEntry, bytes.Count(data, []byte{'\n'}))
	for line := range strings.Lines(string(data)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 7 {
			return map[string]fileEntry{} // not ours: hash everything again
		}
		name, err := strconv.Unquote(f[0])
		if err != nil {
			return map[string]fileEntry{}
		}
		var e fileEntry
		var errs [5]error
		e.Size, errs[0] = strconv.ParseInt(f[1], 10, 64)
		e.Mtime, errs[1] = strconv.ParseInt(f[2], 10, 64)
		e.Ctime, errs[2] = strconv.ParseInt(f[3], 10, 64)
		e.Ino, errs[3] = strconv.ParseUint(f[4], 10, 64)
		mode, err := strconv.ParseUint(f[5], 10, 32)
		errs[4] = err
		if errors.Join(errs[:]...) != nil {
			return map[string]fileEntry{}
		}
		e.Mode, e.Digest = uint32(mode), f[6]
		out[name] = e
	}
	return out
}

// writeContextIndex writes files to p atomically.
func writeContextIndex(s *store, p string, files map[string]fileEntry) error {
	// Appended by hand: fmt took a third of a touch rebuild of 10,000 files.
	b := make([]byte, 0, len(files)*160)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		e := files[name]
		b = strconv.AppendQuote(b, name)
		for _, n := range []int64{e.Size, e.Mtime, e.Ctime} {
			b = strconv.AppendInt(append(b, '\t'), n, 10)
		}
		b = strconv.AppendUint(append(b, '\t'), e.Ino, 10)
		b = strconv.AppendUint(append(b, '\t'), uint64(e.Mode), 10)
		b = append(append(append(b, '\t'), e.Digest...), '\n')
	}
	return writeFileAtomic(s, p, b)
}

// syncer brings a mirror up to date. The walk of the context is
// sequential; the files that must be copied (and hashed) are copied by a
// pool of goroutines, one per core: creating and writing thousands of files
// is kernel time, which one goroutine leaves the other cores without.
// Directory times are set once every copy is done, since creating a file
// in a directory changes its mtime.
type syncer struct {
	m      *contextMirror
	c      *frontend.Context
	old    map[string]fileEntry
	copies errgroup.Group

	mu       sync.Mutex // guards m.files while copies run
	dirTimes []dirTime
	cacheDir fs.FileInfo // the store's directory, left out of the mirror
}

type dirTime struct {
	path string
	fi   fs.FileInfo
}

// finish waits for the copies, then sets the directories' times.
func (sy *syncer) finish() error {
	if err := sy.copies.Wait(); err != nil {
		return err
	}
	for _, d := range sy.dirTimes {
		if err := setTimes(d.path, d.fi); err != nil {
			return err
		}
	}
	return nil
}

// sync mirrors the directory rel (and below) of the context, and returns
// the names it kept in rel, sorted.
func (sy *syncer) sync(rel string, parent frontend.MatchInfo) ([]string, error) {
	m, c, old := sy.m, sy.c, sy.old
	src := filepath.Join(c.Dir, filepath.FromSlash(rel))
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		ignored, info, err := c.Ignored(p, parent)
		if err != nil {
			return nil, err
		}
		if ignored && (!e.IsDir() || !c.HasExceptions()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(m.dir, filepath.FromSlash(p))
		switch {
		case fi.IsDir() && sy.cacheDir != nil && os.SameFile(fi, sy.cacheDir):
			continue
		case fi.IsDir():
			if err := ensureDir(dst, fi); err != nil {
				return nil, err
			}
			children, err := sy.sync(p, info)
			if err != nil {
				return nil, err
			}
			if ignored && len(children) == 0 {
				// Only an exception below made us enter; keep the
				// directory only if something in it was kept.
				os.RemoveAll(dst)
				continue
			}
			sy.dirTimes = append(sy.dirTimes, dirTime{dst, fi})
			m.nodes[p] = mirrorNode{mode: fs.ModeDir | fi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky), children: children}
		case ignored:
			continue
		case fi.Mode().IsRegular():
			ent, unchanged := statEntry(fi, old[p])
			if unchanged {
				sy.mu.Lock()
				m.files[p] = ent
				sy.mu.Unlock()
			} else {
				from := filepath.Join(src, e.Name())
				sy.copies.Go(func() error {
					ent, err := copyFile(from, dst, fi, ent)
					if err != nil {
						return err
					}
					sy.mu.Lock()
					m.files[p] = ent
					sy.mu.Unlock()
					return nil
				})
			}
			m.nodes[p] = mirrorNode{mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(src, e.Name()))
			if err != nil {
				return nil, err
			}
			if cur, err := os.Readlink(dst); err != nil || cur != target {
				os.RemoveAll(dst)
				if err := os.Symlink(target, dst); err != nil {
					return nil, err
				}
			}
			// COPY keeps a link's own mtime, as docker build does.
			if err := setTimes(dst, fi); err != nil {
				return nil, err
			}
			m.nodes[p] = mirrorNode{mode: fs.ModeSymlink | 0o777, target: target}
		default:
			// Sockets, devices and fifos are not sent by docker build either.
			continue
		}
		kept = append(kept, e.Name())
	}
	return kept, nil
}

// statEntry is the index entry of a context file from its stat data, and
// whether the old entry still describes it (it keeps its digest).
func statEntry(fi fs.FileInfo, old fileEntry) (fileEntry, bool) {
	st := fi.Sys().(*syscall.Stat_t)
	ent := fileEntry{
		Size:  fi.Size(),
		Mtime: fi.ModTime().UnixNano(),
		Ctime: time.Unix(st.Ctim.Unix()).UnixNano(),
		Ino:   st.Ino,
		Mode:  uint32(fi.Mode()),
	}
	// The mirror's copy is trusted without a look: only a sync writes it,
	// under the context's lock, and the index is replaced after the copies
	// it describes are complete, so a sync that was killed leaves changed
	// files with their old stat data in the index, to be copied again.
	if old.Digest != "" && old.Size == ent.Size && old.Mtime == ent.Mtime && old.Ctime == ent.Ctime && old.Ino == ent.Ino && old.Mode == ent.Mode {
		ent.Digest = old.Digest
		return ent, true
	}
	return ent, false
}

// copyFile copies the context file src to the mirror's dst, sets its mode
// and times, and returns ent with its content digest.
func copyFile(src, dst string, fi fs.FileInfo, ent fileEntry) (fileEntry, error) {
	in, err := os.Open(src)
	if err != nil {
		return ent, err
	}
	defer in.Close()
	os.RemoveAll(dst)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return ent, err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return ent, err
	}
	if err := out.Close(); err != nil {
		return ent, err
	}
	if err := os.Chmod(dst, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return ent, err
	}
	ent.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return ent, setTimes(dst, fi)
}

// prune removes from the mirror what the context no longer has: what the
// sync made no node for.
func (m *contextMirror) prune(rel string) error {
	entries, err := os.ReadDir(filepath.Join(m.dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		if _, kept := m.nodes[p]; !kept {
			if err := os.RemoveAll(filepath.Join(m.dir, filepath.FromSlash(p))); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() {
			if err := m.prune(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve follows the symlinks of rel (a slash path relative to the
// mirror root) inside the mirror, as if it were "/", and returns the
// resolved relative path, which exists and is a regular file or a
// directory. Links that point outside the context resolve inside it, as in
// docker build, so they never reach the host's files.
func (m *contextMirror) resolve(rel string) (string, error) {
	full, err := securejoin.SecureJoin(m.dir, rel)
	if err != nil {
		return "", err
	}
	fi, err := os.Lstat(full)
	if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) {
		return "", fmt.Errorf("%q not found in the build context (or excluded by .dockerignore)", rel)
	}
	out, err := filepath.Rel(m.dir, full)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(out), nil
}

// digestTree writes to h a description of the file tree at rel (a path
// from resolve): names, types, modes, link targets and content digests, in
// sorted order. Symlinks inside the tree are described, not followed.
func (m *contextMirror) digestTree(h io.Writer, rel string) error {
	if m.nodes != nil {
		return m.digestNodes(h, rel)
	}
	return m.digestWalk(h, rel)
}

// digestWalk is digestTree by walking the mirror.
func (m *contextMirror) digestWalk(h io.Writer, rel string) error {
	root := filepath.Join(m.dir, filepath.FromSlash(rel))
	top, err := os.Lstat(root)
	if err != nil {
		return err
	}
	if !top.IsDir() {
		fmt.Fprintf(h, "f %o %s\n", top.Mode(), m.digestOf(rel))
		return nil
	}
	var walk func(dir, relDir string) error
	walk = func(dir, relDir string) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			r := path.Join(relDir, e.Name())
			fi, err := e.Info()
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				fmt.Fprintf(h, "d %q %o\n", r, fi.Mode())
				if err := walk(p, r); err != nil {
					return err
				}
			case fi.Mode()&fs.ModeSymlink != 0:
				t, _ := os.Readlink(p)
				fmt.Fprintf(h, "l %q %q\n", r, t)
			default:
				fmt.Fprintf(h, "f %q %o %s\n", r, fi.Mode(), m.digestOf(path.Join(rel, r)))
			}
		}
		return nil
	}
	fmt.Fprintf(h, "d . %o\n", top.Mode())
	return walk(root, "")
}

// digestNodes is digestTree from the nodes the sync recorded: the same
// description, without reading the mirror again.
func (m *contextMirror) digestNodes(h io.Writer, rel string) error {
	if rel == "." {
		rel = ""
	}
	top, ok := m.nodes[rel]
	if !ok {
		return fmt.Errorf("%q is not in the build context's mirror", rel)
	}
	if !top.mode.IsDir() {
		fmt.Fprintf(h, "f %o %s\n", top.mode, m.digestOf(rel))
		return nil
	}
	// Appended by hand, the bytes fmt's "%q" and "%o" would give: fmt
	// took a tenth of a touch rebuild of 10,000 files. The lines are
	// cache keys' input; TestDigestNodesFormat pins them.
	var b []byte
	line := func(kind byte, r string, mode fs.FileMode) {
		b = strconv.AppendQuote(append(b, kind, ' '), r)
		b = strconv.AppendUint(append(b, ' '), uint64(mode), 8)
	}
	var walk func(dir, relDir string, n mirrorNode)
	walk = func(dir, relDir string, n mirrorNode) {
		for _, name := range n.children {
			p, r := path.Join(dir, name), path.Join(relDir, name)
			c := m.nodes[p]
			switch {
			case c.mode.IsDir():
				line('d', r, c.mode)
				b = append(b, '\n')
				walk(p, r, c)
			case c.mode&fs.ModeSymlink != 0:
				b = strconv.AppendQuote(append(b, 'l', ' '), r)
				b = append(strconv.AppendQuote(append(b, ' '), c.target), '\n')
			default:
				line('f', r, c.mode)
				b = append(append(append(b, ' '), m.digestOf(p)...), '\n')
			}
			if len(b) > 32<<10 {
				h.Write(b)
				b = b[:0]
			}
		}
	}
	b = append(strconv.AppendUint(append(b, "d . "...), uint64(top.mode), 8), '\n')
	walk(rel, "", top)
	_, err := h.Write(b)
	return err
}

// digestOf is the content digest the sync recorded for the regular file
// at rel; the mirror holds no other regular files.
func (m *contextMirror) digestOf(rel string) string {
	if e, ok := m.files[path.Clean(rel)]; ok {
		return e.Digest
	}
	return "unknown"
}

func ensureDir(dst string, fi fs.FileInfo) error {
	cur, err := os.Lstat(dst)
	if err == nil && !cur.IsDir() {
		os.RemoveAll(dst)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return os.Chmod(dst, fi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSticky))
}

func setTimes(p string, fi fs.FileInfo) error {
	ts := []unix.Timespec{unix.NsecToTimespec(fi.ModTime().UnixNano()), unix.NsecToTimespec(fi.ModTime().UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// lockFile takes an exclusive lock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}
