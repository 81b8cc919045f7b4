// Package faultproxy is an HTTP reverse proxy on 127.0.0.1, for tests, that
// stands in front of a real registry and breaks the requests a test
// programs it to: error statuses, 429 with Retry-After, connections reset
// while the request or the response is on the wire, slow or trickled
// responses, and bearer-token challenges that cannot be met. It logs every
// request, so a test can count what was retried and what was uploaded.
//
// It imports nothing from strata: it knows HTTP, not images.
package faultproxy

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to a request instead of, or while, passing
// it on. Set one of Status, ResetRequest, ResetResponse, Delay/Trickle or
// Auth.
type Fault struct {
	// Status answers with this status and a registry-style error body;
	// the upstream never sees the request.
	Status int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string

	// ResetRequest reads ResetAfter bytes of the request body (all of it
	// if the body is shorter), then resets the connection: the client is
	// still sending, or waiting for an answer. The upstream never sees it.
	ResetRequest bool
	// ResetResponse passes the request on, sends the response's headers
	// and ResetAfter bytes of its body, then resets the connection.
	ResetResponse bool
	// ResetAfter is the number of body bytes that get through before a
	// reset.
	ResetAfter int64

	// Delay waits this long before passing the request on.
	Delay time.Duration
	// Trickle passes the request on and sends the response body
	// TrickleBytes (default 1024) at a time, pausing Trickle after each.
	Trickle      time.Duration
	TrickleBytes int

	// Auth answers 401 with a Bearer challenge whose realm is the proxy's
	// own token endpoint, which answers every token request with this
	// status (401 or 403).
	Auth int
}

func (f Fault) String() string {
	switch {
	case f.Status != 0:
		return "status " + strconv.Itoa(f.Status)
	case f.ResetRequest:
		return "reset request"
	case f.ResetResponse:
		return "reset response"
	case f.Auth != 0:
		return "auth challenge"
	case f.Trickle != 0:
		return "trickle"
	case f.Delay != 0:
		return "delay"
	}
	return "none"
}

// Rule programs a Fault for the requests it matches.
type Rule struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path is a regular expression matched against the request's path
	// and, after a "?", its decoded query, for example
	// `^/v2/.*/blobs/uploads/.*\?digest=sha256:`. Empty matches any.
	Path string
	// Match, if set, must also return true.
	Match func(*http.Request) bool
	// Skip lets this many matching requests through before the fault
	// applies.
	Skip int
	// Times is how many matching requests get the fault, after which the
	// rule lets them through; 0 means all of them.
	Times int
	Fault Fault
}

type rule struct {
	Rule
	re   *regexp.Regexp
	seen int // matching requests so far
}

// Request is one request the proxy received.
type Request struct {
	Method string
	// Target is the path and the decoded query, as Rule.Path sees it.
	Target string
	// Range is the request's Range header.
	Range string
	// Time is when the request arrived.
	Time time.Time
	// Fault is what the proxy did to the request ("" if it passed it on
	// unharmed).
	Fault string
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	upstream *url.URL
	rp       *httputil.ReverseProxy
	srv      *httptest.Server

	mu    sync.Mutex
	rules []*rule
	log   []Request
}

// Start runs a proxy on 127.0.0.1 in front of the registry at upstream
// (host:port, plain HTTP) and stops it when the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{upstream: &url.URL{Scheme: "http", Host: upstream}}
	p.rp = httputil.NewSingleHostReverseProxy(p.upstream)
	p.rp.ErrorLog = log.New(io.Discard, "", 0) // clients that give up are expected
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// Host returns the proxy's host:port, to use in image references.
func (p *Proxy) Host() string { return p.srv.Listener.Addr().String() }

// Add programs a rule. Rules are tried in the order they were added; the
// first that applies to a request decides its fault.
func (p *Proxy) Add(r Rule) {
	re := regexp.MustCompile(r.Path)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{Rule: r, re: re})
}

// Clear removes every rule: requests pass unharmed.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// ResetLog forgets the requests received so far.
func (p *Proxy) ResetLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = nil
}

// Requests lists the requests received whose method is method (any if
// empty) and whose target matches the regular expression pattern.
func (p *Proxy) Requests(method, pattern string) []Request {
	re := regexp.MustCompile(pattern)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Request
	for _, r := range p.log {
		if (method == "" || r.Method == method) && re.MatchString(r.Target) {
			out = append(out, r)
		}
	}
	return out
}

// Count is len(Requests(method, pattern)).
func (p *Proxy) Count(method, pattern string) int { return len(p.Requests(method, pattern)) }

// Faulted counts the requests matching method and pattern that the proxy
// did not pass on unharmed.
func (p *Proxy) Faulted(method, pattern string) int {
	n := 0
	for _, r := range p.Requests(method, pattern) {
		if r.Fault != "" {
			n++
		}
	}
	return n
}

// target is what rules match: the path and the decoded query.
func target(r *http.Request) string {
	s := r.URL.Path
	if r.URL.RawQuery != "" {
		q, err := url.QueryUnescape(r.URL.RawQuery)
		if err != nil {
			q = r.URL.RawQuery
		}
		s += "?" + q
	}
	return s
}

// fault picks the fault for r and logs r.
func (p *Proxy) fault(r *http.Request) (Fault, bool) {
	tgt := target(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	entry := Request{Method: r.Method, Target: tgt, Range: r.Header.Get("Range"), Time: time.Now()}
	var f Fault
	var ok bool
	for _, ru := range p.rules {
		if ru.Method != "" && ru.Method != r.Method || !ru.re.MatchString(tgt) {
			continue
		}
		if ru.Match != nil && !ru.Match(r) {
			continue
		}
		ru.seen++
		if ru.seen <= ru.Skip || ru.Times > 0 && ru.seen > ru.Skip+ru.Times {
			continue
		}
		f, ok = ru.Fault, true
		entry.Fault = f.String()
		break
	}
	p.log = append(p.log, entry)
	return f, ok
}

const tokenPath = "/faultproxy/token"

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tokenPath {
		p.fault(r) // logged, never faulted
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		if status == 0 {
			status = http.StatusForbidden
		}
		writeError(w, status, "DENIED", "faultproxy refuses every token")
		return
	}
	f, ok := p.fault(r)
	if !ok {
		p.rp.ServeHTTP(w, r)
		return
	}
	switch {
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := "UNAVAILABLE"
		if f.Status == http.StatusTooManyRequests {
			code = "TOOMANYREQUESTS"
		}
		writeError(w, f.Status, code, "faultproxy injected "+strconv.Itoa(f.Status))
	case f.Auth != 0:
		realm := fmt.Sprintf("http://%s%s?status=%d", p.Host(), tokenPath, f.Auth)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="faultproxy"`, realm))
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	case f.ResetRequest:
		if r.Body != nil {
			_, _ = io.CopyN(io.Discard, r.Body, f.ResetAfter)
		}
		reset(w)
	case f.ResetResponse:
		p.forward(w, r, func(dst io.Writer, src io.Reader) {
			_, _ = io.CopyN(dst, src, f.ResetAfter)
			w.(http.Flusher).Flush()
			reset(w)
		})
	default: // Delay and Trickle
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.Trickle == 0 {
			p.rp.ServeHTTP(w, r)
			return
		}
		size := f.TrickleBytes
		if size <= 0 {
			size = 1024
		}
		p.forward(w, r, func(dst io.Writer, src io.Reader) {
			buf := make([]byte, size)
			for {
				n, err := io.ReadFull(src, buf)
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
					w.(http.Flusher).Flush()
					time.Sleep(f.Trickle)
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// forward sends r upstream and the response back, its body through copy
// (which may reset the connection).
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, copy func(io.Writer, io.Reader)) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = p.upstream.Scheme
	out.URL.Host = p.upstream.Host
	// out.Host stays the proxy's, so that the Location headers of the
	// registry's answers lead back through the proxy.
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		writeError(w, http.StatusBadGateway, "UNAVAILABLE", err.Error())
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	copy(w, resp.Body)
}

// reset closes w's connection with a TCP reset. What the handler wrote to
// w and did not flush is lost.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(fmt.Sprintf("faultproxy: hijack: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	conn.Close()
}

// writeError answers like a registry does.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`+"\n", code, msg)
}

// NthDigest returns a Rule.Match that picks one blob: the n-th distinct
// value (counting from 0) of the "digest" query parameter among the
// requests it is asked about (for example the PUTs that commit blob
// uploads), and matches every later request for that digest, so that all
// retries of that one blob fail while the others pass.
func NthDigest(n int) func(*http.Request) bool {
	var mu sync.Mutex
	var seen []string
	return func(r *http.Request) bool {
		d := r.URL.Query().Get("digest")
		if d == "" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for i, s := range seen {
			if s == d {
				return i == n
			}
		}
		seen = append(seen, d)
		return len(seen)-1 == n
	}
}
