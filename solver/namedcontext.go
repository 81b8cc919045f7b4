package solver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	fscopy "github.com/tonistiigi/fsutil/copy"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
)

// Named build contexts (--build-context) as BuildKit's dockerui resolves
// them. What the name refers to is read once per build:
//
//   - a directory is mirrored as the build context is (contextMirror),
//     minus what its own .dockerignore excludes, and its files are owned by
//     root, as BuildKit's file sync makes them;
//   - a git repository is checked out (without .git unless the URL says
//     keep-git-dir=true) and read like a directory;
//   - docker-image://REF is pulled; oci-layout://PATH is read from disk
//     into the content store.
//
// COPY --from and RUN --mount from= read a directory or repository as is
// (a state with a mirror and no layers); FROM, and a stage the context
// replaces, make it the stage's first layer.

// namedContexts are the named contexts a Builder opened for the build in
// progress.
type namedContexts struct {
	mu       sync.Mutex
	dirs     map[string]*dirOnce // by directory and excludes, or git URL
	releases []func()
}

type dirOnce struct {
	once   sync.Once
	mirror *contextMirror
	key    v1.Hash // the digest of the whole tree
	err    error
}

// release unlocks and removes what the build opened.
func (n *namedContexts) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.releases) - 1; i >= 0; i-- {
		n.releases[i]()
	}
	n.releases, n.dirs = nil, nil
}

// contextSource returns the state COPY --from and RUN --mount from= read
// for a named context.
func (r *stageRun) contextSource(ctx context.Context, nc *frontend.NamedContext, platform string) (*stageState, error) {
	switch nc.Kind {
	case frontend.ContextImage, frontend.ContextOCILayout:
		base, err := r.b.contextImage(ctx, nc, platform)
		if err != nil {
			return nil, err
		}
		return fromBase(base), nil
	}
	m, key, err := r.contextDir(ctx, nc)
	if err != nil {
		return nil, err
	}
	cfg := scratchConfig(platform)
	return &stageState{cfg: cfg, env: slices.Clone(cfg.Config.Env), key: key, mirror: m}, nil
}

// contextBase makes the state of a stage whose FROM names a named context,
// or which a named context replaces; it is the stage's first step.
func (r *stageRun) contextBase(ctx context.Context, nc *frontend.NamedContext, platform string) (*stageState, error) {
	r.begin("FROM context " + nc.Name)
	switch nc.Kind {
	case frontend.ContextImage, frontend.ContextOCILayout:
		ev := Event{Stage: r.stage.DisplayName(), Step: r.step, Total: r.total, Name: r.name}
		ev.Kind = StepStart
		r.b.progress(ev)
		start := time.Now()
		base, err := r.b.contextImage(ctx, nc, platform)
		if err != nil {
			return nil, err
		}
		st := fromBase(base)
		st.key = hashKey("platform", platform, st.key.String())
		r.noteBase(st.key, "context "+nc.Name, base.Digest.String())
		ev.Kind, ev.Duration = StepDone, time.Since(start)
		r.b.progress(ev)
		return st, nil
	}
	src, key, err := r.contextDir(ctx, nc)
	if err != nil {
		return nil, err
	}
	// The directory becomes a layer of its own over nothing, as the
	// local source BuildKit makes the stage's root filesystem.
	cfg := scratchConfig(platform)
	r.st = &stageState{cfg: cfg, env: slices.Clone(cfg.Config.Env), key: hashKey("scratch", platform)}
	layerKey := hashKey("context-layer", key.String())
	r.in = []input{{Kind: "file", Type: "t", Name: "context " + nc.Name, Value: key.String()}}
	err = r.fsStepOver(ctx, layerKey, nil, "local source for "+nc.Name, func(sn snapshot) error {
		rootfs := sn.root
		root := func(*fscopy.User) (*fscopy.User, error) { return &fscopy.User{UID: 0, GID: 0}, nil }
		err := fscopy.Copy(ctx, src.dir, "/", rootfs, "/", func(ci *fscopy.CopyInfo) {
			ci.Chown = root
			ci.CopyDirContents = true
			ci.XAttrErrorHandler = ignoreXattrErrors
		})
		if err != nil {
			return trimRoots(err, src.dir, rootfs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// BuildKit's exporter describes a layer without a Dockerfile step
	// thus (it lists it after the others; strata keeps the order).
	r.st.cfg.History[len(r.st.cfg.History)-1].Comment = "buildkit.exporter.image.v0"
	return r.st, nil
}

// contextDir opens a directory or git context once per build and returns
// its mirror and the digest of its whole tree.
func (r *stageRun) contextDir(ctx context.Context, nc *frontend.NamedContext) (*contextMirror, v1.Hash, error) {
	b := r.b
	id := nc.Ref
	if nc.Kind == frontend.ContextDir {
		id = nc.Dir.Dir + "\x00" + strings.Join(nc.Dir.Excludes, "\n")
	}
	b.contexts.mu.Lock()
	if b.contexts.dirs == nil {
		b.contexts.dirs = map[string]*dirOnce{}
	}
	d, ok := b.contexts.dirs[id]
	if !ok {
		d = &dirOnce{}
		b.contexts.dirs[id] = d
	}
	b.contexts.mu.Unlock()
	d.once.Do(func() {
		var release func()
		switch {
		case nc.Kind == frontend.ContextGit:
			d.mirror, release, d.err = b.gitContext(ctx, nc)
		case r.mirror != nil && b.opts.Context != nil && b.opts.Context.Dir == nc.Dir.Dir && slices.Equal(b.opts.Context.Excludes, nc.Dir.Excludes):
			// The build context itself, already mirrored and locked.
			d.mirror = r.mirror
		default:
			d.mirror, release, d.err = b.store.syncContext(nc.Dir)
		}
		if d.err != nil {
			d.err = fmt.Errorf("build context %s: %w", nc.Name, d.err)
			return
		}
		if release != nil {
			b.contexts.mu.Lock()
			b.contexts.releases = append(b.contexts.releases, release)
			b.contexts.mu.Unlock()
		}
		h := sha256.New()
		if d.err = d.mirror.digestTree(h, ""); d.err != nil {
			return
		}
		d.key = hashKey("context-dir", hex.EncodeToString(h.Sum(nil)))
	})
	return d.mirror, d.key, d.err
}

// gitContext checks out a git context into a temporary directory that
// release removes, and mirrors it in place.
func (b *Builder) gitContext(ctx context.Context, nc *frontend.NamedContext) (*contextMirror, func(), error) {
	g, ok, err := parseGitRef(nc.Ref)
	if err == nil && !ok {
		err = fmt.Errorf("invalid git context %s", nc.Ref)
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := g.resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	tmp, err := b.store.tempDir("gitctx-*")
	if err != nil {
		return nil, nil, err
	}
	release := func() { os.RemoveAll(tmp) }
	dir := filepath.Join(tmp, "checkout")
	if err := b.gitCheckout(ctx, g, c, g.keepGitDir != nil && *g.keepGitDir, dir); err != nil {
		release()
		return nil, nil, err
	}
	m, err := mirrorInPlace(dir)
	if err != nil {
		release()
		return nil, nil, err
	}
	return m, release, nil
}

// mirrorInPlace makes a directory that nothing else changes a mirror of
// itself: it digests its regular files.
func mirrorInPlace(dir string) (*contextMirror, error) {
	m := &contextMirror{dir: dir, files: map[string]fileEntry{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		m.files[filepath.ToSlash(rel)] = fileEntry{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}
		return nil
	})
	return m, err
}

// contextImage pulls a docker-image:// context or loads an oci-layout://
// one, once per build.
func (b *Builder) contextImage(ctx context.Context, nc *frontend.NamedContext, platform string) (*image.Base, error) {
	if nc.Kind == frontend.ContextImage {
		return b.pull(ctx, nc.Ref, platform)
	}
	key := "oci-layout://" + nc.Ref + "@" + nc.Digest + ":" + nc.Tag
	b.mu.Lock()
	p, ok := b.pulls[key+"|"+platform]
	if !ok {
		p = &pullOnce{}
		b.pulls[key+"|"+platform] = p
	}
	b.mu.Unlock()
	p.once.Do(func() {
		p.base, p.err = b.loadLayout(nc, platform)
		if p.err == nil {
			p.err = b.baseLayers(p.base)
		}
		if p.err != nil {
			p.err = fmt.Errorf("build context %s: %w", nc.Name, p.err)
		}
	})
	return p.base, p.err
}

// refNameAnnotation names an image in an OCI layout's index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// loadLayout copies the image an oci-layout:// context names, for the
// platform, from the layout into the content store. The image is chosen
// by digest, else by tag ("latest" when none is given; a layout with a
// single image needs none); an index is resolved to its manifest for the
// platform.
func (b *Builder) loadLayout(nc *frontend.NamedContext, platform string) (*image.Base, error) {
	lp, err := layout.FromPath(nc.Ref)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", nc.Ref, err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", nc.Ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", nc.Ref, err)
	}
	var desc v1.Descriptor
	switch {
	case nc.Digest != "":
		h, err := v1.NewHash(nc.Digest)
		if err != nil {
			return nil, fmt.Errorf("oci-layout digest %s: %w", nc.Digest, err)
		}
		raw, err := lp.Bytes(h)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s has no blob %s", nc.Ref, h)
		}
		desc = v1.Descriptor{Digest: h, Size: int64(len(raw)), MediaType: sniffMediaType(raw)}
	default:
		tag := nc.Tag
		if tag == "" {
			tag = "latest"
		}
		var tags []string
		found := false
		for _, d := range im.Manifests {
			ann := d.Annotations[refNameAnnotation]
			if ann == tag || strings.HasSuffix(ann, ":"+tag) {
				desc, found = d, true
				break
			}
			if ann != "" {
				tags = append(tags, ann)
			}
		}
		if !found && nc.Tag == "" && len(im.Manifests) == 1 {
			desc, found = im.Manifests[0], true
		}
		if !found {
			return nil, fmt.Errorf("OCI layout %s has no image tagged %q (it has: %s)", nc.Ref, tag, strings.Join(tags, ", "))
		}
	}
	pl, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	for desc.MediaType.IsIndex() {
		raw, err := lp.Bytes(desc.Digest)
		if err != nil {
			return nil, err
		}
		child, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parsing index %s: %w", desc.Digest, err)
		}
		var have []string
		found := false
		for _, d := range child.Manifests {
			if d.Platform != nil && d.Platform.Satisfies(*pl) {
				desc, found = d, true
				break
			}
			if d.Platform != nil {
				have = append(have, d.Platform.String())
			}
		}
		if !found {
			return nil, fmt.Errorf("%w %s (the index has: %s)", image.ErrNoMatchingPlatform, platform, strings.Join(have, ", "))
		}
	}
	store := b.store.blobs
	raw, err := lp.Bytes(desc.Digest)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
	}
	copyBlob := func(h v1.Hash) error {
		if store.Has(h) {
			return nil
		}
		rc, err := lp.Blob(h)
		if err != nil {
			return err
		}
		defer rc.Close()
		return store.Write(rc, h)
	}
	if err := store.Write(bytes.NewReader(raw), desc.Digest); err != nil {
		return nil, err
	}
	if err := copyBlob(m.Config.Digest); err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	cfgRaw, err := store.ReadAll(m.Config.Digest)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgRaw))
	if err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest %s lists %d layers but its config %d diff_ids", desc.Digest, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	base := &image.Base{Ref: "oci-layout://" + nc.Ref + "@" + desc.Digest.String(), Digest: desc.Digest, Manifest: m, Config: cfg}
	for i, l := range m.Layers {
		if err := copyBlob(l.Digest); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		base.Layers = append(base.Layers, store.Layer(l.Digest, cfg.RootFS.DiffIDs[i], l.Size, l.MediaType))
	}
	return base, nil
}

// sniffMediaType tells an index from an image manifest by its content.
func sniffMediaType(raw []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	if probe.MediaType != "" {
		return probe.MediaType
	}
	if probe.Manifests != nil {
		return types.OCIImageIndex
	}
	return types.OCIManifestSchema1
}
