package image

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// staticKeychain hands out one username and password for every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	if k.user == "" {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

func TestPullAuth(t *testing.T) {
	reg := registry.New(registry.Logger(nullLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(512, 1)
	ref := host + "/private/img:1"
	r, _ := name.ParseReference(ref)
	if err := remote.Write(r, img, remote.WithAuth(&authn.Basic{Username: "user", Password: "pass"})); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		keychain authn.Keychain
		want     error // nil: success
	}{
		{name: "right credentials", keychain: staticKeychain{"user", "pass"}},
		{name: "wrong credentials", keychain: staticKeychain{"user", "nope"}, want: ErrDenied},
		{name: "anonymous", keychain: staticKeychain{}, want: ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Pull(context.Background(), ref, WithStore(openStore(t)), WithKeychain(tt.keychain), WithJobs(1))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Pull() = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "registry "+host) {
				t.Errorf("Pull() = %v, want an error naming %s and wrapping %v", err, host, tt.want)
			}
			t.Logf("Pull() = %v", err)
			// Pushing with the same credentials fails the same way.
			err = Push(context.Background(), img, []string{host + "/private/img:2"}, WithKeychain(tt.keychain))
			if !errors.Is(err, tt.want) {
				t.Errorf("Push() = %v, want it to wrap %v", err, tt.want)
			}
		})
	}
}
