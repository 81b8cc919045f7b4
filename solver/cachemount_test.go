package solver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

func testCacheSpec(sharing instructions.ShareMode, inits *int) cacheSpec {
	return cacheSpec{identity: "id", sharing: sharing, init: func(dir string) error {
		*inits++
		return os.WriteFile(filepath.Join(dir, "seed"), []byte("x"), 0o644)
	}}
}

func TestAcquireCacheSharing(t *testing.T) {
	ctx := context.Background()
	s := &store{dir: t.TempDir()}
	inits := 0

	// shared: every user gets the same instance, made once.
	a, err := s.acquireCache(ctx, testCacheSpec(instructions.MountSharingShared, &inits))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.acquireCache(ctx, testCacheSpec(instructions.MountSharingShared, &inits))
	if err != nil {
		t.Fatal(err)
	}
	if a.path != b.path || inits != 1 {
		t.Errorf("shared: instances %s and %s, %d inits, want one instance made once", a.path, b.path, inits)
	}
	if _, err := os.Stat(filepath.Join(a.path, "seed")); err != nil {
		t.Errorf("new instance not filled by init: %v", err)
	}

	// private: while the instance is in use, a new one.
	p, err := s.acquireCache(ctx, testCacheSpec(instructions.MountSharingPrivate, &inits))
	if err != nil {
		t.Fatal(err)
	}
	if p.path == a.path || inits != 2 {
		t.Errorf("private while in use: instance %s (shared one %s), %d inits, want a new instance", p.path, a.path, inits)
	}

	// locked: waits until the shared users are gone.
	got := make(chan cacheDir)
	go func() {
		l, err := s.acquireCache(ctx, testCacheSpec(instructions.MountSharingLocked, &inits))
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	select {
	case <-got:
		t.Fatal("locked did not wait for the shared users")
	case <-time.After(200 * time.Millisecond):
	}
	a.release()
	b.release()
	var l cacheDir
	select {
	case l = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("locked still waits after the shared users left")
	}
	if l.path != a.path {
		t.Errorf("locked: instance %s, want %s", l.path, a.path)
	}

	// A locked user blocks shared ones, until ctx ends.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.acquireCache(cctx, testCacheSpec(instructions.MountSharingShared, &inits)); err == nil {
		t.Errorf("shared got the instance a locked user holds")
	}
	l.release()

	// private again: the first free instance, not a new one.
	p.release()
	p2, err := s.acquireCache(ctx, testCacheSpec(instructions.MountSharingPrivate, &inits))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.release()
	if p2.path != a.path || inits != 2 {
		t.Errorf("private with all free: instance %s, %d inits, want %s reused", p2.path, inits, a.path)
	}
}

func TestAcquireCacheIdentity(t *testing.T) {
	ctx := context.Background()
	s := &store{dir: t.TempDir()}
	inits := 0
	one := testCacheSpec(instructions.MountSharingShared, &inits)
	two := one
	two.identity = "other"
	a, err := s.acquireCache(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	b, err := s.acquireCache(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	defer b.release()
	if a.path == b.path {
		t.Errorf("two ids share %s", a.path)
	}
}

func TestAcquireCacheFailedInit(t *testing.T) {
	s := &store{dir: t.TempDir()}
	spec := cacheSpec{identity: "id", init: func(string) error { return os.ErrPermission }}
	if _, err := s.acquireCache(context.Background(), spec); err == nil {
		t.Fatal("no error from a failed init")
	}
	// Nothing half made is left for the next user.
	inits := 0
	c, err := s.acquireCache(context.Background(), testCacheSpec(instructions.MountSharingShared, &inits))
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	if inits != 1 {
		t.Errorf("%d inits after a failed one, want 1", inits)
	}
	entries, _ := os.ReadDir(filepath.Dir(c.path))
	for _, e := range entries {
		if e.Name() != "0" && e.Name() != "0.lock" && e.Name() != "lock" && e.Name() != "id" {
			t.Errorf("left over: %s", e.Name())
		}
	}
}
