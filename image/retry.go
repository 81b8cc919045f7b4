package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Retries of registry requests.
//
// go-containerregistry already retries, at two levels. Its transport
// (transport.NewRetry, which remote wraps around the transport it is
// given) retries a request that fails with a network error or is answered
// 408, 429, 500, 502, 503 or 504. Its uploads retry a whole blob upload
// (HEAD, POST, PATCH, PUT) or manifest PUT that fails that way, with the
// transport's retries turned off inside so that attempts do not multiply.
// Both take their schedule from remote.WithRetryBackoff and their test
// from remote.WithRetryPredicate: strata sets them to retryBackoff and
// retryable. Under ggcr's transport, resumingTransport adds what ggcr
// lacks: it honours Retry-After, and resumes downloads whose body breaks
// off (ggcr retries a request, not the reading of its answer). RetryError
// and pushError make the final error say what failed, where, and that the
// attempts were used up.

// retryAttempts is how many times a registry request is tried.
const retryAttempts = 5

// retryBackoff waits 0.1, 0.2, 0.4, 0.8 s (plus up to 10%) between the
// attempts: a registry that keeps failing costs 1.5 s, not minutes. It has
// no Cap because ggcr's backoff stops retrying once the cap is reached;
// Steps bounds it.
var retryBackoff = remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: retryAttempts}

// maxRetryAfter caps how long one Retry-After makes strata wait.
const maxRetryAfter = 10 * time.Second

// retryable reports whether err is worth another attempt: an answer that
// ggcr deems temporary (408, 429, 5xx but 501 and 505, or registry error
// codes such as UNAVAILABLE and TOOMANYREQUESTS), or a connection that
// broke (reset, closed early, timed out). Refused connections, TLS
// failures, 401, 403 and 404 are not.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}

// resumingTransport sits under ggcr's retrying transport.
type resumingTransport struct {
	inner http.RoundTripper
}

// resuming wraps t in a resumingTransport.
func resuming(t http.RoundTripper) http.RoundTripper { return &resumingTransport{inner: t} }

// RoundTrip holds back a 429 or 503 answer that carries Retry-After until
// the time it asks for has passed (at most maxRetryAfter): ggcr retries
// such answers on its own schedule and ignores the header, so the retry it
// makes next comes no sooner than the registry asked. It gives the body of
// a successful GET the power to resume (see resumingBody).
func (t *resumingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		if d := retryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
			if err := sleep(req.Context(), min(d, maxRetryAfter)); err != nil {
				resp.Body.Close()
				return nil, err
			}
		}
	case resp.StatusCode == http.StatusOK && req.Method == http.MethodGet && req.Body == nil:
		resp.Body = &resumingBody{t: t, req: req, body: resp.Body, backoff: retryBackoff}
	}
	return resp, nil
}

// retryAfter parses a Retry-After value (seconds or an HTTP date) into a
// wait from now; 0 if there is none.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resumingBody is the body of a GET answer. When reading it breaks off with
// a retryable error, it asks again for the rest (Range: bytes=N-) and goes
// on, up to retryAttempts in all with retryBackoff between them. A
// registry that ignores Range sends the whole blob again, and the part
// already read is skipped. The content is still checked against its
// digest by whoever reads it.
type resumingBody struct {
	t       *resumingTransport
	req     *http.Request
	body    io.ReadCloser
	off     int64 // bytes handed to the reader
	tries   int   // attempts so far, after the first
	backoff remote.Backoff
	err     error // a broken read not yet handled
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			if err := b.resume(); err != nil {
				return 0, err
			}
		}
		n, err := b.body.Read(p)
		b.off += int64(n)
		if err == nil || err == io.EOF || !retryable(err) {
			return n, err
		}
		b.err = err
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the broken body with a new answer that starts at b.off,
// or returns the error that broke it when the attempts are used up.
func (b *resumingBody) resume() error {
	cause := b.err
	for {
		if b.tries >= retryAttempts-1 {
			return cause
		}
		b.tries++
		if err := sleep(b.req.Context(), b.backoff.Step()); err != nil {
			return err
		}
		b.body.Close()
		b.body = http.NoBody
		req := b.req.Clone(b.req.Context())
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", b.off))
		resp, err := b.t.inner.RoundTrip(req)
		if err != nil {
			if !retryable(err) {
				return err
			}
			cause = err
			continue
		}
		b.body = resp.Body
		switch resp.StatusCode {
		case http.StatusPartialContent:
			if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", b.off)) {
				return fmt.Errorf("resuming %s at byte %d: the registry sent range %q", redactedURL(req.URL), b.off, resp.Header.Get("Content-Range"))
			}
		case http.StatusOK:
			if _, err := io.CopyN(io.Discard, resp.Body, b.off); err != nil {
				if !retryable(err) {
					return err
				}
				cause = err
				continue
			}
		default:
			err := transport.CheckError(resp, http.StatusOK, http.StatusPartialContent)
			if !retryable(err) {
				return err
			}
			cause = err
			continue
		}
		b.err = nil
		return nil
	}
}

func (b *resumingBody) Close() error { return b.body.Close() }

// redactedURL is u without its query, which may hold credentials.
func redactedURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}

// RetryError is a registry error that persisted through every attempt.
// It unwraps to the last attempt's error.
type RetryError struct {
	Attempts int
	Err      error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%s after %d attempts", describe(e.Err), e.Attempts)
}

func (e *RetryError) Unwrap() error { return e.Err }

// exhausted marks err as a RetryError if it is one strata retries: by the
// time it reaches a caller, every attempt has failed.
func exhausted(err error) error {
	var rerr *RetryError
	if !retryable(err) || errors.As(err, &rerr) {
		return err
	}
	return &RetryError{Attempts: retryAttempts, Err: err}
}

// retriedError is registryError for errors that may have used up their
// retries: those name the registry and the attempts.
func retriedError(registry string, err error) error {
	if err = exhausted(err); errors.As(err, new(*RetryError)) {
		return fmt.Errorf("registry %s: %w", registry, err)
	}
	return registryError(registry, err)
}

// describe says in a few words what went wrong with a registry request.
func describe(err error) string {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode != 0 {
		s := fmt.Sprintf("%d %s", terr.StatusCode, http.StatusText(terr.StatusCode))
		var diags []string
		for _, d := range terr.Errors {
			diags = append(diags, d.String())
		}
		if len(diags) > 0 {
			s += " (" + strings.Join(diags, "; ") + ")"
		}
		return s
	}
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the registry"
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by the registry while strata was sending"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the registry before its answer was complete"
	}
	return err.Error()
}

// blobError is the failure to push one blob or manifest.
type blobError struct {
	kind   string // "layer", "config" or "manifest"
	digest v1.Hash
	err    error
}

func (e *blobError) Error() string { return fmt.Sprintf("%s %s: %v", e.kind, e.digest, e.err) }
func (e *blobError) Unwrap() error { return e.err }

// pushError is the error of pushing tags (joined) to registry: it names
// the blob or manifest whose request failed, if one did, and the attempts
// if they were used up, as in "pushing layer sha256:… to host/app:1: 503
// Service Unavailable after 5 attempts".
func pushError(tags, registry string, err error) error {
	what := ""
	var be *blobError
	if errors.As(err, &be) {
		err = be.err
		p := failedPath(err)
		switch {
		case strings.Contains(p, "/blobs/"):
			what = fmt.Sprintf("%s %s to ", be.kind, be.digest)
		case strings.Contains(p, "/manifests/"):
			// An index's push writes its images' manifests too.
			d := p[strings.LastIndex(p, "/")+1:]
			if _, err := v1.NewHash(d); err != nil {
				d = be.digest.String()
			}
			what = fmt.Sprintf("manifest %s to ", d)
		}
	}
	if rerr := exhausted(err); what != "" && errors.As(rerr, new(*RetryError)) {
		return fmt.Errorf("pushing %s%s: %w", what, tags, rerr)
	}
	return fmt.Errorf("pushing %s%s: %w", what, tags, retriedError(registry, err))
}

// failedPath is the URL path of the request whose failure err reports, or
// "" if err does not say.
func failedPath(err error) string {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.Request != nil {
		return terr.Request.URL.Path
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if u, err := url.Parse(uerr.URL); err == nil {
			return u.Path
		}
	}
	return ""
}
