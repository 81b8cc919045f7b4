package solver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sync/singleflight"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
)

// Options configure a build.
type Options struct {
	CacheDir    string
	NoCache     bool
	Compression layers.Compression
	// Insecure lists registries reached over plain HTTP (loopback
	// registries always are).
	Insecure []string
	// Runtime is the OCI runtime binary for RUN; default "runc".
	Runtime string
	// Context is the local build context; nil when the build has none.
	Context *frontend.Context
	// Labels are added to the final image's config (--label).
	Labels map[string]string
	// Progress receives progress events; nil means silent.
	Progress func(Event)
	// Now is the clock for created times; default time.Now.
	Now func() time.Time
	// Secrets are the values RUN --mount=type=secret can use, by id
	// (--secret); SSH maps an id to an ssh-agent socket for
	// RUN --mount=type=ssh (--ssh). See mounts.go.
	Secrets map[string]SecretSource
	SSH     map[string]string
	// CacheFrom are exported caches to reuse steps from (--cache-from);
	// see regcache.go and ExportCache.
	CacheFrom []CacheRef
	// AllowInsecure lets RUN --security=insecure run
	// (--allow security.insecure); without it such a step is an error.
	AllowInsecure bool
	// SourceDateEpoch, when not zero, makes the build reproducible
	// (SOURCE_DATE_EPOCH): no layer the build writes has a modification
	// time later than it, and it is the created time of the image and of
	// the history entries the build adds. See epoch.go.
	SourceDateEpoch time.Time
	// CacheMaxSize caps the cache directory, in bytes: Close evicts the
	// least recently used entries down to it (see gc.go). 0 is no cap.
	CacheMaxSize int64
	// DryRun plans the build without running it: steps found in the
	// cache count as cached, the others are reported (StepPlanned) and
	// skipped; nothing is run, copied, written to the cache or assembled.
	// Base images are resolved but not unpacked.
	DryRun bool
}

// Result is a finished build.
type Result struct {
	Image  v1.Image
	Config *v1.ConfigFile
	// Platform is the platform the image was built for, the plan's
	// normalized "os/arch[/variant]".
	Platform string
	// Executed and Cached count the filesystem steps that ran and the ones
	// that came from the cache.
	Executed, Cached int
	// Steps are the build's steps in stage and step order, with the
	// reason of each cache miss.
	Steps []StepReport
}

// Builder runs builds against one cache directory.
type Builder struct {
	opts  Options
	store *store
	mu    sync.Mutex // guards counters and pulls
	exec  int
	hits  int
	pulls map[string]*pullOnce
	// sources can fetch the blobs of layers not (yet) in the content
	// store, by digest; unpacks unpacks each layer once (layerdir.go).
	sources map[v1.Hash]v1.Layer
	unpacks singleflight.Group
	// The cache records: imported from Options.CacheFrom; made or
	// reused by the builds, for Options.CacheTo (all of them, and those
	// of each build's final stage); and the identities of the cache
	// mounts the builds' RUN steps use (regcache.go, mountcache.go).
	importOnce sync.Once
	// fetchCtx bounds the downloads of layers, which may happen after
	// a Build returns (by an export): the context of the first Build.
	fetchCtx       context.Context
	imported       map[v1.Hash]stepRecord
	importedMounts map[string]v1.Layer
	records        map[v1.Hash]stepRecord
	finals         []*stageState
	usedMounts     map[string]bool
	// explains are the explanation records of the steps built, by
	// portable identity, for export; importedExplains those of the
	// imported caches (explain.go).
	explains         map[string]explainRecord
	importedExplains map[string]explainRecord
	// contexts are the named build contexts the build in progress has
	// opened (see namedcontext.go).
	contexts namedContexts
	// lock is build.lock, held shared from the first Build to Close, so
	// that nothing the builds made is evicted before it is exported.
	lock *os.File
	ex   explainer // see explain.go
}

type pullOnce struct {
	once sync.Once
	base *image.Base
	err  error
}

// New opens the cache and returns a Builder.
func New(opts Options) (*Builder, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("no cache directory")
	}
	if opts.Runtime == "" {
		opts.Runtime = "runc"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st, err := openStore(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	return &Builder{
		opts: opts, store: st, pulls: map[string]*pullOnce{}, sources: map[v1.Hash]v1.Layer{},
		imported: map[v1.Hash]stepRecord{}, importedMounts: map[string]v1.Layer{},
		records: map[v1.Hash]stepRecord{}, usedMounts: map[string]bool{},
	}, nil
}

// hold takes build.lock for the builds of b, once.
func (b *Builder) hold() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock != nil {
		return nil
	}
	f, err := b.store.lockBuild(b.opts.Runtime)
	if err != nil {
		return fmt.Errorf("locking the cache: %w", err)
	}
	b.lock = f
	return nil
}

// Close ends b's use of the cache, which the Builder's builds and the
// images they returned need until then: it marks what they used as used
// now and, with Options.CacheMaxSize, evicts the least recently used
// entries down to that size, unless another build is still running on the
// cache (the last one to finish evicts). The report says what was
// removed; it is nil when nothing was built.
func (b *Builder) Close(ctx context.Context) (*PruneReport, error) {
	b.mu.Lock()
	f := b.lock
	b.lock = nil
	b.mu.Unlock()
	if f == nil {
		return nil, nil
	}
	defer f.Close()
	if b.opts.DryRun {
		return nil, nil // a plan uses nothing and adds nothing
	}
	b.store.stampUsed(time.Now())
	b.mu.Lock()
	ran := b.exec > 0
	b.mu.Unlock()
	if b.opts.CacheMaxSize <= 0 || ctx.Err() != nil {
		return &PruneReport{}, nil
	}
	// A build that ran no step and added nothing checks the cap only if
	// a build that ended while it ran left that to it.
	addedNothing := !ran && !b.store.grew.Load()
	rep, err := b.store.evictIfIdle(ctx, f, b.opts.Runtime, b.opts.CacheMaxSize, addedNothing)
	if err != nil {
		return rep, fmt.Errorf("evicting from the cache: %w", err)
	}
	return rep, nil
}

// Store is the content store holding the build's blobs.
func (b *Builder) Store() *image.Store { return b.store.blobs }

func (b *Builder) progress(e Event) {
	if b.opts.Progress != nil {
		b.opts.Progress(e)
	}
}

// Build runs plan and assembles the target stage's image.
func (b *Builder) Build(ctx context.Context, plan *frontend.Plan) (*Result, error) {
	if !b.opts.DryRun {
		if err := b.checkRuntime(plan); err != nil {
			return nil, err
		}
		if err := b.checkEmulation(plan); err != nil {
			return nil, err
		}
	}
	b.ex.take()
	if err := b.hold(); err != nil {
		return nil, err
	}
	var mirror *contextMirror
	if b.opts.Context != nil {
		m, release, err := b.store.syncContext(b.opts.Context)
		if err != nil {
			return nil, err
		}
		defer release()
		mirror = m
	}
	defer b.contexts.release()
	b.mu.Lock()
	if b.fetchCtx == nil {
		b.fetchCtx = ctx
	}
	b.mu.Unlock()
	b.importCaches(ctx)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type outcome struct {
		done chan struct{}
		st   *stageState
		err  error
	}
	results := map[*frontend.Stage]*outcome{}
	for _, s := range plan.Stages {
		results[s] = &outcome{done: make(chan struct{})}
	}
	// A stage starts as soon as its base is done; a stage it
	// copies or mounts from is waited for when the step that
	// reads it is reached, so independent work overlaps.
	wait := func(ctx context.Context, d *frontend.Stage) (*stageState, error) {
		dr := results[d]
		select {
		case <-dr.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return dr.st, dr.err
	}
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for _, s := range plan.Stages {
		wg.Add(1)
		go func(s *frontend.Stage) {
			defer wg.Done()
			out := results[s]
			defer close(out.done)
			r := &stageRun{b: b, plan: plan, stage: s, wait: wait, mirror: mirror}
			out.st, out.err = r.run(ctx)
			if out.err != nil {
				errOnce.Do(func() { firstErr = out.err; cancel() })
			}
		}(s)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if b.opts.DryRun {
		b.mu.Lock()
		defer b.mu.Unlock()
		return &Result{Platform: plan.Platform, Executed: b.exec, Cached: b.hits, Steps: b.ex.take()}, nil
	}
	final := results[plan.Target].st
	b.mu.Lock()
	b.finals = append(b.finals, final)
	b.mu.Unlock()
	res, err := b.assemble(final)
	if err != nil {
		return nil, err
	}
	res.Platform = plan.Platform
	res.Steps = b.ex.take()
	return res, nil
}

// assemble makes the image of a finished stage.
func (b *Builder) assemble(st *stageState) (*Result, error) {
	cfg := st.cfg.DeepCopy()
	if len(b.opts.Labels) > 0 {
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		for k, v := range b.opts.Labels {
			cfg.Config.Labels[k] = v
		}
	}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}}
	var ls []v1.Layer
	for _, l := range st.layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
		ls = append(ls, b.imageLayer(l))
	}
	if e := b.opts.SourceDateEpoch; !e.IsZero() {
		// Every entry the build added has the epoch already; the base
		// image's are left as they are.
		cfg.Created = v1.Time{Time: e.UTC()}
	} else {
		cfg.Created = v1.Time{Time: fillHistoryTimes(cfg.History)}
	}
	img, err := image.New(cfg, ls)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &Result{Image: img, Config: cfg, Executed: b.exec, Cached: b.hits}, nil
}

// checkRuntime fails early, before any work, when the plan has RUN steps
// and the OCI runtime is missing.
func (b *Builder) checkRuntime(plan *frontend.Plan) error {
	for _, s := range plan.Stages {
		for _, c := range s.Commands {
			if _, ok := c.(*instructions.RunCommand); ok {
				return checkRuntime(b.opts.Runtime)
			}
		}
	}
	return nil
}

// pull fetches a base image once per build.
func (b *Builder) pull(ctx context.Context, ref, platform string) (*image.Base, error) {
	b.mu.Lock()
	p, ok := b.pulls[ref+"|"+platform]
	if !ok {
		p = &pullOnce{}
		b.pulls[ref+"|"+platform] = p
	}
	b.mu.Unlock()
	p.once.Do(func() {
		opts := []image.Option{image.WithStore(b.store.blobs), image.WithInsecure(b.opts.Insecure...)}
		if platform != "" {
			pl, err := v1.ParsePlatform(platform)
			if err != nil {
				p.err = err
				return
			}
			opts = append(opts, image.WithPlatform(*pl))
		}
		opts = append(opts, image.WithLazyLayers(b.fetchCtx))
		p.base, p.err = image.Pull(ctx, ref, opts...)
		if p.err == nil {
			p.err = b.baseLayers(p.base)
		}
	})
	return p.base, p.err
}

func (b *Builder) count(executed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if executed {
		b.exec++
	} else {
		b.hits++
	}
}

// stageState is the state of a stage between steps.
type stageState struct {
	cfg    *v1.ConfigFile
	layers []layer
	// env is the environment that expands words and that RUN sees: the
	// config's Env plus the stage's ARG values.
	env []string
	// args are the ARGs declared so far in the stage, in order.
	args []instructions.KeyValuePairOptional
	key  v1.Hash // cache key of the filesystem so far
	// records are the cache records of the steps that made layers, in
	// the order of layers (without the base image's).
	records []stepRecord
	cmdSet  bool // CMD was set in this stage (ENTRYPOINT keeps it)
	// mirror, for a named context directory read by COPY --from or
	// RUN --mount from=, is its filesystem; such a state has no layers.
	mirror *contextMirror
}

func (s *stageState) clone() *stageState {
	c := *s
	c.cfg = s.cfg.DeepCopy()
	c.layers = slices.Clone(s.layers)
	c.records = slices.Clone(s.records)
	c.env = slices.Clone(s.env)
	c.args = slices.Clone(s.args)
	c.cmdSet = false
	return &c
}

// cacheFormat versions the cache keys: a strata whose keys or key records
// mean something new changes it, and older entries are simply not found.
const cacheFormat = "strata-cache-3"

func hashKey(parts ...string) v1.Hash {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", cacheFormat)
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

func joinQuoted(list []string) string {
	var sb strings.Builder
	for _, s := range list {
		fmt.Fprintf(&sb, "%q ", s)
	}
	return sb.String()
}

// cmdString is the instruction as written, for progress and errors.
func cmdString(c instructions.Command) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return strings.ToUpper(c.Name())
}
