package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
	"github.com/stratabuild/strata/solver"
)

type buildFlags struct {
	file         string
	tags         []string
	buildArgs    []string
	target       string
	noCache      bool
	push         bool
	outputs      []string
	labels       []string
	iidfile      string
	metadataFile string
	progress     string
	cacheDir     string
	cacheMaxSize string
	insecure     []string
	compression  string
	platforms    []string
	runtime      string
	check        bool
	contexts     []string
	secrets      []string
	ssh          []string
	allow        []string
	epoch        string
	cacheFrom    []string
	cacheTo      []string
	explainCache bool
	plan         bool
}

func newBuildCommand() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [flags] CONTEXT",
		Short: "Build an image from a Dockerfile",
		Long: "Build an image from a Dockerfile and a build context directory, without a daemon.\n" +
			"Flags follow docker build / docker buildx build. The image digest is printed on stdout;\n" +
			"progress goes to stderr.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("build takes exactly one CONTEXT directory argument, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", `name of the Dockerfile ("-" reads stdin; default CONTEXT/Dockerfile)`)
	fl.StringArrayVarP(&f.tags, "tag", "t", nil, `image name and tag, "name:tag" (repeatable)`)
	fl.StringArrayVar(&f.buildArgs, "build-arg", nil, "build-time variable K=V, or K to take it from the environment (repeatable)")
	fl.StringVar(&f.target, "target", "", "stage to build (default: the last)")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not use the cache when building")
	fl.BoolVar(&f.push, "push", false, "push the image to its registry (short for --output type=registry)")
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "output: type=registry|oci|docker|local|tar[,dest=PATH] (repeatable)")
	fl.StringArrayVar(&f.labels, "label", nil, "set an image label K=V (repeatable)")
	fl.StringVar(&f.iidfile, "iidfile", "", "write the image digest to this file")
	fl.StringVar(&f.metadataFile, "metadata-file", "", "write build result metadata (JSON) to this file")
	fl.StringVar(&f.progress, "progress", "auto", "progress output: auto, tty, plain, rawjson (one JSON object per line) or quiet")
	fl.BoolVar(&f.explainCache, "explain-cache", false, "say for each step that runs why the cache did not have it (plain progress)")
	fl.BoolVar(&f.plan, "plan", false, "print the steps, cached or to run and why, without running anything (no RUN, no COPY, no export)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache directory (default $XDG_CACHE_HOME/strata)")
	fl.StringVar(&f.cacheMaxSize, "cache-max-size", "", "after the build, evict the least recently used cache entries down to this size (e.g. 10GB, 512MiB; 0: no cap; default a tenth of the cache's filesystem, at least 2GiB)")
	fl.StringArrayVar(&f.insecure, "insecure-registry", nil, "registry host[:port] reached over plain HTTP or untrusted TLS (repeatable)")
	fl.StringVar(&f.compression, "compression", "gzip", "layer compression: gzip, zstd or uncompressed")
	fl.StringArrayVar(&f.platforms, "platform", nil, `target platforms, "os/arch[/variant]", comma-separated or repeated (default: the host's); several give an image index`)
	fl.StringVar(&f.runtime, "runtime", "runc", "OCI runtime for RUN steps")
	fl.BoolVar(&f.check, "check", false, "lint the Dockerfile first (as strata lint, same configuration) and stop on findings at or above the failure threshold")
	fl.StringArrayVar(&f.contexts, "build-context", nil, "additional build context NAME=VALUE: a directory, docker-image://REF, oci-layout://PATH[:TAG|@DIGEST] or a git URL (repeatable)")
	fl.StringArrayVar(&f.secrets, "secret", nil, `secret for RUN --mount=type=secret: "id=ID,src=FILE" or "id=ID,env=VARIABLE" (repeatable)`)
	fl.StringArrayVar(&f.ssh, "ssh", nil, `ssh-agent for RUN --mount=type=ssh: "default" ($SSH_AUTH_SOCK) or "ID=SOCKET" (repeatable)`)
	fl.StringArrayVar(&f.cacheFrom, "cache-from", nil, `reuse steps from an exported cache: "type=registry,ref=REPO:TAG", "type=local,src=DIR" or a bare REF (repeatable)`)
	fl.StringArrayVar(&f.cacheTo, "cache-to", nil, `export the build cache: "type=registry,ref=REPO:TAG" or "type=local,dest=DIR", with mode=min|max, ignore-error=true, cache-mounts=true, cache-mounts-max-size=SIZE (repeatable)`)
	fl.StringArrayVar(&f.allow, "allow", nil, "grant an entitlement: security.insecure lets RUN --security=insecure run")
	fl.StringVar(&f.epoch, "source-date-epoch", "", "reproducible build: clamp the file times of new layers to these seconds since 1970 and use them as the image's created time (default $SOURCE_DATE_EPOCH)")
	return cmd
}

func runBuild(cmd *cobra.Command, f buildFlags, contextDir string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()

	// Flags first: every usage error before any work.
	compression, err := layers.ParseCompression(f.compression)
	if err != nil {
		return usagef("--compression: %v", err)
	}
	secrets, err := parseSecrets(f.secrets)
	if err != nil {
		return err
	}
	agents, err := parseSSH(f.ssh)
	if err != nil {
		return err
	}
	allowInsecure, err := parseAllow(f.allow)
	if err != nil {
		return err
	}
	epoch, err := sourceDateEpoch(f.epoch, cmd.Flags().Changed("source-date-epoch"), os.LookupEnv)
	if err != nil {
		return err
	}
	var cacheFrom []solver.CacheRef
	for _, s := range f.cacheFrom {
		c, err := parseCacheFrom(s)
		if err != nil {
			return err
		}
		cacheFrom = append(cacheFrom, c)
	}
	var cacheTo []cacheTo
	for _, s := range f.cacheTo {
		c, err := parseCacheTo(s)
		if err != nil {
			return err
		}
		cacheTo = append(cacheTo, c)
	}
	var progress renderer
	switch f.progress {
	case "auto", "tty", "plain":
		progress = &plainProgress{w: stderr, explain: f.explainCache}
	case "rawjson":
		progress = newJSONProgress(stderr)
	case "quiet":
	default:
		return usagef("--progress %q: want auto, tty, plain, rawjson or quiet", f.progress)
	}
	var outs []output
	for _, s := range f.outputs {
		o, err := parseOutput(s)
		if err != nil {
			return err
		}
		outs = append(outs, o)
	}
	if f.push {
		outs = append(outs, output{Type: "registry"})
	}
	if err := checkOutputs(outs, f.tags); err != nil {
		return err
	}
	if err := checkCacheTo(cacheTo, outs, f.tags); err != nil {
		return err
	}
	buildArgs := map[string]string{}
	for _, a := range f.buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return usagef("--build-arg %q: empty name", a)
		}
		if !ok {
			ev, set := os.LookupEnv(k)
			if !set {
				continue // docker build ignores an unset bare name
			}
			v = ev
		}
		buildArgs[k] = v
	}
	labels := map[string]string{}
	for _, l := range f.labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return usagef("--label %q: empty name", l)
		}
		labels[k] = v
	}
	platforms, err := frontend.ParsePlatforms(f.platforms)
	if err != nil {
		return usagef("--platform: %v", err)
	}
	if err := checkPlatformOutputs(platforms, outs); err != nil {
		return err
	}
	cacheDir, err := resolveCacheDir(f.cacheDir)
	if err != nil {
		return err
	}
	var maxSize int64
	if f.cacheMaxSize != "" {
		if maxSize, err = parseSize("cache-max-size", f.cacheMaxSize); err != nil {
			return err
		}
	} else {
		maxSize = solver.DefaultCacheMaxSize(cacheDir)
	}

	// The context, then the Dockerfile.
	if st, err := os.Stat(contextDir); err != nil || !st.IsDir() {
		return usagef("build context %q: not found or not a directory", contextDir)
	}
	var named []*frontend.NamedContext
	for _, spec := range f.contexts {
		nc, err := frontend.ParseNamedContext(spec)
		if err != nil {
			return usagef("--build-context: %v", err)
		}
		named = append(named, nc)
	}
	dfPath, dfName := f.file, "Dockerfile"
	var data []byte
	switch {
	case f.file == "-":
		data, err = io.ReadAll(cmd.InOrStdin())
		dfPath, dfName = "", "Dockerfile"
	default:
		if dfPath == "" {
			dfPath = filepath.Join(contextDir, "Dockerfile")
		}
		dfName = dfPath
		if rel, rerr := filepath.Rel(contextDir, dfPath); rerr == nil && !strings.HasPrefix(rel, "..") {
			dfName = rel
		}
		data, err = os.ReadFile(dfPath)
	}
	if err != nil {
		return usagef("reading Dockerfile: %v", err)
	}
	bctx, err := frontend.OpenContext(contextDir, dfPath)
	if err != nil {
		return usagef("%v", err)
	}
	if f.check {
		if err := lintBeforeBuild(stderr, dfPath, dfName, data, bctx.Excludes); err != nil {
			return err
		}
	}
	df, err := frontend.Parse(dfName, data)
	if err != nil {
		return err
	}
	if progress != nil {
		for _, w := range df.Warnings {
			progress.printf("warning: %s\n", w)
		}
		if df.Syntax != "" {
			progress.printf("note: %s: # syntax=%s is ignored; strata has the Dockerfile frontend built in\n", dfName, df.Syntax)
		}
	}
	plans, err := planPlatforms(df, frontend.Options{BuildArgs: buildArgs, Target: f.target, Contexts: named}, platforms)
	if err != nil {
		return err
	}

	opts := solver.Options{
		CacheDir:    cacheDir,
		NoCache:     f.noCache,
		Compression: compression,
		Insecure:    f.insecure,
		Runtime:     f.runtime,
		Context:     bctx,
		Labels:      labels,

		CacheFrom: cacheFrom,

		Secrets:       secrets,
		SSH:           agents,
		AllowInsecure: allowInsecure,
		DryRun:        f.plan,

		SourceDateEpoch: epoch,
		CacheMaxSize:    maxSize,
	}
	var prefix stagePrefix
	if progress != nil {
		opts.Progress = prefix.wrap(progress.event)
	}
	b, err := solver.New(opts)
	if err != nil {
		return err
	}
	// The images are read from the cache until they are exported: only
	// then may it evict.
	defer func() {
		rep, err := b.Close(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "warning: %v\n", err)
		}
		if rep != nil && len(rep.Removed) > 0 && progress != nil {
			progress.printf("cache: evicted %d entries (%s) to stay under %s; it holds %s\n",
				len(rep.Removed), humanSize(rep.Freed), humanSize(maxSize), humanSize(rep.Remaining))
		}
	}()
	if f.plan {
		return runPlan(ctx, b, plans, &prefix, cmd.OutOrStdout(), progress)
	}
	start := time.Now()
	res, err := buildPlatforms(ctx, b, plans, &prefix)
	if err != nil {
		return err
	}
	digest, err := res.digest()
	if err != nil {
		return err
	}

	if len(outs) == 0 && progress != nil {
		progress.printf("note: no --output or --push given: the image is only in strata's cache\n")
	}
	for _, o := range outs {
		if progress != nil {
			progress.printf("exporting %s\n", o)
		}
		if err := export(ctx, res, o, f, cmd.OutOrStdout()); err != nil {
			return err
		}
	}
	for _, c := range cacheTo {
		if progress != nil {
			progress.printf("exporting cache %s\n", c.CacheRef)
		}
		if err := b.ExportCache(ctx, c.CacheExport); err != nil {
			if !c.ignoreError {
				return err
			}
			if progress != nil {
				progress.printf("warning: %v (ignore-error=true)\n", err)
			}
		}
	}
	if progress != nil {
		progress.printf("built %s in %.1fs (%d steps run, %d cached)\n", digest, time.Since(start).Seconds(), res.executed, res.cached)
	}
	if f.iidfile != "" {
		if err := image.WriteFile(f.iidfile, func(w io.Writer) error {
			_, err := io.WriteString(w, digest.String())
			return err
		}); err != nil {
			return fmt.Errorf("--iidfile: %w", err)
		}
	}
	if f.metadataFile != "" {
		md := map[string]any{
			"containerimage.digest": digest.String(),
			"strata.steps.executed": res.executed,
			"strata.steps.cached":   res.cached,
			"strata.steps":          res.steps,
		}
		if res.img != nil {
			configDigest, err := res.img.ConfigName()
			if err != nil {
				return err
			}
			md["containerimage.config.digest"] = configDigest.String()
		}
		if len(f.tags) > 0 {
			md["image.name"] = strings.Join(f.tags, ",")
		}
		if err := image.WriteFile(f.metadataFile, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(md)
		}); err != nil {
			return fmt.Errorf("--metadata-file: %w", err)
		}
	}
	// The result: the digest, unless the image itself went to stdout.
	for _, o := range outs {
		if o.Dest == "-" {
			return nil
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), digest)
	return nil
}
