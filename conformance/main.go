// Command conformance builds every case under testdata/conformance with strata and with a
// real BuildKit (buildkitd and buildctl, built by tools/buildkit/build.sh) and compares the
// two images: the final file tree entry by entry, the image config and the history's
// layer/empty-layer pattern. It prints a table and every difference, and exits 1 when a
// case has a difference its expected-differences.md does not document. `make conformance`
// runs it; see README.md in this folder for the case format and the comparison rules.
//
// It needs root (buildkitd and strata run containers with runc over overlayfs), runc and
// Debian's docker-registry, which serves the busybox base image strata builds first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

type options struct {
	cases    string
	strata   string
	buildkit string
	run      string
	jobs     int
	work     string
	keep     bool
	verbose  bool
	timeout  time.Duration
	dump     string
}

func main() {
	var o options
	flag.StringVar(&o.cases, "cases", "testdata/conformance", "folder of case folders")
	flag.StringVar(&o.strata, "strata", "bin/strata", "strata binary")
	flag.StringVar(&o.buildkit, "buildkit", "", "folder with buildkitd and buildctl (default: the output of tools/buildkit/build.sh)")
	flag.StringVar(&o.run, "run", "", "only the cases whose name matches this regular expression")
	flag.IntVar(&o.jobs, "j", runtime.NumCPU(), "cases built at the same time")
	flag.StringVar(&o.work, "work", "", "work folder (default: a new temporary folder)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder: contexts, logs and both images of every case")
	flag.BoolVar(&o.verbose, "v", false, "print the documented differences too, and the build logs of failed builds")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit for one build")
	flag.StringVar(&o.dump, "dump", "", "print the config, history and final tree of the images in this OCI tar, and exit")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: conformance [flags]\n\nBuilds each case with strata and BuildKit and compares the images.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || o.jobs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if o.dump != "" {
		if err := dump(os.Stdout, o.dump); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			os.Exit(1)
		}
		return
	}
	code, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(o options) (int, error) {
	if os.Geteuid() != 0 {
		return 2, fmt.Errorf("must run as root: buildkitd and strata run containers with runc over overlayfs")
	}
	for _, tool := range []string{"runc", "docker-registry"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 2, fmt.Errorf("%s is required: %w", tool, err)
		}
	}
	var filter *regexp.Regexp
	if o.run != "" {
		var err error
		if filter, err = regexp.Compile(o.run); err != nil {
			return 2, fmt.Errorf("-run: %w", err)
		}
	}
	cases, err := loadCases(o.cases)
	if err != nil {
		return 2, err
	}
	if filter != nil {
		var kept []*Case
		for _, c := range cases {
			if filter.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	if len(cases) == 0 {
		return 2, fmt.Errorf("no case in %s", o.cases)
	}
	if o.strata, err = filepath.Abs(o.strata); err != nil {
		return 2, err
	}
	if _, err := os.Stat(o.strata); err != nil {
		return 2, fmt.Errorf("strata binary: %w (run make build)", err)
	}
	if o.buildkit == "" {
		if o.buildkit, err = buildBuildKit(); err != nil {
			return 1, err
		}
	}

	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "strata-conformance-*"); err != nil {
			return 1, err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return 1, err
	}
	if work, err = filepath.Abs(work); err != nil {
		return 1, err
	}
	suite, err := readExpected(filepath.Join(o.cases, expectedDiffsFile))
	if err != nil {
		return 2, err
	}
	h := &harness{opts: o, work: work, since: time.Now().Add(-2 * time.Second),
		suite: suite, suiteUsed: make([]atomic.Bool, len(suite))}
	defer h.close()

	// ^C or SIGTERM: stop the daemons and clean up, rather than leave buildkitd running.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	if err := h.setUp(ctx); err != nil {
		return 1, err
	}
	setup := time.Since(start)
	results := h.runCases(ctx, cases)
	if ctx.Err() != nil {
		return 1, fmt.Errorf("interrupted")
	}
	failed := report(os.Stdout, results, o.verbose)
	for i, e := range h.suite {
		if !h.suiteUsed[i].Load() && filter == nil { // a few cases may well not show it
			fmt.Printf("\nno longer   `%s` in %s is documented but no case showed it: remove it?\n",
				e.Pattern, filepath.Join(o.cases, expectedDiffsFile))
		}
	}
	fmt.Printf("\n%d cases, %d failed; setup %s (registry, busybox base, buildkitd), cases %s, %d at a time\n",
		len(results), failed, setup.Round(100*time.Millisecond), time.Since(start.Add(setup)).Round(100*time.Millisecond), o.jobs)
	if o.keep {
		fmt.Fprintf(os.Stderr, "conformance: work folder kept: %s\n", work)
	}
	if failed > 0 {
		return 1, nil
	}
	return 0, nil
}

// buildBuildKit runs tools/buildkit/build.sh, which builds buildkitd and buildctl once and
// prints the folder that holds them.
func buildBuildKit() (string, error) {
	cmd := exec.Command("tools/buildkit/build.sh")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tools/buildkit/build.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// harness holds what all cases share: the registry with the base image, buildkitd and
// strata's cache.
type harness struct {
	opts     options
	work     string
	since    time.Time // mtimes before this were not made by the builds
	registry *daemon.Process
	bk       *buildkitd
	base     string // the busybox base image reference
	cache    string // strata's --cache-dir, shared by all cases
	// suite documents differences every case may show (a strata bug that touches most
	// cases); suiteUsed records which items some case needed.
	suite     []Expected
	suiteUsed []atomic.Bool

	multiOnce sync.Once // the multi-platform base, built for the first case with a platform file
	multiBase string
	multiErr  error
}

func (h *harness) setUp(ctx context.Context) error {
	var err error
	var host string
	logf("starting docker-registry")
	h.registry, host, err = startRegistry(filepath.Join(h.work, "registry"))
	if err != nil {
		return err
	}
	// A fresh cache, like buildkitd's state: a step cached by an earlier run would carry
	// that run's times, which the mtime rule would take for kept ones.
	h.cache = filepath.Join(h.work, "strata-cache")
	if err := os.RemoveAll(h.cache); err != nil {
		return err
	}
	h.base = host + "/strata/busybox:latest"

	// buildkitd starts while strata builds the base image.
	var wg sync.WaitGroup
	var bkErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		logf("starting buildkitd from %s", h.opts.buildkit)
		h.bk, bkErr = startBuildkitd(h.opts.buildkit, filepath.Join(h.work, "buildkitd"), host)
	}()
	logf("building the busybox base image with strata and pushing it to %s", h.base)
	baseErr := h.buildBase(ctx)
	wg.Wait()
	if baseErr != nil {
		return baseErr
	}
	return bkErr
}

func (h *harness) buildBase(ctx context.Context) error {
	dir := filepath.Join(h.work, "busybox")
	if err := os.RemoveAll(dir); err != nil { // a -work folder used before
		return err
	}
	script := filepath.Join(filepath.Dir(filepath.Clean(h.opts.cases)), "busybox", "make-context.sh")
	if out, err := exec.CommandContext(ctx, "bash", script, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", script, err, out)
	}
	out, err := exec.CommandContext(ctx, h.opts.strata, "build", "--progress=plain", "--cache-dir", h.cache,
		"-t", h.base, "--push", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("building the base image: %v\n%s", err, out)
	}
	return nil
}

func (h *harness) close() {
	if h.bk != nil {
		if err := h.bk.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "conformance: cleaning up buildkitd: %v\n", err)
		}
	}
	if h.registry != nil {
		h.registry.Stop(5 * time.Second)
	}
	if !h.opts.keep && h.work != "" && h.opts.work == "" {
		if err := os.RemoveAll(h.work); err != nil {
			fmt.Fprintf(os.Stderr, "conformance: removing %s: %v\n", h.work, err)
		}
	}
}

// runCases runs the cases, opts.jobs at a time, and returns their results in case order.
func (h *harness) runCases(ctx context.Context, cases []*Case) []*Result {
	results := make([]*Result, len(cases))
	sem := make(chan struct{}, h.opts.jobs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = &Result{Case: c, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			r := h.runCase(ctx, c)
			results[i] = r
			mu.Lock()
			done++
			logf("[%d/%d] %-40s %s %s", done, len(cases), c.Name, r.Verdict(), r.Duration.Round(100*time.Millisecond))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "conformance: "+format+"\n", args...)
}
