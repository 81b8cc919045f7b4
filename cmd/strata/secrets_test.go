package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/stratabuild/strata/internal/testregistry"
)

// needles are the forms in which a secret could leak: as is, in hex, and
// in base64 (standard and URL alphabets) at each of the three alignments
// it can have inside longer encoded data.
func needles(secret string) map[string][]byte {
	n := map[string][]byte{"value": []byte(secret), "hex": []byte(hex.EncodeToString([]byte(secret)))}
	for k := range 3 {
		for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			s := enc.EncodeToString(append(make([]byte, k), secret...))
			// Drop the characters that depend on the bytes before and
			// after the secret.
			s = s[(k*4+2)/3+1 : len(s)-4]
			n[fmt.Sprintf("%s@%d", name, k)] = []byte(s)
		}
	}
	return n
}

// leakScanner searches bytes for needles, looking inside gzip and zstd
// streams and tar archives (and so inside layers, OCI and docker tars and
// registry blobs).
type leakScanner struct {
	needles map[string][]byte
	scanned int64 // bytes searched, decompressed ones included
	files   int
	opened  map[string]int // streams opened: gzip, zstd, tar
}

// scan reports where in data (named where) a needle is found.
func (s *leakScanner) scan(where string, data []byte) []string {
	s.scanned += int64(len(data))
	var hits []string
	for name, n := range s.needles {
		if bytes.Contains(data, n) {
			hits = append(hits, where+" ("+name+")")
		}
	}
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if inner, err := io.ReadAll(zr); err == nil {
				s.opened["gzip"]++
				hits = append(hits, s.scan(where+" (gunzipped)", inner)...)
			}
		}
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		if zr, err := zstd.NewReader(bytes.NewReader(data)); err == nil {
			if inner, err := io.ReadAll(zr); err == nil {
				s.opened["zstd"]++
				hits = append(hits, s.scan(where+" (unzstd)", inner)...)
			}
			zr.Close()
		}
	case len(data) >= 512 && bytes.Equal(data[257:262], []byte("ustar")):
		s.opened["tar"]++
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			for _, v := range append([]string{h.Name, h.Linkname}, mapValues(h.PAXRecords)...) {
				for name, n := range s.needles {
					if strings.Contains(v, string(n)) {
						hits = append(hits, fmt.Sprintf("%s: header of %s (%s)", where, h.Name, name))
					}
				}
			}
			if inner, err := io.ReadAll(tr); err == nil && len(inner) > 0 {
				hits = append(hits, s.scan(where+": "+h.Name, inner)...)
			}
		}
	}
	return hits
}

func mapValues(m map[string]string) []string {
	var v []string
	for k, x := range m {
		v = append(v, k, x)
	}
	return v
}

// scanDir scans every regular file below dir, and the names and symlink
// targets of every entry.
func (s *leakScanner) scanDir(t *testing.T, dir string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		hits = append(hits, s.scan("the name "+p, []byte(p))...)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			hits = append(hits, s.scan("the symlink "+p, []byte(l))...)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s.files++
			hits = append(hits, s.scan(p, data)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestSecretsNeverLeak: a secret given with --secret (from a file and from
// a variable), used by RUN steps as a file and as a variable (hashed,
// copied into a file that the same RUN deletes, passed to commands), with
// an ssh agent forwarded, built with every output, both cache exports,
// every progress format and --explain-cache, and by a RUN that fails after
// reading it: no byte strata writes holds it, in any encoding. Every
// output, the whole cache directory, the registry's storage, strata's
// HOME and TMPDIR, and every stdout and stderr are searched, compressed
// layers and tars decompressed and opened.
func TestSecretsNeverLeak(t *testing.T) {
	requireE2E(t, "runc", "docker-registry", "ssh-agent", "ssh-add", "ssh-keygen")
	reg, storage := testregistry.StartStorage(t)
	bbCache := t.TempDir()
	base := busyboxBase(t, reg, bbCache)

	secret := "strata-secret-" + rand.Text()
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := startAgent(t, "strata-leak-test")
	keyFile := filepath.Join(filepath.Dir(sock), "key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ns := needles(secret)
	// The agent's private key must not leak either: its base64 lines.
	for i, line := range strings.Split(string(key), "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			ns[fmt.Sprint("ssh key line ", i)] = []byte(line)
		}
	}
	scanner := &leakScanner{needles: ns, opened: map[string]int{}}

	cache, home, tmp, outs := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	env := []string{"STRATA_TEST_TOKEN=" + secret, "SSH_AUTH_SOCK=" + sock, "HOME=" + home, "TMPDIR=" + tmp}
	df := "FROM " + base + `
ARG CHANGE=1
RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -c1-64 > /file.sum
RUN --mount=type=secret,id=envtok,env=TOKEN printf %s "$TOKEN" | sha256sum | cut -c1-64 > /env.sum
RUN --mount=type=secret,id=tok cp /run/secrets/tok /tmp/copy && sha256sum /tmp/copy | cut -c1-64 > /copy.sum && rm /tmp/copy
RUN --mount=type=secret,id=envtok,env=TOKEN,required test "${#TOKEN}" -gt 20 && printf %s "$TOKEN" | wc -c > /len.txt && echo "$CHANGE" > /change.txt
RUN --mount=type=secret,id=tok,target=/etc/app/token,mode=0400 --mount=type=cache,target=/var/cache/app grep -c strata-secret /etc/app/token > /grep.txt && date > /var/cache/app/stamp
RUN --mount=type=ssh [ -S "$SSH_AUTH_SOCK" ] && echo agent > /agent.txt
`
	ctxDir := writeContext(t, df, map[string]string{})
	secretArgs := []string{"--secret", "id=tok,src=" + secretFile, "--secret", "id=envtok,env=STRATA_TEST_TOKEN", "--ssh", "default"}

	type build struct {
		name string
		r    result
		outs string // its own outputs
	}
	var builds []build
	strataBuild := func(name string, args ...string) result {
		t.Helper()
		o := filepath.Join(outs, fmt.Sprint(len(builds)))
		if err := os.MkdirAll(o, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(append([]string{"build", "--cache-dir", cache}, secretArgs...), args...)
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "OUT", o)
		}
		r := strataIn(t, "", "", env, args...)
		builds = append(builds, build{name, r, o})
		return r
	}

	ref := reg + "/secret/app:1"
	r := strataBuild("push, every output, both cache exports", "--progress=plain", "-t", ref, "--push",
		"-o", "type=oci,dest=OUT/oci.tar", "-o", "type=docker,dest=OUT/docker.tar", "-o", "type=local,dest=OUT/root", "-o", "type=tar,dest=OUT/fs.tar",
		"--cache-to", "type=local,dest=OUT/cache,mode=max,cache-mounts=true", "--cache-to", "type=registry,ref="+reg+"/secret/cache:1,mode=max,cache-mounts=true",
		"--metadata-file", "OUT/md.json", "--iidfile", "OUT/iid", ctxDir)
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	b := built{root: filepath.Join(builds[0].outs, "root")}
	sum := sha256.Sum256([]byte(secret))
	for _, f := range []string{"file.sum", "env.sum", "copy.sum"} {
		b.wantContent(t, f, hex.EncodeToString(sum[:])+"\n")
	}
	b.wantContent(t, "len.txt", fmt.Sprintln(len(secret)))
	b.wantContent(t, "grep.txt", "1\n")
	b.wantContent(t, "agent.txt", "agent\n")
	b.wantAbsent(t, "tmp/copy")
	b.wantAbsent(t, "run/secrets")

	// Every step misses and says why, in JSON progress.
	r = strataBuild("rawjson, --explain-cache, new build arg", "--progress=rawjson", "--explain-cache", "--build-arg", "CHANGE=2",
		"-o", "type=oci,dest=OUT/oci.tar", "--metadata-file", "OUT/md.json", "--iidfile", "OUT/iid", ctxDir)
	if r.code != 0 || !strings.Contains(r.stderr, `"kind":"start"`) {
		t.Fatalf("rawjson build: exit %d\n%s", r.code, r.stderr)
	}
	// zstd layers, to a tar and to the registry.
	r = strataBuild("zstd layers", "--progress=plain", "--compression", "zstd", "-t", reg+"/secret/app:zstd", "--push",
		"-o", "type=oci,dest=OUT/oci.tar", ctxDir)
	if r.code != 0 {
		t.Fatalf("zstd build: exit %d\n%s", r.code, r.stderr)
	}
	// A fresh cache imports both exports.
	cache2 := t.TempDir()
	r = strataIn(t, "", "", env, append(append([]string{"build", "--cache-dir", cache2}, secretArgs...),
		"--progress=plain", "--cache-from", "type=registry,ref="+reg+"/secret/cache:1", "--cache-from", "type=local,src="+filepath.Join(builds[0].outs, "cache"),
		"-o", "type=local,dest="+filepath.Join(outs, "imported"), ctxDir)...)
	builds = append(builds, build{"cache import", r, filepath.Join(outs, "imported")})
	if r.code != 0 {
		t.Fatalf("import build: exit %d\n%s", r.code, r.stderr)
	}

	// Failing steps that read the secret, in both progress formats.
	for _, progress := range []string{"plain", "rawjson"} {
		failing := writeContext(t, "FROM "+base+"\nRUN --mount=type=secret,id=envtok,env=TOKEN --mount=type=secret,id=tok sha256sum /run/secrets/tok; "+
			"grep -c . /run/secrets/tok; echo reading; test -z \"$TOKEN\"\n", map[string]string{})
		r = strataBuild("failing RUN, "+progress, "--progress="+progress, "--explain-cache", failing)
		if r.code != 1 || !strings.Contains(r.stderr, "exit code: 1") || !strings.Contains(r.stderr, "reading") {
			t.Errorf("failing build: exit %d\n%s", r.code, r.stderr)
		}
	}

	total := 0
	for _, b := range builds {
		hits := scanner.scanDir(t, b.outs)
		hits = append(hits, scanner.scan("stdout of "+b.name, []byte(b.r.stdout))...)
		hits = append(hits, scanner.scan("stderr of "+b.name, []byte(b.r.stderr))...)
		for _, h := range hits {
			t.Errorf("the secret is in %s", h)
		}
		total += len(hits)
		recordHostile(t, "secret: "+b.name, false, len(hits) > 0)
	}
	var hits []string
	for _, dir := range []string{cache, cache2, storage, home, tmp} {
		hits = append(hits, scanner.scanDir(t, dir)...)
	}
	for _, h := range hits {
		t.Errorf("the secret is in %s", h)
	}
	total += len(hits)
	recordHostile(t, "secret: cache dirs, registry storage, HOME and TMPDIR", false, len(hits) > 0)
	t.Logf("searched %d builds' outputs, stdout and stderr, 2 cache dirs, the registry's storage, HOME and TMPDIR: %d files, %.1f MB with decompressed content (%v streams opened), %d forms of the secret and key: %d hits",
		len(builds), scanner.files, float64(scanner.scanned)/1e6, scanner.opened, len(ns), total)
	if scanner.opened["gzip"] == 0 || scanner.opened["zstd"] == 0 || scanner.opened["tar"] == 0 {
		t.Errorf("streams opened: %v, want gzip, zstd and tar ones", scanner.opened)
	}

	// A control: a step that does copy the secret into its layer is
	// found, in the OCI tar's layer and in the registry's blob.
	leaky := writeContext(t, "FROM "+base+"\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /leaked\n", map[string]string{})
	ctlOut, ctlStorage := t.TempDir(), t.TempDir()
	r = strataIn(t, "", "", env, "build", "--cache-dir", t.TempDir(), "--secret", "id=tok,src="+secretFile, "-t", reg+"/secret/leaky:1", "--push",
		"-o", "type=oci,dest="+filepath.Join(ctlOut, "oci.tar"), leaky)
	if r.code != 0 {
		t.Fatalf("control build: exit %d\n%s", r.code, r.stderr)
	}
	run(t, "cp", "-a", storage+"/.", ctlStorage)
	var inOCI, inRegistry bool
	for _, h := range scanner.scanDir(t, ctlOut) {
		inOCI = inOCI || strings.Contains(h, "gunzipped") && strings.Contains(h, "leaked (value)")
	}
	for _, h := range scanner.scanDir(t, ctlStorage) {
		inRegistry = inRegistry || strings.Contains(h, "/data (gunzipped)") && strings.Contains(h, "leaked (value)")
	}
	if !inOCI || !inRegistry {
		t.Errorf("the control's leak was not found: in the OCI tar %v, in the registry %v", inOCI, inRegistry)
	}
}

// TestNeedles: the base64 needles of a secret are found in any encoding
// of data that holds it, whatever its offset.
func TestNeedles(t *testing.T) {
	secret := "strata-secret-XYZ123456789"
	s := &leakScanner{needles: needles(secret), opened: map[string]int{}}
	for k := range 6 {
		data := strings.Repeat("a", k) + secret + "tail"
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			if hits := s.scan("x", []byte(enc.EncodeToString([]byte(data)))); len(hits) == 0 {
				t.Errorf("no needle found in the base64 of %q", data)
			}
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(makeTar(t, false, tarEntry{name: "f", body: "x" + secret}))
	zw.Close()
	if hits := s.scan("layer", buf.Bytes()); len(hits) == 0 {
		t.Errorf("no needle found in a gzipped tar holding the secret")
	}
	if hits := s.scan("clean", []byte(strings.Repeat("strata-secret-", 100))); len(hits) != 0 {
		t.Errorf("hits in data without the secret: %v", hits)
	}
}
