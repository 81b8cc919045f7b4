package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/internal/hostile"
	"github.com/stratabuild/strata/internal/testregistry"
)

// Hostile input: each case is recorded (internal/hostile) with whether it
// wrote outside the build's own directories or leaked a secret, for the
// summary `make test` prints.

// recordHostile records one hostile case; outside and leaked are its
// failures.
func recordHostile(t *testing.T, name string, outside, leaked bool) {
	t.Helper()
	if err := hostile.Record(hostile.Case{Name: name, WroteOutside: outside, LeakedSecret: leaked}); err != nil {
		t.Error(err)
	}
}

// canary is a directory tree on the host that hostile input aims at, and
// a unique name that hostile input tries to create anywhere: a build that
// changes the tree, or makes the name in /, /etc or /tmp, wrote outside
// the build's own directories.
type canary struct {
	dir    string // the tree: secret.txt, etc/passwd, sub/dir/file
	token  string // "pwned-<random>"
	before map[string]string
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	c := &canary{dir: t.TempDir(), token: "pwned-" + strings.ToLower(rand.Text()[:12])}
	for name, data := range map[string]string{"secret.txt": "HOST-CANARY\n", "etc/passwd": "host-canary:x:0:0\n", "sub/dir/file": "deep\n"} {
		p := filepath.Join(c.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("secret.txt", filepath.Join(c.dir, "link")); err != nil {
		t.Fatal(err)
	}
	c.before = c.snapshot(t)
	return c
}

// snapshot describes every entry of the tree: type, mode, owner, size,
// mtime and content or link target.
func (c *canary) snapshot(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d %d %d", fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(data))
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			desc += " -> " + l
		}
		m[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// changed lists what changed in the tree, and the token's files that
// exist on the host.
func (c *canary) changed(t *testing.T) []string {
	t.Helper()
	var diffs []string
	after := c.snapshot(t)
	for p, d := range after {
		if b, ok := c.before[p]; !ok {
			diffs = append(diffs, "new "+p)
		} else if b != d {
			diffs = append(diffs, "changed "+p)
		}
	}
	for p := range c.before {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		}
	}
	wd, _ := os.Getwd()
	for _, dir := range []string{"/", "/etc", "/tmp", "/root", wd, filepath.Dir(c.dir)} {
		if _, err := os.Lstat(filepath.Join(dir, c.token)); err == nil {
			diffs = append(diffs, "new "+filepath.Join(dir, c.token))
			os.RemoveAll(filepath.Join(dir, c.token))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// checkOutside fails t and reports true if c changed.
func (c *canary) checkOutside(t *testing.T) bool {
	t.Helper()
	if diffs := c.changed(t); len(diffs) > 0 {
		t.Errorf("written outside the build: %s", strings.Join(diffs, ", "))
		return true
	}
	return false
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name     string
	typ      byte   // tar.TypeReg when 0
	body     string // content of a regular file
	link     string // target of a symlink or hard link
	mode     int64  // 0644 (0755 for directories) when 0
	devMajor int64
	devMinor int64
}

// makeTar writes entries into a tar, gzip-compressed if gz.
func makeTar(t *testing.T, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Devmajor: e.devMajor, Devminor: e.devMinor,
			ModTime: time.Unix(1e9, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// tarTree describes the entries of a tar file: for each name (without a
// leading "./" or "/" or a trailing "/"), its content, "dir", "->target"
// for a symlink, "=>target" for a hard link, or "chr M:N", "blk M:N",
// "fifo".
func tarTree(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Trim(strings.TrimPrefix(h.Name, "./"), "/")
		switch h.Typeflag {
		case tar.TypeReg:
			data, _ := io.ReadAll(tr)
			m[name] = string(data)
		case tar.TypeDir:
			m[name] = "dir"
		case tar.TypeSymlink:
			m[name] = "->" + h.Linkname
		case tar.TypeLink:
			m[name] = "=>" + strings.Trim(h.Linkname, "/")
		case tar.TypeChar:
			m[name] = fmt.Sprintf("chr %d:%d", h.Devmajor, h.Devminor)
		case tar.TypeBlock:
			m[name] = fmt.Sprintf("blk %d:%d", h.Devmajor, h.Devminor)
		case tar.TypeFifo:
			m[name] = "fifo"
		}
	}
	return m
}

// TestContextSymlinksStayInside: symlinks in the build context resolve
// inside the context, as in docker build; they never reach the host.
func TestContextSymlinksStayInside(t *testing.T) {
	requireE2E(t)
	secret := filepath.Join(t.TempDir(), "host-secret.tar")
	if err := os.WriteFile(secret, tarGz(t, map[string]string{"leak.txt": "HOST-SECRET"}), 0o644); err != nil {
		t.Fatal(err)
	}
	mk := func(df string, links map[string]string) string {
		dir := writeContext(t, df, map[string]string{"target": "inside\n", "etc/passwd": "context passwd\n"})
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cache := t.TempDir()
	tests := []struct {
		name, df string
		links    map[string]string
		want     map[string]string // files in the result; nil: the build fails
		errText  string
	}{
		{"ADD through a link to a host tar", "FROM scratch\nADD evil.tar /x/\n", map[string]string{"evil.tar": secret}, nil, "not found"},
		{"ADD through a linked dir", "FROM scratch\nADD d/host-secret.tar /x/\n", map[string]string{"d": filepath.Dir(secret)}, nil, "not found"},
		{"COPY of a link to /dev/zero", "FROM scratch\nCOPY z /x\n", map[string]string{"z": "/dev/zero"}, nil, "not found"},
		{"absolute link to a context file", "FROM scratch\nCOPY abs /x\n", map[string]string{"abs": "/target"}, map[string]string{"x": "inside\n"}, ""},
		{"link to /etc reads the context's etc", "FROM scratch\nCOPY link/passwd /p\n", map[string]string{"link": "/etc"}, map[string]string{"p": "context passwd\n"}, ""},
		{"relative link climbing out", "FROM scratch\nCOPY up/passwd /p\n", map[string]string{"up": "../../../../../../etc"}, map[string]string{"p": "context passwd\n"}, ""},
	}
	c := newCanary(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() { recordHostile(t, "context symlink: "+tt.name, c.checkOutside(t), false) }()
			dir := mk(tt.df, tt.links)
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(strataBin(t), "build", "--cache-dir", cache, "-o", "type=local,dest="+out, dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("build hangs")
			}
			if tt.want == nil {
				if err == nil || !strings.Contains(stderr.String(), tt.errText) || !strings.Contains(stderr.String(), "Dockerfile:2:") {
					t.Errorf("err %v, stderr:\n%s\nwant a failure naming %q", err, stderr.String(), tt.errText)
				}
				if strings.Contains(stderr.String(), "HOST-SECRET") {
					t.Errorf("host file content leaked")
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v\n%s", err, stderr.String())
			}
			for name, content := range tt.want {
				data, err := os.ReadFile(filepath.Join(out, name))
				if err != nil || string(data) != content {
					t.Errorf("%s = %q, %v, want %q", name, data, err, content)
				}
			}
		})
	}
}

// TestInterruptStopsRun: SIGTERM during a long RUN stops the build within
// seconds, leaves no mount or container, and the cache still works.
func TestInterruptStopsRun(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	dir := writeContext(t, "FROM "+base+"\nRUN echo start; sleep 100; echo end\n", map[string]string{})
	cmd, stderr := startUntilRun(t, cache, dir)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("interrupted build exited 0")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("SIGTERM did not stop the build within 20s")
	}
	if strings.Contains(stderr.String(), "| end") {
		t.Errorf("the RUN ran to its end")
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("a mount under the cache dir is left:\n%s", mounts)
	}
	if out, _ := exec.Command("runc", "--root", filepath.Join(cache, "runc"), "list", "-q").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc containers left: %s", out)
	}
	// The cache still works.
	dir2 := writeContext(t, "FROM "+base+"\nRUN echo ok > /ok\n", map[string]string{})
	mustStrata(t, "build", "--cache-dir", cache, dir2)
}

// TestKilledBuildIsCleanedUp: after SIGKILL during a RUN (a CI timeout),
// the next build on the cache removes the leftover mount, container and
// work files.
func TestKilledBuildIsCleanedUp(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	dir := writeContext(t, "FROM "+base+"\nRUN echo start; sleep 100\n", map[string]string{})
	cmd, _ := startUntilRun(t, cache, dir)
	cmd.Process.Kill()
	cmd.Wait()
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if !strings.Contains(string(mounts), cache) {
		t.Fatalf("expected the killed build to leave its overlay mounted")
	}

	mustStrata(t, "build", "--cache-dir", cache, writeContext(t, "FROM "+base+"\nRUN true\n", map[string]string{}))
	mounts, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("mounts under the cache dir are left after the next build")
	}
	if out, _ := exec.Command("runc", "--root", filepath.Join(cache, "runc"), "list", "-q").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc containers left: %s", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(entries) != 0 {
		t.Errorf("tmp has %d entries left", len(entries))
	}

	// strata prune after a killed build clears what it left too, and the
	// cache still builds.
	cmd, _ = startUntilRun(t, cache, dir)
	cmd.Process.Kill()
	cmd.Wait()
	mustStrata(t, "prune", "--cache-dir", cache, "--keep-storage", "1GB")
	mounts, _ = os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), cache) {
		t.Errorf("mounts under the cache dir are left after strata prune")
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(entries) != 0 {
		t.Errorf("tmp has %d entries left after strata prune", len(entries))
	}
	mustStrata(t, "build", "--cache-dir", cache, writeContext(t, "FROM "+base+"\nRUN true\n", map[string]string{}))
}

// startUntilRun starts a build of dir and returns once its RUN has printed
// "start".
func startUntilRun(t *testing.T, cache, dir string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(strataBin(t), "build", "--progress=plain", "--cache-dir", cache, dir)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "| start") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("RUN never started:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd, stderr
}

// dirTree describes a directory as tarTree describes a tar, hard links
// left as files.
func dirTree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		name, _ := filepath.Rel(root, p)
		rdev := uint64(fi.Sys().(*syscall.Stat_t).Rdev)
		switch mode := fi.Mode(); {
		case mode.IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[name] = string(data)
		case mode.IsDir():
			m[name] = "dir"
		case mode&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[name] = "->" + l
		case mode&os.ModeCharDevice != 0:
			m[name] = fmt.Sprintf("chr %d:%d", unix.Major(rdev), unix.Minor(rdev))
		case mode&os.ModeDevice != 0:
			m[name] = fmt.Sprintf("blk %d:%d", unix.Major(rdev), unix.Minor(rdev))
		case mode&os.ModeNamedPipe != 0:
			m[name] = "fifo"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
