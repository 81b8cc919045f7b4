package solver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/layers"
)

// Cache mounts can travel with an exported cache (CacheExport.Mounts): the
// contents of each RUN --mount=type=cache directory the builds used go into
// the cache as a layer tar, under the mount's identity, and a build that
// imports the cache starts a cache mount it does not have yet from that tar
// instead of from an empty directory. So a package manager's download cache
// filled on one CI runner is there on the next, which starts empty. The
// tars are only fetched when a step that uses the mount runs.

// mountEntry is an exported cache mount: its identity's hash (the name of
// its directory under cachemounts/) and the blob of its contents.
type mountEntry struct {
	ID   string  `json:"id"`
	Blob v1.Hash `json:"blob"`
}

// mountID is the name of the directory of the cache mount with this
// identity.
func mountID(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:16])
}

// useMount notes that a step of the build uses the cache mount identity.
func (b *Builder) useMount(identity string) {
	b.mu.Lock()
	if b.usedMounts == nil {
		b.usedMounts = map[string]bool{}
	}
	b.usedMounts[mountID(identity)] = true
	b.mu.Unlock()
}

// importedMountInit wraps the function that fills a new instance of the
// cache mount identity: when an imported cache has contents for it, they
// are unpacked over what init made.
func (b *Builder) importedMountInit(identity string, init func(string) error) func(string) error {
	return func(dir string) error {
		if err := init(dir); err != nil {
			return err
		}
		b.mu.Lock()
		l, ok := b.importedMounts[mountID(identity)]
		b.mu.Unlock()
		if !ok {
			return nil
		}
		err := unpackMount(l, dir)
		if err == nil {
			return nil
		}
		// The contents are only a head start: a tar that is gone or
		// cannot be unpacked (Unpack refuses entries that would land
		// outside dir) leaves the mount as a new one.
		b.warn("cache mount %s: the imported contents are left out: %v", identity, err)
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return rerr
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		return init(dir)
	}
}

// unpackMount unpacks the exported cache mount l into dir.
func unpackMount(l v1.Layer, dir string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return layers.Unpack(rc, dir)
}

// exportMounts packs the cache mounts the builds used, each at most max
// bytes; a mount that is larger, or that cannot be packed, is left out with
// a warning. A mount this machine has no directory for, but an imported
// cache has contents of, is passed on as it was imported.
func (b *Builder) exportMounts(ctx context.Context, max int64) ([]mountEntry, []v1.Layer, error) {
	b.mu.Lock()
	var ids []string
	for id := range b.usedMounts {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	slices.Sort(ids)
	var entries []mountEntry
	var blobs []v1.Layer
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		inst := filepath.Join(b.store.dir, "cachemounts", id, "0")
		if _, err := os.Lstat(inst); err != nil {
			b.mu.Lock()
			l, ok := b.importedMounts[id]
			b.mu.Unlock()
			if ok {
				d, err := l.Digest()
				if err != nil {
					return nil, nil, err
				}
				entries = append(entries, mountEntry{ID: id, Blob: d})
				blobs = append(blobs, l)
			}
			continue
		}
		l, err := b.packMount(ctx, inst, max)
		if err != nil {
			b.warn("cache mount %s is not exported: %v", id, err)
			continue
		}
		entries = append(entries, mountEntry{ID: id, Blob: l.Digest})
		blobs = append(blobs, b.imageLayer(l))
	}
	return entries, blobs, nil
}

// packMount packs the cache mount instance inst, at most max bytes of
// files, holding its lock shared so that no sharing=locked step writes it
// meanwhile.
func (b *Builder) packMount(ctx context.Context, inst string, max int64) (layer, error) {
	release, err := flockWait(ctx, inst+".lock", unix.LOCK_SH)
	if err != nil {
		return layer{}, err
	}
	defer release()
	size, err := treeSize(inst)
	if err != nil {
		return layer{}, err
	}
	if size > max {
		return layer{}, fmt.Errorf("it holds %d bytes, more than the %d allowed (cache-mounts-max-size)", size, max)
	}
	return b.store.packLayer(inst, b.opts.Compression)
}

// treeSize is the sum of the sizes of the regular files below dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
