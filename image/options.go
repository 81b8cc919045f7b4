package image

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// defaultJobs is how many blobs are transferred at once.
const defaultJobs = 4

// Option configures Pull and Push.
type Option func(*options)

type options struct {
	store     *Store
	insecure  map[string]bool // host or host:port
	platform  v1.Platform
	keychain  authn.Keychain
	transport http.RoundTripper
	progress  func(Event)
	jobs      int
	lazy      context.Context // WithLazyLayers: bounds later downloads
	mu        sync.Mutex      // serialises calls to progress
}

func makeOptions(opts []Option) *options {
	o := &options{
		insecure: map[string]bool{},
		platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH},
		keychain: authn.DefaultKeychain,
		jobs:     defaultJobs,
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithStore sets the Store that Pull fills. Pull requires it.
func WithStore(s *Store) Option {
	return func(o *options) { o.store = s }
}

// WithInsecure allows the given registries (a host name, or host:port) to be
// reached over plain HTTP or over TLS with a certificate that is not
// trusted, like --insecure-registry. Loopback registries (localhost,
// 127.0.0.0/8, ::1) may always use plain HTTP; any other registry must use
// verified TLS.
func WithInsecure(hosts ...string) Option {
	return func(o *options) {
		for _, h := range hosts {
			if h = strings.TrimSpace(h); h != "" {
				o.insecure[h] = true
			}
		}
	}
}

// WithPlatform selects the platform whose manifest Pull takes from an
// image index. The default is linux on the architecture strata runs on.
func WithPlatform(p v1.Platform) Option {
	return func(o *options) { o.platform = p }
}

// WithKeychain sets where registry credentials come from. The default is
// authn.DefaultKeychain: ~/.docker/config.json and its credential helpers.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) {
		if k != nil {
			o.keychain = k
		}
	}
}

// WithTransport sets the HTTP transport under the registry client, for
// example to add a CA or a proxy. The default is remote.DefaultTransport.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) { o.transport = t }
}

// WithProgress sets a sink for progress events. Calls to fn are made one at
// a time, from any goroutine; fn should return quickly. Without it, Pull
// and Push are silent.
func WithProgress(fn func(Event)) Option {
	return func(o *options) { o.progress = fn }
}

// WithLazyLayers makes Pull fetch only the manifest and the config: the
// layers missing from the store are fetched when they are first read (see
// RemoteLayer), so a build whose steps all come from the cache downloads
// none of its base image. ctx bounds those downloads, which may come after
// Pull has returned.
func WithLazyLayers(ctx context.Context) Option {
	return func(o *options) { o.lazy = ctx }
}

// WithJobs sets how many blobs are transferred at once (default 4).
func WithJobs(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.jobs = n
		}
	}
}

func (o *options) emit(e Event) {
	if o.progress == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.progress(e)
}

// isInsecure reports whether the registry host (host or host:port) was
// named with WithInsecure.
func (o *options) isInsecure(host string) bool {
	if o.insecure[host] {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return o.insecure[h] || o.insecure["["+h+"]"]
	}
	return false
}

// isLoopback reports whether host (with or without a port) names the local
// machine.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parse parses an image reference; references to loopback and insecure
// registries are marked insecure so that go-containerregistry may fall back
// to plain HTTP for them.
func (o *options) parse(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	host := r.Context().RegistryStr()
	if isLoopback(host) || o.isInsecure(host) {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

// parseTag is parse for a reference that must be a tag (a missing tag means
// latest).
func (o *options) parseTag(ref string) (name.Tag, error) {
	r, err := name.NewTag(ref)
	if err != nil {
		return name.Tag{}, err
	}
	host := r.Context().RegistryStr()
	if isLoopback(host) || o.isInsecure(host) {
		return name.NewTag(ref, name.Insecure)
	}
	return r, nil
}

// remote returns the go-containerregistry options for one operation.
func (o *options) remote(ctx context.Context, extra ...remote.Option) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithTransport(resuming(o.guardedTransport())),
		remote.WithRetryBackoff(retryBackoff), // see retry.go
		remote.WithRetryPredicate(retryable),
		remote.WithJobs(o.jobs),
		remote.WithPlatform(o.platform),
		remote.WithUserAgent("strata"),
	}
	return append(opts, extra...)
}

// registryAnswerTimeout bounds the wait for a registry's answer to one
// request (see guardedTransport); retries follow as for other failures.
const registryAnswerTimeout = 2 * time.Minute

// guardedTransport builds the transport that enforces the plain-HTTP rule
// and skips certificate checks for insecure registries only.
func (o *options) guardedTransport() http.RoundTripper {
	base := o.transport
	if base == nil {
		// A registry that accepts a request and never answers must not
		// hang a CI job: the answer's headers must come within
		// registryAnswerTimeout of the request being sent (body included).
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = registryAnswerTimeout
		base = t
	}
	insecure := base
	if t, ok := base.(*http.Transport); ok {
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only for registries the user named insecure
		insecure = t
	}
	return &guard{secure: base, insecure: insecure, o: o}
}

// guard routes requests to insecure registries through a transport that
// skips certificate verification, and refuses plain HTTP to any registry
// that is neither loopback nor insecure.
type guard struct {
	secure, insecure http.RoundTripper
	o                *options
}

// PlainHTTPError is returned for a plain-HTTP request to a registry that
// may only be reached over TLS.
type PlainHTTPError struct {
	Host string
}

func (e *PlainHTTPError) Error() string {
	return "plain HTTP to " + e.Host + " refused: only loopback registries and those named with --insecure-registry may use it"
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	insecure := g.o.isInsecure(host)
	if req.URL.Scheme == "http" && !insecure && !isLoopback(host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &PlainHTTPError{Host: host}
	}
	if insecure {
		return g.insecure.RoundTrip(req)
	}
	return g.secure.RoundTrip(req)
}
