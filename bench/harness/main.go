// Command harness is the driver of `make bench` (bench/run.sh, which installs what is
// missing, builds strata and BuildKit, makes the work folder and runs this): it times
// strata against buildah, BuildKit (buildkitd + buildctl) and dockerd, when present, on the
// same reference builds, base images and local registry, in one run, interleaved tool by
// tool (A B C A B C ...), and prints medians, min–max, peak RSS and the ratio of strata to
// the fastest peer. These machines are noisy: compare tools only within one run.
//
// Reference builds (base images are built by strata from local files and pushed to a
// registry on 127.0.0.1; every cold build pulls its base inside the timed build):
//
//	small       bench/small, FROM a busybox base (testdata/busybox/make-context.sh)
//	multistage  testdata/multistage, same base
//	big10k      bench/big10k/Dockerfile: COPY of a generated context of 10,000 files,
//	            about 300 MB (tree.go), same base
//	apt         bench/apt/Dockerfile: apt-get install on a Debian base made by
//	            debootstrap (cached under ~/.cache/strata-bench), network bound
//
// Scenarios (setup untimed): see scenarios in scenarios.go.
//
// Environment (read here; bench/run.sh passes it on):
//
//	BENCH_WORK=DIR          the work folder (made and removed by bench/run.sh)
//	BENCH_STRATA=FILE       the strata binary (bench/run.sh: a copy of bin/strata)
//	BENCH_BUILDKIT=DIR      the folder holding buildkitd and buildctl (default: the one
//	                        tools/buildkit/build.sh prints, run here beside the inputs)
//	BENCH_TOOLS="..."       a subset of: strata buildah buildkit docker (default: every one
//	                        available; docker needs dockerd on PATH)
//	BENCH_RUNS=N            runs of the small and multistage scenarios (default 5)
//	BENCH_BIG_RUNS=N        runs of the big10k and apt scenarios (default 2, so that make
//	                        bench stays under 20 minutes on 2 cores, BuildKit's first build
//	                        included; each big10k run takes 2-3 minutes)
//	BENCH_SKIP="..."        benchmarks to leave out: small multistage big10k apt
//	BENCH_STRATA_FLAGS=...  extra flags for every timed `strata build` (word-split)
//	BENCH_RESULTS=FILE      where the JSON goes (default bench/results.json)
//	BENCH_PROFILE=1         CPU profiles of strata's timed builds (STRATA_CPUPROFILE), kept
//	                        in BENCH_PROFILE_DIR (default .bench/profiles/DATE), with a
//	                        `go tool pprof -top -cum` summary per scenario in bench/profiles/
//	BENCH_LIMITS=0          skip the physical limits (sha256, gzip, zstd, disk; default on)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

type config struct {
	repo, work  string
	buildkitBin string
	tools       []string // asked for; nil: every available one
	runs        int
	bigRuns     int
	skip        map[string]bool
	strataFlags []string
	results     string
	profile     bool
	profileDir  string
	limits      bool
	cacheDir    string // inputs kept across runs (the debootstrap tarball)
}

var allTools = []string{"strata", "buildah", "buildkit", "docker"}
var allBenches = []string{"small", "multistage", "big10k", "apt"}

func main() {
	start := time.Now()
	cfg, err := configFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, start); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "bench: interrupted; daemons stopped")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
}

func configFromEnv() (config, error) {
	repo, err := os.Getwd()
	if err != nil {
		return config{}, err
	}
	c := config{
		repo:        repo,
		work:        os.Getenv("BENCH_WORK"),
		buildkitBin: os.Getenv("BENCH_BUILDKIT"),
		skip:        map[string]bool{},
		strataFlags: strings.Fields(os.Getenv("BENCH_STRATA_FLAGS")),
		results:     envOr("BENCH_RESULTS", filepath.Join(repo, "bench", "results.json")),
		profile:     os.Getenv("BENCH_PROFILE") == "1",
		limits:      envOr("BENCH_LIMITS", "1") != "0",
	}
	if c.work == "" {
		return c, errors.New("BENCH_WORK is not set: run bench/run.sh (make bench)")
	}
	if c.runs, err = positive("BENCH_RUNS", 5); err != nil {
		return c, err
	}
	if c.bigRuns, err = positive("BENCH_BIG_RUNS", 2); err != nil {
		return c, err
	}
	for _, t := range strings.Fields(os.Getenv("BENCH_TOOLS")) {
		if !slices.Contains(allTools, t) {
			return c, fmt.Errorf("unknown tool %q in BENCH_TOOLS (%s)", t, strings.Join(allTools, ", "))
		}
		c.tools = append(c.tools, t)
	}
	for _, b := range strings.Fields(os.Getenv("BENCH_SKIP")) {
		if !slices.Contains(allBenches, b) {
			return c, fmt.Errorf("unknown benchmark %q in BENCH_SKIP (%s)", b, strings.Join(allBenches, ", "))
		}
		c.skip[b] = true
	}
	c.profileDir = envOr("BENCH_PROFILE_DIR", filepath.Join(repo, ".bench", "profiles", time.Now().Format("20060102-150405")))
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	c.cacheDir = filepath.Join(cache, "strata-bench")
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func positive(key string, def int) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s must be a positive integer, not %q", key, v)
	}
	return n, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// harness holds what a run shares: the registry, the tools and the samples.
type harness struct {
	cfg      config
	reg      *registry
	pushPort int // the port of the fresh registries the push scenarios push to
	strata   string
	busybox  string // base image refs in reg
	debian   string
	tools    []tool
	skipped  []string // "docker: why", for tools not run
	results  *results
	start    time.Time
}

// elapsed is the time since the harness started, for progress lines.
func (h *harness) elapsed() string {
	return fmt.Sprintf("%.0f s in", time.Since(h.start).Seconds())
}

func run(ctx context.Context, cfg config, start time.Time) (err error) {
	if os.Getuid() != 0 {
		return errors.New("must run as root (runc, overlayfs, buildkitd)")
	}
	h := &harness{cfg: cfg, strata: envOr("BENCH_STRATA", filepath.Join(cfg.repo, "bin", "strata")), start: start}
	h.results = newResults(cfg)
	for _, dir := range []string{"logs", "tools"} {
		if err := os.MkdirAll(filepath.Join(cfg.work, dir), 0o755); err != nil {
			return err
		}
	}
	defer h.close()

	if h.reg, err = startRegistry(filepath.Join(cfg.work, "registry"), 0); err != nil {
		return err
	}
	if h.pushPort, err = daemon.FreePort(); err != nil {
		return err
	}
	logf("registry on %s; push scenarios use fresh registries on 127.0.0.1:%d", h.reg.host, h.pushPort)
	// BuildKit builds (about 5 minutes the first time) while the inputs are made (debootstrap,
	// about 75 s the first time, is network bound).
	type built struct {
		dir string
		err error
	}
	buildkitBuilt := make(chan built, 1)
	if cfg.buildkitBin == "" && (cfg.tools == nil || slices.Contains(cfg.tools, "buildkit")) {
		bctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			dir, err := buildBuildKit(bctx, filepath.Join(cfg.work, "logs", "buildkit-build.log"))
			buildkitBuilt <- built{dir, err}
		}()
	} else {
		buildkitBuilt <- built{dir: cfg.buildkitBin}
	}
	if err := h.prepareInputs(ctx); err != nil {
		return err
	}
	b := <-buildkitBuilt
	if b.err != nil {
		return b.err
	}
	h.cfg.buildkitBin = b.dir
	if err := h.selectTools(); err != nil {
		return err
	}
	for _, t := range h.tools {
		if err := t.reset(ctx); err != nil {
			return fmt.Errorf("starting %s: %w", t.name(), err)
		}
		h.results.Tools[t.name()] = t.version()
		logf("%s: %s", t.name(), h.results.Tools[t.name()])
	}

	if err := h.runBenches(ctx); err != nil {
		return err
	}
	for _, t := range h.tools {
		t.close()
	}
	h.tools = nil
	if cfg.limits {
		if h.results.Limits, err = measureLimits(ctx, cfg.work); err != nil {
			return fmt.Errorf("physical limits: %w", err)
		}
	}
	h.results.Skipped = h.skipped
	h.results.WallSeconds = time.Since(start).Seconds()
	h.report(os.Stdout)
	if cfg.profile {
		if err := h.summarizeProfiles(ctx); err != nil {
			return err
		}
	}
	if err := h.results.write(cfg.results); err != nil {
		return err
	}
	logf("wrote %s", cfg.results)
	return nil
}

// buildBuildKit runs tools/buildkit/build.sh, which builds buildkitd and buildctl once
// (cached after) and prints the folder that holds them.
func buildBuildKit(ctx context.Context, logFile string) (string, error) {
	logf("BuildKit: tools/buildkit/build.sh (about 5 minutes the first time, cached after; log %s)", logFile)
	start := time.Now()
	log, err := os.Create(logFile)
	if err != nil {
		return "", err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, "tools/buildkit/build.sh")
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tools/buildkit/build.sh: %w:\n%s", err, daemon.TailFile(logFile, 3000))
	}
	dir := strings.TrimSpace(string(out))
	logf("BuildKit: %s (%.0f s)", dir, time.Since(start).Seconds())
	return dir, nil
}

// selectTools makes the tools asked for, or every available one.
func (h *harness) selectTools() error {
	asked := h.cfg.tools
	for _, name := range allTools {
		if asked != nil && !slices.Contains(asked, name) {
			continue
		}
		why := h.unavailable(name)
		if why != "" {
			if asked != nil {
				return fmt.Errorf("%s is in BENCH_TOOLS but %s", name, why)
			}
			logf("%s skipped: %s", name, why)
			h.skipped = append(h.skipped, name+": "+why)
			continue
		}
		dir := filepath.Join(h.cfg.work, "tools", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		switch name {
		case "strata":
			h.tools = append(h.tools, &strata{bin: h.strata, cache: filepath.Join(dir, "cache"), flags: h.cfg.strataFlags})
		case "buildah":
			// buildah reads plain-HTTP registries from registries.conf.
			conf := filepath.Join(dir, "registries.conf")
			text := "unqualified-search-registries = []\n"
			for _, r := range h.registries() {
				text += fmt.Sprintf("\n[[registry]]\nlocation = %q\ninsecure = true\n", r)
			}
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				return err
			}
			os.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
			h.tools = append(h.tools, &buildah{storage: filepath.Join(dir, "storage")})
		case "buildkit":
			h.tools = append(h.tools, &buildkit{bin: h.cfg.buildkitBin, dir: dir, registries: h.registries()})
		case "docker":
			client := "/usr/bin/docker"
			if _, err := os.Stat(client); err != nil {
				client = "docker"
			}
			h.tools = append(h.tools, &docker{client: client, dir: dir})
		}
	}
	if len(h.tools) == 0 {
		return errors.New("no tool to run")
	}
	return nil
}

func (h *harness) registries() []string {
	return []string{h.reg.host, fmt.Sprintf("127.0.0.1:%d", h.pushPort)}
}

// unavailable says why a tool cannot run here, or "".
func (h *harness) unavailable(name string) string {
	switch name {
	case "strata":
		if _, err := os.Stat(h.strata); err != nil {
			return h.strata + " is missing (make build)"
		}
	case "buildah":
		if _, err := exec.LookPath("buildah"); err != nil {
			return "buildah is not installed (apt-get install buildah)"
		}
	case "buildkit":
		if h.cfg.buildkitBin == "" {
			return "BENCH_BUILDKIT is not set"
		}
		for _, b := range []string{"buildkitd", "buildctl"} {
			if _, err := os.Stat(filepath.Join(h.cfg.buildkitBin, b)); err != nil {
				return "no " + b + " in " + h.cfg.buildkitBin
			}
		}
	case "docker":
		if _, err := exec.LookPath("dockerd"); err != nil {
			return "dockerd is not on PATH (Debian's docker.io is not installed)"
		}
	}
	return ""
}

func (h *harness) close() {
	for _, t := range h.tools {
		t.close()
	}
	if h.reg != nil {
		h.reg.Stop(5 * time.Second)
	}
}
