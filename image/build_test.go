package image

import (
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestNew(t *testing.T) {
	s := openStore(t)
	docker := storeLayer(t, s, types.DockerLayer, []entry{{name: "a", body: "a"}})
	zst := storeLayer(t, s, types.OCILayerZStd, []entry{{name: "b", body: "b"}})
	img := testImage(t, docker, zst)

	// validate reads every layer as gzip, so it checks layer contents on
	// a gzip-only image and the rest with Fast.
	if err := validate.Image(img, validate.Fast); err != nil {
		t.Fatalf("validate.Image() = %v", err)
	}
	if err := validate.Image(testImage(t, docker)); err != nil {
		t.Fatalf("validate.Image() = %v", err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types = %s, %s; want OCI manifest and config", m.MediaType, m.Config.MediaType)
	}
	wantLayers := []types.MediaType{types.OCILayer, types.OCILayerZStd}
	for i, l := range m.Layers {
		if l.MediaType != wantLayers[i] {
			t.Errorf("layer %d media type = %s, want %s", i, l.MediaType, wantLayers[i])
		}
	}
	// The digest is the hash of the manifest bytes, which name the config
	// bytes.
	raw, _ := img.RawManifest()
	d, _ := img.Digest()
	if sha(t, raw) != d {
		t.Errorf("Digest() = %s, but the manifest hashes to %s", d, sha(t, raw))
	}
	rawCfg, _ := img.RawConfigFile()
	if sha(t, rawCfg) != m.Config.Digest {
		t.Errorf("config digest in manifest = %s, config hashes to %s", m.Config.Digest, sha(t, rawCfg))
	}
	// Docker-only config fields survive.
	var generic map[string]any
	if err := json.Unmarshal(rawCfg, &generic); err != nil {
		t.Fatal(err)
	}
	conf, _ := generic["config"].(map[string]any)
	for _, field := range []string{"Healthcheck", "OnBuild", "Shell", "StopSignal", "Labels"} {
		if _, ok := conf[field]; !ok {
			t.Errorf("config JSON lacks %s: %s", field, rawCfg)
		}
	}
	// A second build of the same input has the same digest.
	if d2, _ := testImage(t, docker, zst).Digest(); d2 != d {
		t.Errorf("rebuilt digest = %s, want %s", d2, d)
	}
}

func TestNewChecksConfig(t *testing.T) {
	s := openStore(t)
	l1 := storeLayer(t, s, types.OCILayer, []entry{{name: "a", body: "a"}})
	l2 := storeLayer(t, s, types.OCILayer, []entry{{name: "b", body: "b"}})
	d1, _ := l1.DiffID()
	d2, _ := l2.DiffID()
	hist := func(n int, empties int) []v1.History {
		var h []v1.History
		for i := 0; i < n; i++ {
			h = append(h, v1.History{CreatedBy: "x"})
		}
		for i := 0; i < empties; i++ {
			h = append(h, v1.History{CreatedBy: "ENV", EmptyLayer: true})
		}
		return h
	}
	tests := []struct {
		name    string
		cfg     *v1.ConfigFile
		layers  []v1.Layer
		wantErr string // "" for success
	}{
		{name: "ok", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d1, d2}}, History: hist(2, 3)}, layers: []v1.Layer{l1, l2}},
		{name: "no layers", cfg: &v1.ConfigFile{History: hist(0, 1)}},
		{name: "nil config", wantErr: "no config"},
		{name: "too few diff_ids", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d1}}, History: hist(2, 0)},
			layers: []v1.Layer{l1, l2}, wantErr: "1 diff_ids for 2 layers"},
		{name: "diff_ids out of order", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d2, d1}}, History: hist(2, 0)},
			layers: []v1.Layer{l1, l2}, wantErr: "layer 0 has diff_id"},
		{name: "history short", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d1, d2}}, History: hist(1, 4)},
			layers: []v1.Layer{l1, l2}, wantErr: "history has 1 entries"},
		{name: "no history", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d1}}},
			layers: []v1.Layer{l1}, wantErr: "history has 0 entries"},
		{name: "unsupported media type", cfg: &v1.ConfigFile{RootFS: v1.RootFS{DiffIDs: []v1.Hash{d1}}, History: hist(1, 0)},
			layers: []v1.Layer{s.Layer(l1.digest, d1, 0, "application/x-tar+bzip2")}, wantErr: "unsupported layer media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := json.Marshal(tt.cfg)
			img, err := New(tt.cfg, tt.layers)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("validate.Image() = %v", err)
			}
			if after, _ := json.Marshal(tt.cfg); string(after) != string(before) {
				t.Errorf("New() modified its config argument")
			}
			cfg, _ := img.ConfigFile()
			if cfg.RootFS.Type != "layers" {
				t.Errorf("rootfs.type = %q, want layers", cfg.RootFS.Type)
			}
		})
	}
}

func TestHumanEvent(t *testing.T) {
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0123456789abcdef", 4)}
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventLayerProgress, Digest: h, Current: 3_100_000, Total: 10_000_000}, "pulling layer sha256:0123456789ab 3.1 MB/10.0 MB"},
		{Event{Kind: EventLayerDone, Digest: h, Total: 999}, "pulled layer sha256:0123456789ab 999 B"},
		{Event{Kind: EventPushed, Ref: "r/x:1", Digest: h}, "pushed r/x:1@" + h.String()},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("Event.String() = %q, want %q", got, tt.want)
		}
	}
}
