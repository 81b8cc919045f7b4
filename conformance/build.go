package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// contextEpoch is the mtime every context file gets before setup.sh runs, so that a kept
// mtime is told apart from a build time and from the base image's (0).
var contextEpoch = time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)

// Result is one case's outcome.
type Result struct {
	Case             *Case
	Strata, BuildKit Build
	Differences      []Difference
	Documented       map[int]Expected // index into Differences → the item that documents it
	Stale            []Expected       // documented differences that did not occur
	Err              error            // the harness could not run the case
	Duration         time.Duration
}

// Build is one builder's run of a case.
type Build struct {
	OK       bool
	Log      string // the command line, the builder's output and how it ended
	Output   string // the builder's output alone
	Duration time.Duration
	Images   map[string]*Image
}

// Undocumented returns the differences no expected-differences.md item covers.
func (r *Result) Undocumented() []Difference {
	var out []Difference
	for i, d := range r.Differences {
		if _, ok := r.Documented[i]; !ok {
			out = append(out, d)
		}
	}
	return out
}

// Pass reports whether the case passes: it ran, and every difference is documented.
func (r *Result) Pass() bool {
	return r.Err == nil && len(r.Undocumented()) == 0
}

// Verdict is the result column of the report.
func (r *Result) Verdict() string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case !r.Pass():
		return "FAIL"
	case len(r.Documented) > 0:
		return "pass (documented)"
	}
	return "pass"
}

func (h *harness) runCase(ctx context.Context, c *Case) *Result {
	start := time.Now()
	r := &Result{Case: c}
	defer func() { r.Duration = time.Since(start) }()
	dir := filepath.Join(h.work, "cases", c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.Err = err
		return r
	}
	ctxDir := filepath.Join(dir, "context")
	if err := prepareContext(ctx, c, ctxDir); err != nil {
		r.Err = err
		return r
	}

	base, err := h.baseFor(ctx, c)
	if err != nil {
		r.Err = err
		return r
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.Strata = h.buildStrata(ctx, c, base, ctxDir, dir)
	}()
	go func() {
		defer wg.Done()
		r.BuildKit = h.buildBuildKit(ctx, c, base, ctxDir, dir)
	}()
	wg.Wait()
	if ctx.Err() != nil {
		r.Err = ctx.Err()
		return r
	}
	r.Differences = compareBuilds(c, r.Strata, r.BuildKit, h.since)
	r.Documented = map[int]Expected{}
	used := make([]bool, len(c.Expected))
	for i, d := range r.Differences {
		if j := matchExpected(c.Expected, d); j >= 0 {
			r.Documented[i] = c.Expected[j]
			used[j] = true
		} else if j := matchExpected(h.suite, d); j >= 0 {
			r.Documented[i] = h.suite[j]
			h.suiteUsed[j].Store(true)
		}
	}
	for j, e := range c.Expected {
		if !used[j] && !e.Intermittent() {
			r.Stale = append(r.Stale, e)
		}
	}
	if !h.opts.keep {
		// The images are read; drop the tars and unpacked layouts, keep the logs.
		for _, name := range []string{"strata.tar", "buildkit.tar", "strata.oci", "buildkit.oci"} {
			_ = os.RemoveAll(filepath.Join(dir, name))
		}
	}
	return r
}

// matchExpected returns the index of the first item that documents d, or -1.
func matchExpected(items []Expected, d Difference) int {
	for j, e := range items {
		if e.Match(d.Key) {
			return j
		}
	}
	return -1
}

// compareBuilds turns two builds of a case into differences.
func compareBuilds(c *Case, s, b Build, since time.Time) []Difference {
	var diffs []Difference
	if c.ExpectError {
		for who, bl := range map[string]Build{"strata": s, "buildkit": b} {
			if bl.OK {
				d := Difference{Key: "build " + who, Strata: buildResult(s), BuildKit: buildResult(b)}
				diffs = append(diffs, d)
				continue
			}
			for _, want := range c.Errors[who] {
				if !strings.Contains(bl.Output, want) {
					diffs = append(diffs, Difference{Key: "error " + who, Strata: "output lacks", BuildKit: fmt.Sprintf("%q", want)})
				}
			}
		}
		slices.SortFunc(diffs, func(a, b Difference) int { return strings.Compare(a.Key, b.Key) })
		return diffs
	}
	switch {
	case !s.OK && !b.OK:
		return []Difference{{Key: "build", Strata: "failed: " + lastLine(s.Output), BuildKit: "failed: " + lastLine(b.Output)}}
	case !s.OK:
		return []Difference{{Key: "build strata", Strata: "failed: " + lastLine(s.Output), BuildKit: "succeeded"}}
	case !b.OK:
		return []Difference{{Key: "build buildkit", Strata: "succeeded", BuildKit: "failed: " + lastLine(b.Output)}}
	}
	var platforms []string
	for p := range s.Images {
		platforms = append(platforms, p)
	}
	for p := range b.Images {
		if _, ok := s.Images[p]; !ok {
			platforms = append(platforms, p)
		}
	}
	slices.Sort(platforms)
	for _, p := range platforms {
		si, bi := s.Images[p], b.Images[p]
		switch {
		case si == nil:
			diffs = append(diffs, Difference{Key: "platform " + p, Strata: "missing", BuildKit: "built"})
		case bi == nil:
			diffs = append(diffs, Difference{Key: "platform " + p, Strata: "built", BuildKit: "missing"})
		default:
			if len(platforms) == 1 {
				si.Platform, bi.Platform = "", ""
			}
			diffs = append(diffs, compareImages(si, bi, since)...)
		}
	}
	return diffs
}

// buildResult says how a build ended, for a difference under expect-error.
func buildResult(b Build) string {
	if b.OK {
		return "succeeded (expected to fail)"
	}
	return "failed: " + lastLine(b.Output)
}

// lastLine returns the last non-empty line of a build log, the one that says why it failed.
func lastLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			return fmt.Sprintf("%q", l)
		}
	}
	return `""`
}

func (h *harness) buildStrata(ctx context.Context, c *Case, base, ctxDir, dir string) Build {
	out := filepath.Join(dir, "strata.tar")
	args := []string{"build", "--progress=plain", "--cache-dir", h.cache, "-o", "type=oci,dest=" + out,
		"--build-arg", "BASE=" + base}
	for _, a := range c.Args {
		args = append(args, "--build-arg", a)
	}
	if c.Target != "" {
		args = append(args, "--target", c.Target)
	}
	if c.Platform != "" {
		args = append(args, "--platform", c.Platform)
	}
	for _, sec := range secretFiles(c, dir) {
		args = append(args, "--secret", sec)
	}
	for _, nc := range c.Contexts {
		name, rel, _ := strings.Cut(nc, "=")
		args = append(args, "--build-context", name+"="+namedContextDir(dir, rel))
	}
	args = append(args, ctxDir)
	return h.build(ctx, filepath.Join(dir, "strata.log"), out, filepath.Join(dir, "strata.oci"), h.opts.strata, args...)
}

func (h *harness) buildBuildKit(ctx context.Context, c *Case, base, ctxDir, dir string) Build {
	out := filepath.Join(dir, "buildkit.tar")
	args := []string{"--addr", h.bk.addr, "build", "--progress=plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + ctxDir, "--local", "dockerfile=" + ctxDir,
		"--opt", "build-arg:BASE=" + base, "--output", "type=oci,dest=" + out}
	for _, a := range c.Args {
		args = append(args, "--opt", "build-arg:"+a)
	}
	if c.Target != "" {
		args = append(args, "--opt", "target="+c.Target)
	}
	if c.Platform != "" {
		args = append(args, "--opt", "platform="+c.Platform)
	}
	for _, sec := range secretFiles(c, dir) {
		args = append(args, "--secret", sec)
	}
	for _, nc := range c.Contexts {
		name, rel, _ := strings.Cut(nc, "=")
		// A named context from a folder: a local source of its own, which the
		// Dockerfile frontend takes as context:NAME=local:NAME.
		args = append(args, "--local", name+"="+namedContextDir(dir, rel), "--opt", "context:"+name+"=local:"+name)
	}
	return h.build(ctx, filepath.Join(dir, "buildkit.log"), out, filepath.Join(dir, "buildkit.oci"), h.bk.buildctl, args...)
}

// secretFiles returns the case's secrets as --secret values, "id=ID,src=FILE", with each
// secret's value in a file of dir (written by prepareContext).
func secretFiles(c *Case, dir string) []string {
	var out []string
	for _, sec := range c.Secrets {
		id, _, _ := strings.Cut(sec, "=")
		out = append(out, "id="+id+",src="+filepath.Join(dir, "secret-"+id))
	}
	return out
}

// namedContextDir is where prepareContext copies the case folder rel, a named context.
func namedContextDir(dir, rel string) string {
	return filepath.Join(dir, "context-"+rel)
}

// build runs one builder with its output in logFile and reads the OCI tar it wrote.
func (h *harness) build(ctx context.Context, logFile, tarPath, layoutDir, bin string, args ...string) Build {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, h.opts.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	b := Build{Duration: time.Since(start)}
	log := fmt.Sprintf("$ %s %s\n%s", bin, strings.Join(args, " "), out)
	if err != nil {
		log += fmt.Sprintf("\n%s: %v\n", filepath.Base(bin), err)
	}
	if werr := os.WriteFile(logFile, []byte(log), 0o644); werr != nil && err == nil {
		err = werr
	}
	b.Log, b.Output = log, string(out)
	if err != nil {
		return b
	}
	images, err := readOCITar(tarPath, layoutDir)
	if err != nil {
		b.Log += fmt.Sprintf("\nreading the image: %v\n", err)
		return b
	}
	b.OK, b.Images = true, images
	return b
}

// prepareContext copies the case folder, less its case files and named-context folders, to
// dst, pins every mtime to contextEpoch and runs the case's setup.sh in dst (for what git
// cannot hold: hard links, xattrs, special files, tars, exact modes and times). Named contexts
// and secret files go beside dst.
func prepareContext(ctx context.Context, c *Case, dst string) error {
	skip := map[string]bool{}
	for _, nc := range c.Contexts {
		_, rel, _ := strings.Cut(nc, "=")
		skip[rel] = true
	}
	leaveOut := func(rel string) bool { return caseFiles[rel] || skip[rel] }
	if err := copyTree(c.Dir, dst, leaveOut); err != nil {
		return fmt.Errorf("copying the context: %w", err)
	}
	for _, sec := range c.Secrets {
		id, value, _ := strings.Cut(sec, "=")
		if err := os.WriteFile(filepath.Join(filepath.Dir(dst), "secret-"+id), []byte(value), 0o600); err != nil {
			return err
		}
	}
	for rel := range skip {
		named := namedContextDir(filepath.Dir(dst), rel)
		if err := copyTree(filepath.Join(c.Dir, rel), named, nil); err != nil {
			return fmt.Errorf("copying the build context %s: %w", rel, err)
		}
		if err := pinTimes(named, contextEpoch, time.Time{}); err != nil {
			return err
		}
	}
	if err := pinTimes(dst, contextEpoch, time.Time{}); err != nil {
		return err
	}
	setup, err := filepath.Abs(filepath.Join(c.Dir, setupFile))
	if err != nil {
		return err
	}
	if _, err := os.Stat(setup); err != nil {
		return nil
	}
	started := time.Now().Add(-time.Second)
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", setup)
	cmd.Dir = dst
	cmd.Env = append(os.Environ(), fmt.Sprintf("CONTEXT_EPOCH=%d", contextEpoch.Unix()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", setupFile, err, out)
	}
	// What setup.sh made or changed without setting a time gets contextEpoch too; the
	// times it set on purpose stay.
	return pinTimes(dst, contextEpoch, started)
}

// copyTree copies the folder src to dst: folders, regular files with their permission bits,
// and symlinks. Top-level names for which leaveOut (if not nil) is true are left out.
func copyTree(src, dst string, leaveOut func(name string) bool) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && !strings.Contains(rel, string(filepath.Separator)) && leaveOut != nil && leaveOut(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(p, target, info.Mode().Perm())
		}
		return fmt.Errorf("%s: unsupported file type %s", p, d.Type())
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm) // umask
}

// pinTimes sets the mtime and atime of everything under root (symlinks themselves
// included) whose mtime is not before since to t, children before parents.
func pinTimes(root string, t, since time.Time) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Before(since) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("pinning times: %w", err)
		}
	}
	return nil
}
