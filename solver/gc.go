package solver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// The cache directory looks after itself: DiskUsage says what uses the
// space, Prune and Builder.Close (under Options.CacheMaxSize) evict the
// least recently used entries. An entry is evicted whole:
//
//	layer        layers/<diffid>/, layers/<diffid>.json, the blobs that record
//	             lists (unless another entry lists them too) and the key
//	             records of the steps that made the layer
//	key          key records whose layer has nothing stored here
//	image        images/<digest>.json and the base image's manifest, index
//	             and config blobs (its layers are layer entries)
//	blob         a blob that no record lists
//	context      context/<hash>/ and its lock: a build context's mirror
//	cache-mount  cachemounts/<hash>/: a RUN --mount=type=cache directory
//	git          git/<hash>.git and its lock: a bare repository
//	explain      a file of explain/: what a step's last build read, to
//	             explain its next cache miss
//	log          a file of logs/: the full output of a RUN step whose
//	             progress output was clipped
//
// tmp/ and runc/ ("temporary") hold the work of running builds and are
// emptied whenever no build runs; anything else ("other": build.lock, files
// strata does not know) is counted but never removed.
//
// Sizes are apparent sizes: the length of each regular file and symlink,
// a file with several links counted once; directories count nothing.
// An entry's last use is the newest mtime of its record files (a build
// sets them when it ends, see store.stampUsed), or of its directory when
// it has none.
//
// Eviction runs only while build.lock is held exclusively, so never under
// a running build. It removes an entry's key records first (a step never
// hits a half-removed layer), then moves its directories into tmp/ and
// removes them there, then its records and the blobs nothing else lists. A
// removal cut short by SIGKILL leaves whole entries, or parts that read as
// misses (a layer record without its directory, a blob without a record)
// and that the next eviction removes; what was moved into tmp/ goes when a
// build next finds the cache idle.

// Kinds of UsageEntry.
const (
	KindLayer      = "layer"
	KindKey        = "key"
	KindImage      = "image"
	KindBlob       = "blob"
	KindContext    = "context"
	KindCacheMount = "cache-mount"
	KindGit        = "git"
	KindExplain    = "explain"
	KindLog        = "log"
	KindTemporary  = "temporary"
	KindOther      = "other"
)

// UsageEntry is one entry of the cache directory.
type UsageEntry struct {
	Kind string `json:"kind"`
	// ID names the entry: a diff ID, digest or hash (hex), or a path.
	ID          string    `json:"id"`
	Description string    `json:"description,omitempty"`
	Size        int64     `json:"size"`
	LastUsed    time.Time `json:"lastUsed"`
	// Paths are the entry's files and directories, relative to the cache
	// directory.
	Paths []string `json:"paths"`
}

// Usage is what uses the space of a cache directory. Total is the sum of
// the entries' sizes: every file under the directory, counted once.
type Usage struct {
	Entries []UsageEntry `json:"entries"`
	Total   int64        `json:"total"`
}

// PruneOptions say what Prune removes.
type PruneOptions struct {
	// All removes every entry, cache mounts included.
	All bool
	// KeepStorage, without All, evicts the least recently used entries
	// until the cache is at most this many bytes.
	KeepStorage int64
	// KeepCacheMounts, without All, leaves cache mounts alone.
	KeepCacheMounts bool
	// Runtime is the OCI runtime whose leftover containers are cleared
	// (default runc).
	Runtime string
	// OnWait is called, once, when Prune must wait for running builds.
	OnWait func()
}

// PruneReport says what an eviction removed.
type PruneReport struct {
	// Removed lists the entries removed; Size is the bytes each freed.
	Removed []UsageEntry `json:"removed"`
	Freed   int64        `json:"freed"`
	// Remaining is the size of the cache afterwards.
	Remaining int64 `json:"remaining"`
	// Skipped is set when another build was running on the cache, so
	// nothing was evicted (that build evicts when it ends).
	Skipped bool `json:"skipped,omitempty"`
}

// DefaultCacheMaxSize is the size cap for a cache in dir when none is
// given: a tenth of the filesystem that holds it, at least 2 GiB.
func DefaultCacheMaxSize(dir string) int64 {
	const floor = 2 << 30
	for d := dir; ; d = filepath.Dir(d) {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil {
			return max(int64(st.Blocks)*st.Bsize/10, floor)
		}
		if d == filepath.Dir(d) {
			return floor
		}
	}
}

// DiskUsage lists the entries of the cache directory dir, largest first.
// It takes no lock: entries that builds add or remove meanwhile may be
// missed. A missing directory has no entries.
func DiskUsage(dir string) (*Usage, error) {
	inv, err := scan(dir)
	if err != nil {
		return nil, err
	}
	u := &Usage{Entries: []UsageEntry{}}
	for _, e := range inv.units {
		u.Entries = append(u.Entries, inv.entry(e))
		u.Total += inv.size(e)
	}
	sort.SliceStable(u.Entries, func(i, j int) bool { return u.Entries[i].Size > u.Entries[j].Size })
	return u, nil
}

// Prune evicts entries from the cache directory dir as opts say. It waits,
// until ctx ends, for the builds running on the cache to finish, and first
// clears what killed builds left.
func Prune(ctx context.Context, dir string, opts PruneOptions) (*PruneReport, error) {
	if _, err := os.Stat(dir); isNotExist(err) {
		return &PruneReport{}, nil
	}
	lockPath := filepath.Join(dir, "build.lock")
	release, ok, err := flock(lockPath, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return nil, fmt.Errorf("pruning cache: %w", err)
	}
	if !ok {
		if opts.OnWait != nil {
			opts.OnWait()
		}
		if release, err = flockWait(ctx, lockPath, unix.LOCK_EX); err != nil {
			return nil, fmt.Errorf("pruning cache: waiting for running builds: %w", err)
		}
	}
	defer release()
	s := &store{dir: dir}
	rep, err := s.evictLocked(ctx, opts)
	if err != nil {
		return rep, fmt.Errorf("pruning cache: %w", err)
	}
	return rep, nil
}

// evictPendingFile, in the cache directory, says that a build that ended
// while others ran left the eviction to them.
const evictPendingFile = "evict.pending"

// evictIfIdle evicts down to maxSize if build.lock, held shared through f,
// can be had exclusively at once; if another build holds it, the report
// says Skipped, and the eviction is left pending for the last build to end.
// With onlyIfPending (the build added nothing to the cache), it evicts only
// what such a build left pending, and otherwise does not look at the cache.
// Either way f's lock is no longer held shared afterwards.
func (s *store) evictIfIdle(ctx context.Context, f *os.File, runtime string, maxSize int64, onlyIfPending bool) (*PruneReport, error) {
	pending := filepath.Join(s.dir, evictPendingFile)
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, err
		}
		if !onlyIfPending {
			// Written while this build still holds build.lock: the
			// build that gets it exclusively next sees the file.
			if err := os.WriteFile(pending, nil, 0o600); err != nil {
				return nil, err
			}
		}
		return &PruneReport{Skipped: true}, nil
	}
	if onlyIfPending {
		if _, err := os.Lstat(pending); err != nil {
			return &PruneReport{}, nil
		}
	}
	rep, err := s.evictLocked(ctx, PruneOptions{KeepStorage: maxSize, Runtime: runtime})
	if err == nil {
		_ = os.Remove(pending)
	}
	return rep, err
}

// removeHook, when set (by tests), is called before each step of a
// removal.
var removeHook func()

// evictLocked evicts as opts say; the caller holds build.lock exclusively.
func (s *store) evictLocked(ctx context.Context, opts PruneOptions) (*PruneReport, error) {
	if opts.Runtime == "" {
		opts.Runtime = "runc"
	}
	s.clearStale(opts.Runtime)
	inv, err := scan(s.dir)
	if err != nil {
		return nil, err
	}
	total := int64(0)
	var cands []*unit
	for _, u := range inv.units {
		total += inv.size(u)
		if u.evictable && (opts.All || !opts.KeepCacheMounts || u.Kind != KindCacheMount) {
			cands = append(cands, u)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if !a.LastUsed.Equal(b.LastUsed) {
			return a.LastUsed.Before(b.LastUsed)
		}
		return a.ID < b.ID
	})
	rep := &PruneReport{Removed: []UsageEntry{}}
	var gcDir string
	defer func() {
		if gcDir != "" {
			os.RemoveAll(gcDir)
		}
	}()
	for _, u := range cands {
		if !opts.All && total <= opts.KeepStorage {
			break
		}
		if err := ctx.Err(); err != nil {
			rep.Remaining = total
			return rep, err
		}
		if gcDir == "" && len(u.dirs) > 0 {
			if gcDir, err = os.MkdirTemp(filepath.Join(s.dir, "tmp"), "gc-"); err != nil {
				return rep, err
			}
		}
		e := inv.entry(u)
		freed, err := inv.remove(u, gcDir)
		total -= freed
		rep.Freed += freed
		e.Size = freed
		rep.Removed = append(rep.Removed, e)
		if err != nil {
			rep.Remaining = total
			return rep, fmt.Errorf("removing %s %s: %w", u.Kind, u.ID, err)
		}
	}
	rep.Remaining = total
	return rep, nil
}

// unit is an entry and what removing it takes.
type unit struct {
	UsageEntry
	own   int64    // bytes of the files only it holds
	blobs []string // hex of the blobs it lists, present ones only
	keys  []string // key records, removed first
	dirs  []string // moved into tmp/, then removed
	files []string // removed after the directories
	// evictable is false for temporary and other entries.
	evictable bool
	dirTime   time.Time
}

// inventory is the cache directory as entries.
type inventory struct {
	dir      string
	units    []*unit
	blobSize map[string]int64
	refs     map[string][]*unit // blob hex → the entries that list it
	inodes   inodes
}

func (inv *inventory) rel(p string) string {
	r, err := filepath.Rel(inv.dir, p)
	if err != nil {
		return p
	}
	return r
}

// owner is the entry a shared blob's size is counted for: the one used
// last, as evicting it is what frees the blob.
func (inv *inventory) owner(hex string) *unit {
	var o *unit
	for _, u := range inv.refs[hex] {
		if o == nil || u.LastUsed.After(o.LastUsed) {
			o = u
		}
	}
	return o
}

func (inv *inventory) size(u *unit) int64 {
	n := u.own
	for _, h := range u.blobs {
		if inv.owner(h) == u {
			n += inv.blobSize[h]
		}
	}
	return n
}

func (inv *inventory) entry(u *unit) UsageEntry {
	e := u.UsageEntry
	e.Size = inv.size(u)
	e.Paths = nil
	for _, group := range [][]string{u.dirs, u.files, u.keys} {
		for _, p := range group {
			e.Paths = append(e.Paths, inv.rel(p))
		}
	}
	for _, h := range u.blobs {
		e.Paths = append(e.Paths, filepath.Join("blobs", "sha256", h))
	}
	if e.Paths == nil {
		e.Paths = []string{}
	}
	return e
}

// remove deletes u's files and returns the bytes that freed: its own and
// those of the blobs no remaining entry lists.
func (inv *inventory) remove(u *unit, gcDir string) (int64, error) {
	step := func() {
		if removeHook != nil {
			removeHook()
		}
	}
	var freed int64
	for _, p := range u.keys {
		step()
		if err := os.Remove(p); err != nil && !isNotExist(err) {
			return freed, err
		}
	}
	for i, d := range u.dirs {
		step()
		moved := filepath.Join(gcDir, fmt.Sprintf("%d-%s", i, filepath.Base(d)))
		if err := os.Rename(d, moved); err != nil {
			if isNotExist(err) {
				continue
			}
			return freed, err
		}
		step()
		if err := os.RemoveAll(moved); err != nil {
			return freed, err
		}
	}
	for _, p := range u.files {
		step()
		if err := os.Remove(p); err != nil && !isNotExist(err) {
			return freed, err
		}
	}
	freed = u.own
	for _, h := range u.blobs {
		rest := inv.refs[h][:0:0]
		for _, o := range inv.refs[h] {
			if o != u {
				rest = append(rest, o)
			}
		}
		inv.refs[h] = rest
		if len(rest) > 0 {
			continue
		}
		step()
		if err := os.Remove(filepath.Join(inv.dir, "blobs", "sha256", h)); err != nil && !isNotExist(err) {
			return freed, err
		}
		freed += inv.blobSize[h]
	}
	return freed, nil
}

// inodes counts the files with several links once.
type inodes map[[2]uint64]bool

func (n inodes) size(info fs.FileInfo) int64 {
	m := info.Mode()
	if !m.IsRegular() && m&fs.ModeSymlink == 0 {
		return 0
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
		k := [2]uint64{uint64(st.Dev), st.Ino}
		if n[k] {
			return 0
		}
		n[k] = true
	}
	return info.Size()
}

// tree is the size of everything at or below p.
func (n inodes) tree(p string) int64 {
	var total int64
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone meanwhile, or unreadable: not counted
		}
		if info, err := d.Info(); err == nil {
			total += n.size(info)
		}
		return nil
	})
	return total
}

func mtime(p string) (time.Time, bool) {
	info, err := os.Lstat(p)
	if err != nil {
		return time.Time{}, false
	}
	return info.ModTime(), true
}

// isHex64 reports whether s is the hex of a sha256 digest.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// scan reads the cache directory dir into entries.
func scan(dir string) (*inventory, error) {
	inv := &inventory{dir: dir, blobSize: map[string]int64{}, refs: map[string][]*unit{}, inodes: inodes{}}
	top, err := os.ReadDir(dir)
	if isNotExist(err) {
		return inv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cache %s: %w", dir, err)
	}
	add := func(u *unit) *unit {
		if u.Paths == nil {
			u.Paths = []string{}
		}
		inv.units = append(inv.units, u)
		return u
	}
	other := func(kind, p string, evictable bool) {
		info, err := os.Lstat(p)
		if err != nil {
			return
		}
		u := &unit{UsageEntry: UsageEntry{Kind: kind, ID: inv.rel(p), LastUsed: info.ModTime()}, evictable: evictable}
		if info.IsDir() {
			u.own = inv.inodes.tree(p)
			u.dirs = []string{p}
		} else {
			u.own = inv.inodes.size(info)
			u.files = []string{p}
		}
		if u.own > 0 || evictable {
			add(u) // empty lock files and folders are not worth a line
		}
	}
	list := func(sub string) []os.DirEntry {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		return entries
	}

	// Blobs first: records refer to them.
	blobTime := map[string]time.Time{}
	for _, e := range list("blobs/sha256") {
		p := filepath.Join(dir, "blobs", "sha256", e.Name())
		info, err := e.Info()
		if err != nil {
			continue
		}
		if !isHex64(e.Name()) || !info.Mode().IsRegular() {
			other(KindOther, p, false)
			continue
		}
		inv.blobSize[e.Name()] = inv.inodes.size(info)
		blobTime[e.Name()] = info.ModTime()
	}
	refer := func(u *unit, h v1.Hash) {
		if h.Algorithm != "sha256" {
			return
		}
		if _, ok := inv.blobSize[h.Hex]; !ok {
			return
		}
		for _, have := range u.blobs {
			if have == h.Hex {
				return
			}
		}
		u.blobs = append(u.blobs, h.Hex)
		inv.refs[h.Hex] = append(inv.refs[h.Hex], u)
	}
	newer := func(u *unit, t time.Time) {
		if t.After(u.LastUsed) {
			u.LastUsed = t
		}
	}

	// Layers: directories, blob records and the key records of steps.
	layersByID := map[string]*unit{}
	layerOf := func(hex string) *unit {
		u := layersByID[hex]
		if u == nil {
			u = add(&unit{UsageEntry: UsageEntry{Kind: KindLayer, ID: "sha256:" + hex}, evictable: true})
			layersByID[hex] = u
		}
		return u
	}
	layerEntries := list("layers")
	measured := map[string]bool{}
	for _, e := range layerEntries {
		if hex, ok := strings.CutSuffix(e.Name(), ".size"); ok && isHex64(hex) {
			measured[hex] = true
		}
	}
	for _, e := range layerEntries {
		p := filepath.Join(dir, "layers", e.Name())
		info, err := e.Info()
		if err != nil {
			continue
		}
		if hex, ok := strings.CutSuffix(e.Name(), ".size"); ok && isHex64(hex) && info.Mode().IsRegular() {
			u := layerOf(hex)
			u.files = append(u.files, p)
			u.own += inv.inodes.size(info)
			continue
		}
		switch hex, isRecord := strings.CutSuffix(e.Name(), ".json"); {
		case isRecord && isHex64(hex) && info.Mode().IsRegular():
			u := layerOf(hex)
			u.files = append(u.files, p)
			u.own += inv.inodes.size(info)
			newer(u, info.ModTime())
			var rec blobRecord
			if readJSON(p, &rec) == nil {
				for _, b := range rec.Blobs {
					refer(u, b.Digest)
				}
			}
		case !isRecord && isHex64(e.Name()) && info.IsDir():
			u := layerOf(e.Name())
			u.dirs = append(u.dirs, p)
			u.dirTime = info.ModTime()
			var n int64
			if measured[e.Name()] && readJSON(p+".size", &n) == nil {
				u.own += n
				continue
			}
			// A layer from before sizes were kept: measure it once.
			n = inodes{}.tree(p)
			u.own += n
			if writeJSON(&store{dir: dir}, p+".size", n) == nil && !measured[e.Name()] {
				if info, err := os.Lstat(p + ".size"); err == nil {
					u.files = append(u.files, p+".size")
					u.own += info.Size()
				}
			}
		default:
			other(KindOther, p, false)
		}
	}
	stepTime := map[*unit]time.Time{}
	for _, e := range list("keys") {
		p := filepath.Join(dir, "keys", e.Name())
		info, err := e.Info()
		if err != nil {
			continue
		}
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !isHex64(hex) || !info.Mode().IsRegular() {
			other(KindOther, p, false)
			continue
		}
		var rec keyRecord
		var u *unit
		if readJSON(p, &rec) == nil && rec.DiffID.Algorithm == "sha256" && isHex64(rec.DiffID.Hex) {
			u = layerOf(rec.DiffID.Hex)
		} else {
			u = add(&unit{UsageEntry: UsageEntry{Kind: KindKey, ID: "sha256:" + hex, Description: "unreadable key record"}, evictable: true})
		}
		u.keys = append(u.keys, p)
		u.own += inv.inodes.size(info)
		newer(u, info.ModTime())
		if rec.Step != "" && !info.ModTime().Before(stepTime[u]) {
			u.Description, stepTime[u] = rec.Step, info.ModTime()
		}
	}
	for _, u := range layersByID {
		if len(u.files) == 0 && len(u.keys) == 0 {
			u.LastUsed = u.dirTime
		}
		if len(u.dirs) == 0 && len(u.files) == 0 {
			u.Kind = KindKey // steps whose layer has nothing here
		}
	}

	// Base images.
	for _, e := range list("images") {
		p := filepath.Join(dir, "images", e.Name())
		info, err := e.Info()
		if err != nil {
			continue
		}
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !isHex64(hex) || !info.Mode().IsRegular() {
			other(KindOther, p, false)
			continue
		}
		u := add(&unit{UsageEntry: UsageEntry{Kind: KindImage, ID: "sha256:" + hex, LastUsed: info.ModTime()}, evictable: true})
		u.files = []string{p}
		u.own = inv.inodes.size(info)
		var rec imageRecord
		if readJSON(p, &rec) == nil {
			u.Description = rec.Ref
			refer(u, rec.Manifest)
			if rec.Index != nil {
				refer(u, *rec.Index)
			}
			refer(u, rec.Config)
			for _, d := range rec.Layers {
				if l := layersByID[d.Hex]; l != nil && l.Description == "" {
					l.Description = "layer of " + rec.Ref
				}
			}
		}
	}

	// Blobs nothing lists.
	for hex := range inv.blobSize {
		if len(inv.refs[hex]) == 0 {
			u := add(&unit{UsageEntry: UsageEntry{Kind: KindBlob, ID: "sha256:" + hex, LastUsed: blobTime[hex]}, evictable: true})
			refer(u, v1.Hash{Algorithm: "sha256", Hex: hex})
		}
	}

	// Context mirrors, cache mounts and git repositories: a directory,
	// maybe with a lock file beside it.
	byName := func(sub, kind, suffix, lockSuffix string, lastUse, describe func(d string) string) {
		units := map[string]*unit{}
		get := func(name string) *unit {
			u := units[name]
			if u == nil {
				u = add(&unit{UsageEntry: UsageEntry{Kind: kind, ID: name}, evictable: true})
				units[name] = u
			}
			return u
		}
		for _, e := range list(sub) {
			p := filepath.Join(dir, sub, e.Name())
			info, err := e.Info()
			if err != nil {
				continue
			}
			if name, ok := strings.CutSuffix(e.Name(), suffix+lockSuffix); ok && lockSuffix != "" && info.Mode().IsRegular() {
				u := get(name)
				u.files = append(u.files, p)
				u.own += inv.inodes.size(info)
				continue
			}
			name, ok := strings.CutSuffix(e.Name(), suffix)
			if !ok || !info.IsDir() {
				other(KindOther, p, false)
				continue
			}
			u := get(name)
			u.dirs = append(u.dirs, p)
			u.own += inv.inodes.tree(p)
			u.LastUsed = info.ModTime()
			if t, ok := mtime(lastUse(p)); ok {
				u.LastUsed = t
			}
			if data, err := os.ReadFile(describe(p)); err == nil {
				u.Description = strings.TrimSpace(string(data))
			}
		}
	}
	byName("context", KindContext, "", ".lock",
		func(d string) string { return filepath.Join(d, contextIndex) },
		func(d string) string { return filepath.Join(d, "source") })
	byName("cachemounts", KindCacheMount, "", "",
		func(d string) string { return filepath.Join(d, "lock") },
		func(d string) string { return filepath.Join(d, "id") })
	byName("git", KindGit, ".git", ".lock",
		func(d string) string { return d },
		func(d string) string { return filepath.Join(d, "strata-remote") })

	// The explanation records of steps (explain.go): small files, each
	// evictable on its own; a step without one reads as never built.
	for _, e := range list("explain") {
		other(KindExplain, filepath.Join(dir, "explain", e.Name()), true)
	}

	// The full output of RUN steps whose log was clipped (runlog.go).
	for _, e := range list("logs") {
		other(KindLog, filepath.Join(dir, "logs", e.Name()), true)
	}

	// The rest of the top level.
	known := map[string]bool{"blobs": true, "layers": true, "keys": true, "images": true, "context": true, "cachemounts": true, "git": true, "explain": true, "logs": true}
	for _, e := range top {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.Name() == "blobs":
			for _, b := range list("blobs") {
				if b.Name() != "sha256" {
					other(KindOther, filepath.Join(p, b.Name()), false)
				}
			}
		case known[e.Name()]:
		case e.Name() == "tmp" || e.Name() == "runc":
			for _, t := range list(e.Name()) {
				other(KindTemporary, filepath.Join(p, t.Name()), false)
			}
		default:
			other(KindOther, p, false)
		}
	}
	return inv, nil
}
