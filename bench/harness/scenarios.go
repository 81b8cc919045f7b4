package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stratabuild/strata/internal/daemon"
)

// The scenarios, in table order. Each tool runs the scenarios of one benchmark in a row,
// on the state the previous one left (cold, then rebuild ...), then the next tool does.
// Before each timed command the file systems are synced, untimed.
//
//	cold       empty cache or storage (strata: its cache folder removed; buildah: its
//	           --root and --runroot removed; BuildKit, dockerd: a new daemon on an empty
//	           state folder), base image pulled inside the timed build
//	rebuild    the same build again, nothing changed
//	cachefrom  a cold runner with --cache-from a registry cache that the same tool exported
//	           (untimed, mode=max) before the runs
//	cold zstd  cold, layers compressed with zstd (strata --compression zstd; BuildKit
//	           compression=zstd)
//	touch      rebuild after a new mtime on one file, same content
//	edit       rebuild after a content change of one small file: misses the COPY step
//	push       push of the image just built to a new, empty registry (strata: build --push
//	           on the warm cache, every step cached; BuildKit: buildctl build with
//	           push=true on the warm daemon; buildah push; docker push)
//	re-push    the same push again to the same registry; the registry's blob uploads are
//	           counted (PUTs on /blobs/uploads/ in its access log)
var scenarios = []string{
	"small cold", "small rebuild", "small cachefrom",
	"multistage cold", "multistage rebuild", "multistage cachefrom",
	"big10k cold", "big10k cold zstd", "big10k touch", "big10k edit", "big10k push", "big10k re-push",
	"apt cold",
}

func (h *harness) runBenches(ctx context.Context) error {
	small := func(name, dir string) build {
		return build{name: name, context: dir, dockerfile: filepath.Join(dir, "Dockerfile"), base: h.busybox}
	}
	for _, b := range []build{
		small("small", filepath.Join(h.cfg.repo, "bench", "small")),
		small("multistage", filepath.Join(h.cfg.repo, "testdata", "multistage")),
	} {
		if h.cfg.skip[b.name] {
			continue
		}
		if err := h.benchSmall(ctx, b); err != nil {
			return err
		}
	}
	if !h.cfg.skip["big10k"] {
		b := build{name: "big10k", context: filepath.Join(h.cfg.work, "big10k"),
			dockerfile: filepath.Join(h.cfg.repo, "bench", "big10k", "Dockerfile"), base: h.busybox}
		if err := h.benchBig(ctx, b); err != nil {
			return err
		}
	}
	if !h.cfg.skip["apt"] {
		dir := filepath.Join(h.cfg.repo, "bench", "apt")
		b := build{name: "apt", context: dir, dockerfile: filepath.Join(dir, "Dockerfile"), base: h.debian}
		for run := 1; run <= h.cfg.bigRuns; run++ {
			for _, t := range h.tools {
				if err := t.reset(ctx); err != nil {
					return err
				}
				if err := h.measure(ctx, t, "apt cold", run, t.build(b), nil); err != nil {
					return err
				}
			}
			logf("apt: run %d of %d done (%s)", run, h.cfg.bigRuns, h.elapsed())
		}
	}
	return nil
}

// benchSmall runs cold, rebuild and cachefrom of a small build.
func (h *harness) benchSmall(ctx context.Context, b build) error {
	cache := b
	cache.cacheFrom = h.reg.host + "/bench-cache/" + b.name
	prime := b
	prime.cacheTo = cache.cacheFrom
	for _, t := range h.tools {
		if why := t.lacks("cachefrom"); why != "" {
			h.results.lack(b.name+" cachefrom", t.name(), why)
			continue
		}
		logf("%s: exporting %s's registry cache", b.name, t.name())
		if err := t.reset(ctx); err != nil {
			return err
		}
		if err := h.untimed(ctx, t, b.name+".prime", t.build(prime)); err != nil {
			return err
		}
	}
	for run := 1; run <= h.cfg.runs; run++ {
		for _, t := range h.tools {
			if err := t.reset(ctx); err != nil {
				return err
			}
			for _, kind := range []string{"cold", "rebuild"} {
				if err := h.measure(ctx, t, b.name+" "+kind, run, t.build(b), nil); err != nil {
					return err
				}
			}
			if t.lacks("cachefrom") != "" {
				continue
			}
			if err := t.reset(ctx); err != nil {
				return err
			}
			if err := h.measure(ctx, t, b.name+" cachefrom", run, t.build(cache), nil); err != nil {
				return err
			}
		}
		logf("%s: run %d of %d done (%s)", b.name, run, h.cfg.runs, h.elapsed())
	}
	return nil
}

// benchBig runs the big10k scenarios; the context is put back as generated after each tool.
func (h *harness) benchBig(ctx context.Context, b build) error {
	words := big10k.words()
	touched := filepath.Join(b.context, big10k.file(big10k.touchTarget()).Path)
	edited := filepath.Join(b.context, big10k.file(big10k.editTarget()).Path)
	ref := fmt.Sprintf("127.0.0.1:%d/bench/big10k:latest", h.pushPort)
	zstd := b
	zstd.zstd = true
	for run := 1; run <= h.cfg.bigRuns; run++ {
		for _, t := range h.tools {
			if err := t.reset(ctx); err != nil {
				return err
			}
			if err := h.measure(ctx, t, "big10k cold", run, t.build(b), nil); err != nil {
				return err
			}

			now := time.Now()
			if err := os.Chtimes(touched, now, now); err != nil {
				return err
			}
			if err := h.measure(ctx, t, "big10k touch", run, t.build(b), nil); err != nil {
				return err
			}

			f, err := os.OpenFile(edited, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(f, "edited by bench/harness, %s run %d\n", t.name(), run)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := h.measure(ctx, t, "big10k edit", run, t.build(b), nil); err != nil {
				return err
			}

			if err := h.benchPush(ctx, t, b, ref, run); err != nil {
				return err
			}
			for _, i := range []int{big10k.touchTarget(), big10k.editTarget()} {
				if err := big10k.writeFile(b.context, i, words); err != nil {
					return err
				}
			}

			if why := t.lacks("zstd"); why != "" {
				h.results.lack("big10k cold zstd", t.name(), why)
				continue
			}
			if err := t.reset(ctx); err != nil {
				return err
			}
			if err := h.measure(ctx, t, "big10k cold zstd", run, t.build(zstd), nil); err != nil {
				return err
			}
		}
		logf("big10k: run %d of %d done (%s)", run, h.cfg.bigRuns, h.elapsed())
	}
	return nil
}

// benchPush times a push to a new, empty registry and a re-push to the same one.
func (h *harness) benchPush(ctx context.Context, t tool, b build, ref string, run int) error {
	reg, err := startRegistry(filepath.Join(h.cfg.work, "push-registry"), h.pushPort)
	if err != nil {
		return err
	}
	defer func() {
		reg.Stop(5 * time.Second)
		_ = os.RemoveAll(reg.storage)
	}()
	for _, scenario := range []string{"big10k push", "big10k re-push"} {
		before, err := reg.blobUploads()
		if err != nil {
			return err
		}
		c, err := t.push(ctx, b, ref)
		if err != nil {
			return fmt.Errorf("%s: preparing the push: %w", t.name(), err)
		}
		err = h.measure(ctx, t, scenario, run, c, func(s *sample) error {
			after, err := reg.blobUploads()
			uploads := after - before
			s.BlobUploads = &uploads
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// measure times one command of a scenario and records the sample; after, when set, adds to
// the sample once the command is done.
func (h *harness) measure(ctx context.Context, t tool, scenario string, run int, c command, after func(*sample) error) error {
	name := fmt.Sprintf("%s.%s.%d", strings.ReplaceAll(scenario, " ", "-"), t.name(), run)
	if h.cfg.profile && t.name() == "strata" {
		if err := os.MkdirAll(h.cfg.profileDir, 0o755); err != nil {
			return err
		}
		c.env = append(c.env, "STRATA_CPUPROFILE="+filepath.Join(h.cfg.profileDir, name+".pprof"))
	}
	s, err := h.timed(ctx, t, name, c)
	if err != nil {
		return fmt.Errorf("%s, %s, run %d: %w", scenario, t.name(), run, err)
	}
	if h.cfg.profile && t.name() == "strata" {
		s.Profile = filepath.Join(h.cfg.profileDir, name+".pprof")
	}
	if after != nil {
		if err := after(&s); err != nil {
			return err
		}
	}
	h.results.add(scenario, t.name(), s)
	return nil
}

// untimed runs a setup build, which must succeed.
func (h *harness) untimed(ctx context.Context, t tool, label string, c command) error {
	_, err := h.timed(ctx, t, label+"."+t.name(), c)
	if err != nil {
		return fmt.Errorf("%s (setup), %s: %w", label, t.name(), err)
	}
	return nil
}

// timed syncs the file systems, runs a command under /usr/bin/time, its output in
// logs/NAME.log, and returns its wall time and the peak RSS of the client (%M: the largest
// single process of the tree, not a sum), of the client process alone (VmHWM, sampled) and
// of the tool's daemon (VmHWM, reset before the command).
func (h *harness) timed(ctx context.Context, t tool, name string, c command) (sample, error) {
	logFile := filepath.Join(h.cfg.work, "logs", name+".log")
	rssFile := filepath.Join(h.cfg.work, "logs", name+".rss")
	out, err := os.Create(logFile)
	if err != nil {
		return sample{}, err
	}
	defer out.Close()
	fmt.Fprintf(out, "$ %s\n", strings.Join(c.argv, " "))
	// Writeback of what the previous build (often another tool's) left dirty would land in
	// this one's time.
	syscall.Sync()
	// Nor should what a daemon or a build still does after it returned (BuildKit's
	// garbage collection, a buildkitd shutting down): every tool starts on an idle machine.
	waitIdle(10 * time.Second)
	pid := t.daemon()
	if pid != 0 {
		if err := resetPeakRSS(pid); err != nil {
			return sample{}, err
		}
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile}, c.argv...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), c.env...)
	// A process group, so that an interrupted build is stopped whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	own := sampleOwnRSS(cmd.Process.Pid)
	err = cmd.Wait()
	elapsed := time.Since(start)
	ownKiB := own()
	if err != nil {
		msg := fmt.Sprintf("%v; log %s:\n%s", err, logFile, daemon.TailFile(logFile, 3000))
		if tail := t.logTail(); tail != "" {
			msg += fmt.Sprintf("\n%s daemon log (end):\n%s", t.name(), tailString(tail, 2000))
		}
		return sample{}, fmt.Errorf("%s", msg)
	}
	s := sample{Seconds: elapsed.Seconds(), OwnRSSKiB: ownKiB}
	data, err := os.ReadFile(rssFile)
	if err != nil {
		return s, err
	}
	lines := strings.Fields(string(data))
	if len(lines) == 0 {
		return s, fmt.Errorf("no peak RSS in %s", rssFile)
	}
	if s.RSSKiB, err = strconv.ParseInt(lines[len(lines)-1], 10, 64); err != nil {
		return s, fmt.Errorf("peak RSS in %s: %w", rssFile, err)
	}
	if pid != 0 {
		if s.DaemonRSSKiB, err = peakRSS(pid); err != nil {
			return s, err
		}
	}
	return s, nil
}

// waitIdle returns once the machine's CPUs have been busy less than a tenth of one core over
// 200 ms (from /proc/stat: all but idle and iowait time), or after max.
func waitIdle(max time.Duration) {
	busy := func() (busy uint64, ok bool) {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, false
		}
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		if len(f) < 8 || f[0] != "cpu" {
			return 0, false
		}
		for i, v := range f[1:8] { // user nice system idle iowait irq softirq
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, false
			}
			if i != 3 && i != 4 {
				busy += n
			}
		}
		return busy, true
	}
	deadline := time.Now().Add(max)
	b0, ok := busy()
	for ok && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		b1, ok1 := busy()
		// Clock ticks are 1/100 s: 2 ticks in 200 ms is a tenth of a core.
		if !ok1 || b1-b0 <= 2 {
			return
		}
		b0, ok = b1, ok1
	}
}

// sampleOwnRSS follows the peak RSS (VmHWM) of the command /usr/bin/time (PID timePID) runs,
// that process alone, not its children: %M is the largest process of the whole tree, which
// for a daemonless builder includes what its RUN steps run (apt-get). It reads VmHWM every
// 10 ms, so a peak in the last 10 ms before the exit can be missed. The returned func stops
// the sampling and returns the peak seen, in KiB.
func sampleOwnRSS(timePID int) func() int64 {
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		var peak int64
		child := 0
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if child == 0 {
				data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", timePID, timePID))
				if f := strings.Fields(string(data)); len(f) > 0 {
					child, _ = strconv.Atoi(f[0])
				}
			}
			if child != 0 {
				if kib, err := peakRSS(child); err == nil {
					peak = max(peak, kib)
				}
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-result
	}
}
