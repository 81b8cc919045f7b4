package solver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sys/unix"
)

// Cache mounts (RUN --mount=type=cache) are directories that outlive
// builds, kept under the cache directory:
//
//	cachemounts/<hash>/lock      held while instances are made or chosen;
//	                             its mtime is the cache's last use
//	cachemounts/<hash>/id        the cache's identity, for strata cache du
//	cachemounts/<hash>/<n>/      instance n: the directory a step sees
//	cachemounts/<hash>/<n>.lock  held by every step using instance n
//
// <hash> is the hash of the cache's identity: its id and what a new
// instance starts from (the from= source, or the mode and owner asked for),
// as BuildKit keys a cache by id and base. Most caches have one instance;
// sharing=private makes another one whenever all are in use. A step holds
// its instance's lock while it runs: shared by sharing=shared, exclusive by
// sharing=locked (which so waits for every other user) and by private
// (which never waits: it takes a free instance or makes a new one). flock
// locks work across builds on the same cache directory.

// cacheSpec says which cache a mount wants.
type cacheSpec struct {
	identity string // what the directory is named after
	sharing  instructions.ShareMode
	// init fills a new, empty instance directory.
	init func(dir string) error
}

// cacheDir is an instance of a cache in use; call release when the step
// is done with it.
type cacheDir struct {
	path    string
	release func()
}

// acquireCache finds or makes an instance of the cache for a step and locks
// it as spec.sharing says; for sharing=locked it waits, until ctx ends,
// while others use it.
func (s *store) acquireCache(ctx context.Context, spec cacheSpec) (cacheDir, error) {
	dir := filepath.Join(s.dir, "cachemounts", mountID(spec.identity))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cacheDir{}, fmt.Errorf("cache mount: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return cacheDir{}, fmt.Errorf("cache mount: %w", err)
	}
	removeUnfinished(dir)
	// What the cache is, for strata cache du; the lock's mtime is its
	// last use.
	if _, err := os.Lstat(filepath.Join(dir, "id")); err != nil {
		_ = os.WriteFile(filepath.Join(dir, "id"), []byte(spec.identity), 0o600)
	}
	s.use(filepath.Join(dir, "lock"))
	if spec.sharing == instructions.MountSharingPrivate {
		defer unlock()
		for n := 0; ; n++ {
			inst := filepath.Join(dir, strconv.Itoa(n))
			if err := ensureInstance(dir, inst, spec.init); err != nil {
				return cacheDir{}, err
			}
			release, ok, err := flock(inst+".lock", unix.LOCK_EX|unix.LOCK_NB)
			if err != nil {
				return cacheDir{}, err
			}
			if ok {
				return cacheDir{path: inst, release: release}, nil
			}
		}
	}
	inst := filepath.Join(dir, "0")
	err = ensureInstance(dir, inst, spec.init)
	unlock()
	if err != nil {
		return cacheDir{}, err
	}
	how := unix.LOCK_SH
	if spec.sharing == instructions.MountSharingLocked {
		how = unix.LOCK_EX
	}
	release, err := flockWait(ctx, inst+".lock", how)
	if err != nil {
		return cacheDir{}, err
	}
	return cacheDir{path: inst, release: release}, nil
}

// ensureInstance makes the instance directory inst, filled by init, unless
// it exists. The caller holds the cache's lock.
func ensureInstance(dir, inst string, init func(string) error) error {
	if _, err := os.Lstat(inst); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(dir, "new-")
	if err != nil {
		return fmt.Errorf("cache mount: %w", err)
	}
	if err := init(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cache mount: %w", err)
	}
	if err := os.Rename(tmp, inst); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cache mount: %w", err)
	}
	return nil
}

// removeUnfinished removes instances a killed build left half made. The
// caller holds the cache's lock.
func removeUnfinished(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "new-") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// flock takes the lock how (unix.LOCK_SH or LOCK_EX, with LOCK_NB not to
// wait) on the file path, creating it. ok is false when LOCK_NB was given
// and the lock is held elsewhere.
func flock(path string, how int) (release func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, true, nil
}

// flockWait takes the lock how on path, waiting while it is held
// elsewhere, until ctx ends.
func flockWait(ctx context.Context, path string, how int) (func(), error) {
	wait := 10 * time.Millisecond
	for {
		release, ok, err := flock(path, how|unix.LOCK_NB)
		if err != nil || ok {
			return release, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
