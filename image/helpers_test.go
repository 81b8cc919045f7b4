package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// recorder counts the requests an in-memory registry receives.
type recorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD /path"
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

// count returns how many requests used one of methods on a path
// containing part, and resets nothing.
func (r *recorder) count(part string, methods ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.reqs {
		method, p, _ := strings.Cut(s, " ")
		if !strings.Contains(p, part) {
			continue
		}
		for _, m := range methods {
			if m == method {
				n++
				break
			}
		}
	}
	return n
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// memRegistry starts go-containerregistry's in-memory registry on
// 127.0.0.1 and returns its host:port and request recorder.
func memRegistry(t *testing.T) (string, *recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(registry.New(registry.Logger(nullLogger()))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec, srv
}

func nullLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	return s
}

// entry is one tar entry for test layers.
type entry struct {
	name string
	typ  byte
	body string
	link string
	mode int64
	uid  int
	// devmajor and devminor are for device nodes.
	devmajor, devminor int64
}

// tarBytes renders entries as an uncompressed tar.
func tarBytes(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Typeflag: typ, Name: e.name, Linkname: e.link, Mode: mode, Uid: e.uid, Gid: e.uid,
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX,
			Devmajor: e.devmajor, Devminor: e.devminor}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("WriteHeader(%s) = %v", e.name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compress compresses b as mt calls for.
func compress(t *testing.T, b []byte, mt types.MediaType) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch mt {
	case types.OCILayer, types.DockerLayer:
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case types.OCILayerZStd:
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(b)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		buf.Write(b)
	}
	return buf.Bytes()
}

func sha(t *testing.T, b []byte) v1.Hash {
	t.Helper()
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// storeLayer puts a layer made of entries into s.
func storeLayer(t *testing.T, s *Store, mt types.MediaType, entries []entry) Layer {
	t.Helper()
	raw := tarBytes(t, entries)
	blob := compress(t, raw, mt)
	d := sha(t, blob)
	if err := s.Write(bytes.NewReader(blob), d); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	return s.Layer(d, sha(t, raw), int64(len(blob)), mt)
}

// testImage builds an image of the given layers with a config that uses
// Docker-only fields.
func testImage(t *testing.T, layers ...Layer) v1.Image {
	t.Helper()
	cfg := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: time.Unix(1700000000, 0).UTC()},
		Config: v1.Config{
			Env:         []string{"PATH=/usr/bin:/bin"},
			Cmd:         []string{"/bin/sh"},
			Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "true"}, Interval: 5 * time.Second},
			OnBuild:     []string{"RUN echo hi"},
			Shell:       []string{"/bin/sh", "-c"},
			StopSignal:  "SIGTERM",
			Labels:      map[string]string{"org.example": "yes"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	var ls []v1.Layer
	for i, l := range layers {
		diffID, _ := l.DiffID()
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		cfg.History = append(cfg.History, v1.History{CreatedBy: "layer " + string(rune('A'+i))})
		ls = append(ls, l)
	}
	cfg.History = append(cfg.History, v1.History{CreatedBy: "CMD", EmptyLayer: true})
	img, err := New(cfg, ls)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return img
}

// run runs a program and returns its standard output, failing the test
// with its standard error if it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}
