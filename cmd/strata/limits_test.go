package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/stratabuild/strata/internal/testregistry"
)

// Resource limits: input built to exhaust memory, disk or time. Each test
// logs strata's peak RSS and its time, and records its cases for make
// test's summary.

// measured runs strata like strataIn and returns its result, the peak
// RSS of the strata process in MiB (its VmHWM, read every 20ms while it
// runs: the processes of a RUN are not counted) and its time.
func measured(t *testing.T, env []string, args ...string) (result, float64, time.Duration) {
	t.Helper()
	cmd := exec.Command(strataBin(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var hwm atomic.Int64 // KiB
	done := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if data, err := os.ReadFile(status); err == nil {
				var kb int64
				if i := bytes.Index(data, []byte("VmHWM:")); i >= 0 {
					fmt.Sscan(string(data[i+len("VmHWM:"):]), &kb)
				}
				if kb > hwm.Load() {
					hwm.Store(kb)
				}
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-polled
	d := time.Since(start)
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running strata: %v", err)
	}
	return r, float64(hwm.Load()) / 1024, d
}

// gzipMembers returns a gzip stream of the concatenation of parts, each
// part a gzip member of its own, each zero part compressed only once: a
// bomb of n GiB is made in a fraction of a second.
func bombTarGz(t *testing.T, name string, gib int) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		return b.Bytes()
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(gib) << 30, Mode: 0o644, ModTime: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	zeros := member(make([]byte, 64<<20))
	var out bytes.Buffer
	out.Write(member(hdr.Bytes()))
	for range gib * 16 {
		out.Write(zeros)
	}
	out.Write(member(make([]byte, 1024))) // the end of the archive
	return out.Bytes()
}

// layerFile finds a file by its path in the layer directories of cache.
func layerFile(t *testing.T, cache, p string) (os.FileInfo, *syscall.Stat_t) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(cache, "layers", "*", p))
	if len(matches) != 1 {
		t.Fatalf("%s in %d layer directories, want 1", p, len(matches))
	}
	fi, err := os.Stat(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return fi, fi.Sys().(*syscall.Stat_t)
}

// TestAddBombs: ADD of a decompression bomb and of huge sparse files.
// Docker extracts them all; so does strata, with bounded memory, writing
// zeros as holes, unless the archive expands beyond the free space of the
// file system holding the cache: then it fails before writing the entry.
func TestAddBombs(t *testing.T) {
	requireE2E(t, "tar", "truncate", "mount")
	c := newCanary(t)
	cache := t.TempDir()
	var st syscall.Statfs_t
	if err := syscall.Statfs(cache, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize

	// A 3 GiB file of zeros in a 3 MB .tar.gz.
	t.Run("decompression bomb", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: ADD decompression bomb", c.checkOutside(t), false) }()
		bomb := bombTarGz(t, "zeros.bin", 3)
		dir := writeContext(t, "FROM scratch\nADD bomb.tar.gz /dest/\n", map[string]string{})
		if err := os.WriteFile(filepath.Join(dir, "bomb.tar.gz"), bomb, 0o644); err != nil {
			t.Fatal(err)
		}
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		t.Logf("ADD of a %.1f MB .tar.gz holding 3 GiB of zeros: exit %d, %.1fs, peak RSS %.0f MiB", float64(len(bomb))/1e6, r.code, d.Seconds(), rss)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		if rss > 200 {
			t.Errorf("peak RSS %.0f MiB, want under 200", rss)
		}
		fi, sys := layerFile(t, cache, "dest/zeros.bin")
		if fi.Size() != 3<<30 || sys.Blocks*512 > 1<<20 {
			t.Errorf("dest/zeros.bin: %d bytes, %d allocated; want 3 GiB, in holes", fi.Size(), sys.Blocks*512)
		}
	})

	// On a small file system the same bomb is refused: its size is
	// more than the free space.
	t.Run("decompression bomb on a small disk", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: ADD decompression bomb, 64 MiB disk", c.checkOutside(t), false) }()
		small := t.TempDir()
		run(t, "mount", "-t", "tmpfs", "-o", "size=64m", "strata-test", small)
		t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
		dir := writeContext(t, "FROM scratch\nADD bomb.tar.gz /dest/\n", map[string]string{})
		if err := os.WriteFile(filepath.Join(dir, "bomb.tar.gz"), bombTarGz(t, "zeros.bin", 3), 0o644); err != nil {
			t.Fatal(err)
		}
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", small, dir)
		t.Logf("the bomb with the cache on a 64 MiB tmpfs: exit %d, %.1fs, peak RSS %.0f MiB: %s", r.code, d.Seconds(), rss, errorLine(r.stderr))
		if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, "the archive expands to more than the free space: 3.0 GiB so far") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})

	// GNU tar -S archives of sparse files: 4 GiB with data at both ends
	// is extracted with its holes; 10 TiB is more than the disk has.
	t.Run("huge sparse files", func(t *testing.T) {
		dir := writeContext(t, "FROM scratch\nADD sparse.tar /dest/\n", map[string]string{})
		work := t.TempDir()
		f := filepath.Join(work, "sparse.bin")
		run(t, "truncate", "-s", "4G", f)
		fh, err := os.OpenFile(f, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fh.WriteAt([]byte("start"), 0)
		fh.WriteAt([]byte("end"), 4<<30-3)
		fh.Close()
		run(t, "tar", "-S", "-C", work, "-cf", filepath.Join(dir, "sparse.tar"), "sparse.bin")
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		t.Logf("ADD of a sparse 4 GiB file: exit %d, %.1fs, peak RSS %.0f MiB", r.code, d.Seconds(), rss)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		fi, sys := layerFile(t, cache, "dest/sparse.bin")
		if fi.Size() != 4<<30 || sys.Blocks*512 > 1<<20 {
			t.Errorf("dest/sparse.bin: %d bytes, %d allocated; want 4 GiB, in holes", fi.Size(), sys.Blocks*512)
		}
		recordHostile(t, "limits: ADD 4 GiB sparse file", c.checkOutside(t), false)

		os.Remove(f)
		run(t, "truncate", "-s", "10T", f)
		run(t, "tar", "-S", "-C", work, "-cf", filepath.Join(dir, "sparse.tar"), "sparse.bin")
		r, rss, d = measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		t.Logf("ADD of a sparse 10 TiB file (%d GB free): exit %d, %.1fs, peak RSS %.0f MiB: %s", free>>30, r.code, d.Seconds(), rss, errorLine(r.stderr))
		if r.code != 1 || !strings.Contains(r.stderr, "Dockerfile:2:") || !strings.Contains(r.stderr, "the archive expands to more than the free space") {
			t.Errorf("exit %d, stderr:\n%s\nwant a failure naming Dockerfile:2 and the free space", r.code, r.stderr)
		}
		if d > 60*time.Second {
			t.Errorf("refusing took %s", d)
		}
		recordHostile(t, "limits: ADD 10 TiB sparse file", c.checkOutside(t), false)
	})
}

// TestBigInputs: a context of 100k files and a Dockerfile of 10k lines
// build, and strata lint reads the Dockerfile, in bounded time and memory.
func TestBigInputs(t *testing.T) {
	requireE2E(t)
	c := newCanary(t)
	cache := t.TempDir()

	t.Run("context of 100k files", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: 100k-file context", c.checkOutside(t), false) }()
		dir := writeContext(t, "FROM scratch\nCOPY . /ctx/\n", map[string]string{})
		for d := range 100 {
			sub := filepath.Join(dir, fmt.Sprint("d", d))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			for f := range 1000 {
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprint("f", f)), []byte(fmt.Sprintln(d, f)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		out := filepath.Join(t.TempDir(), "fs.tar")
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, "-o", "type=tar,dest="+out, dir)
		t.Logf("COPY of a 100k-file context: exit %d, %.1fs, peak RSS %.0f MiB", r.code, d.Seconds(), rss)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		files := 0
		for p, v := range tarTree(t, out) {
			if strings.HasPrefix(p, "ctx/d") && v != "dir" {
				files++
			}
		}
		if files != 100000 {
			t.Errorf("%d files in the image, want 100000", files)
		}
		r, rss, d = measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		t.Logf("the same build again (cached): exit %d, %.1fs, peak RSS %.0f MiB", r.code, d.Seconds(), rss)
		if r.code != 0 || stepsRun(t, r) != 0 {
			t.Errorf("rebuild: exit %d, %d steps run, want 0", r.code, stepsRun(t, r))
		}
	})

	t.Run("Dockerfile of 10k lines", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: 10k-line Dockerfile", c.checkOutside(t), false) }()
		var df strings.Builder
		df.WriteString("FROM scratch\n")
		for i := range 9998 {
			switch i % 4 {
			case 0:
				fmt.Fprintf(&df, "# comment %d\n", i)
			case 1:
				fmt.Fprintf(&df, "ENV E%d=%d\n", i, i)
			case 2:
				fmt.Fprintf(&df, "LABEL l%d=\"v $E%d\"\n", i, i-1)
			case 3:
				fmt.Fprintf(&df, "ARG A%d=%d\n", i, i)
			}
		}
		df.WriteString("COPY f /f\n")
		dir := writeContext(t, df.String(), map[string]string{"f": "f\n"})
		oci := filepath.Join(t.TempDir(), "oci")
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, "-o", "type=oci,tar=false,dest="+oci, dir)
		t.Logf("build of a 10k-line Dockerfile: exit %d, %.1fs, peak RSS %.0f MiB", r.code, d.Seconds(), rss)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%.2000s", r.code, r.stderr)
		}
		idx, err := layout.ImageIndexFromPath(oci)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := idx.IndexManifest()
		img, err := idx.Image(m.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Config.Labels) != 2499 || cfg.Config.Labels["l9998"] != "" || cfg.Config.Labels["l9994"] != "v 9993" {
			t.Errorf("%d labels, l9994 = %q; want 2499 and %q", len(cfg.Config.Labels), cfg.Config.Labels["l9994"], "v 9993")
		}

		r, rss, d = measured(t, nil, "lint", filepath.Join(dir, "Dockerfile"))
		t.Logf("strata lint of a 10k-line Dockerfile: exit %d, %.1fs, peak RSS %.0f MiB, %d lines of findings", r.code, d.Seconds(), rss, strings.Count(r.stdout, "\n"))
		if r.code > 1 || strings.Contains(r.stderr, "panic") {
			t.Errorf("lint: exit %d\n%.2000s", r.code, r.stderr)
		}
		if d > 2*time.Minute {
			t.Errorf("lint took %s", d)
		}
	})
}

var clippedRE = regexp.MustCompile(`\[output clipped: the log limit of 2 MiB or 65536 lines is reached; the full log is kept in (\S+)\]`)

// TestRunOutputFlood: a RUN that prints 3 GiB is streamed: strata's
// memory stays bounded, the progress output stops at 2 MiB with a note
// naming the full log, which is kept whole in the cache directory; a RUN
// that fails after printing much gets a short error.
func TestRunOutputFlood(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	c := newCanary(t)

	t.Run("3 GiB of lines", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: RUN printing 3 GiB", c.checkOutside(t), false) }()
		// busybox's head is slow: cat a 1 MiB file of "y" lines 3072 times.
		df := "FROM " + base + "\nRUN yes | head -c 1048576 > /tmp/y; i=0; while [ $i -lt 3072 ]; do cat /tmp/y; i=$((i+1)); done; echo printed-3GiB >&2\n"
		dir := writeContext(t, df, map[string]string{})
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		t.Logf("RUN printing 3 GiB: exit %d, %.1fs, peak RSS %.0f MiB, %d bytes of progress", r.code, d.Seconds(), rss, len(r.stderr))
		if r.code != 0 {
			t.Fatalf("exit %d:\n%.4000s", r.code, r.stderr)
		}
		if rss > 100 {
			t.Errorf("peak RSS %.0f MiB, want under 100", rss)
		}
		if len(r.stderr) > 3<<20 {
			t.Errorf("%d bytes of progress, want it clipped at 64k lines", len(r.stderr))
		}
		m := clippedRE.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("no note of the clipped output in the progress:\n%.1000s", r.stderr[max(0, len(r.stderr)-1000):])
		}
		if !strings.HasPrefix(m[1], filepath.Join(cache, "logs")+"/") {
			t.Errorf("the log is kept in %s, want it under the cache's logs/", m[1])
		}
		fi, err := os.Stat(m[1])
		want := int64(3<<30 + len("printed-3GiB\n"))
		if err != nil || fi.Size() != want {
			t.Errorf("kept log: %v, %v; want %d bytes", fi, err, want)
		}
		// strata prune removes it with the rest.
		mustStrata(t, "prune", "--cache-dir", cache, "--all")
		if _, err := os.Stat(m[1]); err == nil {
			t.Errorf("the log is still there after strata prune --all")
		}
	})

	t.Run("failure after 100 MiB", func(t *testing.T) {
		defer func() { recordHostile(t, "limits: RUN failing after 100 MiB", c.checkOutside(t), false) }()
		// A 50 MiB line on stdout, 50 MiB of lines on stderr, then exit 3.
		df := "FROM " + base + "\nRUN head -c 52428800 /dev/zero | tr '\\0' x; yes | head -c 52428800 >&2; echo last-words >&2; exit 3\n"
		dir := writeContext(t, df, map[string]string{})
		r, rss, d := measured(t, nil, "build", "--progress=plain", "--cache-dir", cache, dir)
		i := strings.Index(r.stderr, "error:")
		if i < 0 {
			t.Fatalf("exit %d, no error in:\n%.2000s", r.code, r.stderr[max(0, len(r.stderr)-2000):])
		}
		msg := r.stderr[i:]
		t.Logf("RUN failing after 100 MiB: exit %d, %.1fs, peak RSS %.0f MiB, error message %d bytes", r.code, d.Seconds(), rss, len(msg))
		if r.code != 1 || !strings.Contains(msg, "Dockerfile:2:") || !strings.Contains(msg, "exit code: 3") || !strings.Contains(msg, "  last-words") ||
			!strings.Contains(msg, "bytes clipped]") || !strings.Contains(msg, "the full log is kept in "+filepath.Join(cache, "logs")) {
			t.Errorf("exit %d, error message:\n%.3000s", r.code, msg)
		}
		if len(msg) > 32<<10 {
			t.Errorf("the error message is %d bytes, want it under 32 KiB", len(msg))
		}
		if rss > 100 {
			t.Errorf("peak RSS %.0f MiB, want under 100", rss)
		}
	})
}
