package sandbox

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// mountStubs are the paths that the runtime is about to create in a rootfs as
// mount points: the destinations of the step's mounts that do not exist in
// the rootfs yet, and their missing parent directories. They are not part of
// what the step wrote, so Docker and BuildKit never commit them; remove
// takes away those that are still empty stubs once the container is gone.
//
// Paths are kept relative to the rootfs, resolved inside it (a symlinked
// /etc/resolv.conf counts where it points, as the runtime follows it too).
type mountStubs struct {
	rootfs string
	paths  []string // clean, relative to rootfs, deepest first
	// parents are the existing directories the stubs go into (/etc for
	// /etc/hosts), with their times and entries before the step.
	parents map[string]parentState
}

type parentState struct {
	atime, mtime time.Time
	names        []string
}

// recordMountStubs notes which of dests (absolute paths inside rootfs) and
// their parents do not exist in rootfs. Call it before the runtime starts.
func recordMountStubs(rootfs string, dests []string) *mountStubs {
	s := &mountStubs{rootfs: rootfs}
	seen := map[string]bool{}
	for _, d := range dests {
		full, err := securejoin.SecureJoin(rootfs, d)
		if err != nil {
			continue
		}
		for {
			rel, err := filepath.Rel(rootfs, full)
			if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
				break
			}
			_, err = os.Lstat(full)
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
				break
			}
			if !seen[rel] {
				seen[rel] = true
				s.paths = append(s.paths, rel)
			}
			full = filepath.Dir(full)
		}
	}
	s.parents = map[string]parentState{}
	for _, rel := range s.paths {
		parentRel := filepath.Dir(rel)
		if seen[parentRel] || s.parents[parentRel].names != nil {
			continue
		}
		if st, ok := dirState(filepath.Join(rootfs, parentRel)); ok {
			s.parents[parentRel] = st
		}
	}
	// Deepest first, so a stub directory is empty by the time its turn
	// comes if all it holds are stubs.
	slices.SortFunc(s.paths, func(a, b string) int {
		if c := cmp.Compare(strings.Count(b, "/"), strings.Count(a, "/")); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return s
}

// remove deletes the recorded paths that exist now and are stubs: an empty
// directory or an empty regular file. Anything the step put there, or
// anything else at that path, stays. Call it after the container is gone.
//
// Like BuildKit it keeps the parent directory's timestamps as they were
// before the removal, and it only touches a path whose parent still
// resolves, inside the rootfs, to where it was recorded: a step that swapped
// a directory for a symlink cannot make it remove anything elsewhere.
func (s *mountStubs) remove() {
	for _, rel := range s.paths {
		parentRel := filepath.Dir(rel)
		parent, err := securejoin.SecureJoin(s.rootfs, parentRel)
		if err != nil || parent != filepath.Join(s.rootfs, parentRel) {
			continue
		}
		p := filepath.Join(parent, filepath.Base(rel))
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		var rm func(string) error
		switch {
		case fi.IsDir():
			rm = unix.Rmdir // fails on a directory that is not empty
		case fi.Mode().IsRegular() && fi.Size() == 0:
			rm = unix.Unlink
		default:
			continue
		}
		pfi, err := os.Stat(parent)
		if err != nil {
			continue
		}
		if rm(p) != nil {
			continue
		}
		mtime := pfi.ModTime()
		atime := mtime
		if st, ok := pfi.Sys().(*syscall.Stat_t); ok {
			atime = time.Unix(st.Atim.Unix())
		}
		_ = os.Chtimes(parent, atime, mtime)
	}
	// A directory that only gained and lost stubs gets its times from
	// before the step back, so the layer does not carry a change to it
	// (BuildKit's differ leaves such directories out).
	for rel, before := range s.parents {
		parent, err := securejoin.SecureJoin(s.rootfs, rel)
		if err != nil || parent != filepath.Join(s.rootfs, rel) {
			continue
		}
		if now, ok := dirState(parent); ok && slices.Equal(now.names, before.names) {
			_ = os.Chtimes(parent, before.atime, before.mtime)
		}
	}
}

// dirState reads a directory's times and sorted entry names.
func dirState(dir string) (parentState, bool) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return parentState{}, false
	}
	f, err := os.Open(dir)
	if err != nil {
		return parentState{}, false
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return parentState{}, false
	}
	slices.Sort(names)
	st := parentState{mtime: fi.ModTime(), atime: fi.ModTime(), names: append([]string{}, names...)}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.atime = time.Unix(sys.Atim.Unix())
	}
	return st, true
}
