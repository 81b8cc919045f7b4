package image

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// uploads counts the requests that upload blobs.
func uploads(rec *recorder) int {
	return rec.count("/blobs/", http.MethodPost, http.MethodPut, http.MethodPatch)
}

func TestPushAndPullBack(t *testing.T) {
	host, rec, _ := memRegistry(t)
	s := openStore(t)
	img := testImage(t,
		storeLayer(t, s, types.OCILayer, []entry{{name: "etc/", typ: '5'}, {name: "etc/motd", body: "hi\n"}}),
		storeLayer(t, s, types.OCILayerZStd, []entry{{name: "bin/", typ: '5'}, {name: "bin/tool", body: "#!/bin/sh\n", mode: 0o755}}),
	)
	want, _ := img.Digest()
	tags := []string{host + "/app/one:1", host + "/app/one:latest", host + "/app/two:v2"}
	ev := &events{}

	if err := Push(context.Background(), img, tags, WithProgress(ev.add)); err != nil {
		t.Fatalf("Push() = %v", err)
	}
	// config + 2 layers, each uploaded to each of the two repositories at
	// most once (a cross-repository mount would count as one POST).
	if n := rec.count("/blobs/uploads/", http.MethodPost); n == 0 || n > 6 {
		t.Errorf("first push started %d uploads, want 1..6", n)
	}
	if ev.count(EventPushed) != len(tags) {
		t.Errorf("%d pushed events, want %d", ev.count(EventPushed), len(tags))
	}
	for _, tag := range tags {
		b, err := Pull(context.Background(), tag, WithStore(openStore(t)))
		if err != nil {
			t.Fatalf("Pull(%s) = %v", tag, err)
		}
		if b.Digest != want {
			t.Errorf("Pull(%s).Digest = %s, want %s", tag, b.Digest, want)
		}
		if b.Config.Config.Healthcheck == nil || b.Config.Config.StopSignal != "SIGTERM" {
			t.Errorf("Pull(%s) lost Docker config fields: %+v", tag, b.Config.Config)
		}
	}

	// Pushing again uploads nothing.
	rec.reset()
	if err := Push(context.Background(), img, tags); err != nil {
		t.Fatalf("second Push() = %v", err)
	}
	if n := uploads(rec); n != 0 {
		t.Errorf("second push made %d blob upload requests, want 0", n)
	}

	// A new tag for the same image uploads no blob either.
	rec.reset()
	if err := Push(context.Background(), img, []string{host + "/app/one:again"}); err != nil {
		t.Fatal(err)
	}
	if n := uploads(rec); n != 0 {
		t.Errorf("pushing a new tag made %d blob upload requests, want 0", n)
	}
}

func TestPushErrors(t *testing.T) {
	s := openStore(t)
	img := testImage(t, storeLayer(t, s, types.OCILayer, []entry{{name: "a", body: "a"}}))
	_, _, dead := memRegistry(t)
	dead.Close()
	deadHost := strings.TrimPrefix(dead.URL, "http://")
	tests := []struct {
		name     string
		tags     []string
		want     error
		contains string
	}{
		{name: "no tags", contains: "no tag"},
		{name: "bad tag", tags: []string{"a b"}, contains: "pushing a b: "},
		{name: "unreachable", tags: []string{deadHost + "/x:1"}, want: ErrUnreachable,
			contains: "pushing " + deadHost + "/x:1: registry " + deadHost + " unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Push(context.Background(), img, tt.tags)
			if err == nil {
				t.Fatal("Push() = nil error")
			}
			t.Logf("Push(%v) = %v", tt.tags, err)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Push() = %v, want it to wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Push() = %q, want it to contain %q", err, tt.contains)
			}
		})
	}
}
