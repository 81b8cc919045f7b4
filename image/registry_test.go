package image

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stratabuild/strata/internal/testenv"
	"github.com/stratabuild/strata/internal/testregistry"
)

// TestRealRegistry pushes to and pulls from Debian's docker-registry (the
// reference distribution registry), and has skopeo confirm the result.
func TestRealRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry")
	}
	host := testregistry.Start(t)
	s := openStore(t)
	img := testImage(t,
		storeLayer(t, s, types.OCILayer, []entry{{name: "etc/", typ: '5'}, {name: "etc/motd", body: "hi\n"}}),
		storeLayer(t, s, types.OCILayerZStd, []entry{{name: "srv/", typ: '5'}, {name: "srv/data", body: "zstd layer\n"}}),
	)
	want, _ := img.Digest()
	ctx := context.Background()
	tags := []string{host + "/strata/test:1", host + "/strata/test:latest"}

	ev := &events{}
	if err := Push(ctx, img, tags, WithProgress(ev.add)); err != nil {
		t.Fatalf("Push() = %v", err)
	}
	if ev.count(EventPushProgress) == 0 {
		t.Errorf("no push progress events")
	}
	// Pushing again is a no-op for blobs.
	if err := Push(ctx, img, tags); err != nil {
		t.Fatalf("second Push() = %v", err)
	}

	for _, tag := range tags {
		b, err := Pull(ctx, tag, WithStore(openStore(t)))
		if err != nil {
			t.Fatalf("Pull(%s) = %v", tag, err)
		}
		if b.Digest != want {
			t.Errorf("Pull(%s).Digest = %s, want %s", tag, b.Digest, want)
		}
	}

	_, err := Pull(ctx, host+"/strata/test:nope", WithStore(s))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Pull(missing tag) = %v, want %v", err, ErrNotFound)
	}
	_, err = Pull(ctx, host+"/strata/nothing:1", WithStore(s))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Pull(missing repository) = %v, want %v", err, ErrNotFound)
	}

	testenv.RequireTool(t, "skopeo")
	out := run(t, "skopeo", "inspect", "--tls-verify=false", "docker://"+tags[0])
	var info struct{ Digest string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("skopeo inspect output %s: %v", out, err)
	}
	if info.Digest != want.String() {
		t.Errorf("skopeo sees %s at %s, want %s", info.Digest, tags[0], want)
	}
}
