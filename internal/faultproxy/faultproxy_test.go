package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// upstream answers every request with a 100 KB body.
func upstream(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, strings.Repeat("x", 100000))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// get sends method to the proxy's path with body, on a fresh connection,
// and returns the status, the body read and the error.
func get(t *testing.T, p *Proxy, method, path, body string) (int, string, http.Header, error) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.Host()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func TestFaults(t *testing.T) {
	p := Start(t, upstream(t))
	p.Add(Rule{Method: "GET", Path: `^/a$`, Skip: 1, Times: 2, Fault: Fault{Status: 503}})
	p.Add(Rule{Path: `^/busy`, Fault: Fault{Status: 429, RetryAfter: "3"}})
	p.Add(Rule{Method: "PATCH", Path: `^/up`, Fault: Fault{ResetRequest: true, ResetAfter: 10}})
	p.Add(Rule{Path: `^/down`, Fault: Fault{ResetResponse: true, ResetAfter: 5000}})
	p.Add(Rule{Path: `^/slow`, Fault: Fault{Trickle: 10 * time.Millisecond, TrickleBytes: 25000}})
	p.Add(Rule{Path: `^/v2/`, Fault: Fault{Auth: 401}})
	p.Add(Rule{Method: "PUT", Path: `\?.*digest=`, Match: NthDigest(1), Fault: Fault{Status: 500}})

	// Skip and Times: pass, fault, fault, pass.
	var codes []int
	for i := 0; i < 4; i++ {
		code, _, _, err := get(t, p, "GET", "/a", "")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if want := []int{200, 503, 503, 200}; !equal(codes, want) {
		t.Errorf("GET /a four times = %v, want %v", codes, want)
	}
	if n, f := p.Count("GET", `^/a$`), p.Faulted("GET", `^/a$`); n != 4 || f != 2 {
		t.Errorf("Count, Faulted = %d, %d; want 4, 2", n, f)
	}

	if code, _, h, _ := get(t, p, "GET", "/busy", ""); code != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("GET /busy = %d, Retry-After %q; want 429, 3", code, h.Get("Retry-After"))
	}
	if _, _, _, err := get(t, p, "PATCH", "/up", strings.Repeat("y", 1<<20)); err == nil {
		t.Errorf("PATCH /up succeeded, want a reset")
	}
	if _, body, _, err := get(t, p, "GET", "/down", ""); err == nil || len(body) > 5000 {
		t.Errorf("GET /down = %d bytes, %v; want at most 5000 and an error", len(body), err)
	}
	start := time.Now()
	if code, body, _, err := get(t, p, "GET", "/slow", ""); err != nil || code != 200 || len(body) != 100000 {
		t.Errorf("GET /slow = %d, %d bytes, %v; want all of it", code, len(body), err)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("GET /slow took %s, want 3 pauses before the last piece", took)
	}

	code, _, h, _ := get(t, p, "GET", "/v2/", "")
	challenge := h.Get("WWW-Authenticate")
	if code != 401 || !strings.Contains(challenge, `realm="http://`+p.Host()+tokenPath+`?status=401"`) {
		t.Fatalf("GET /v2/ = %d, WWW-Authenticate %q", code, challenge)
	}
	if code, _, _, _ := get(t, p, "GET", tokenPath+"?status=401&scope=x", ""); code != 401 {
		t.Errorf("token endpoint = %d, want 401", code)
	}

	// NthDigest(1) fails the second digest seen, every time.
	codes = nil
	for _, d := range []string{"sha256:a", "sha256:b", "sha256:c", "sha256:b", "sha256:a"} {
		code, _, _, _ := get(t, p, "PUT", "/commit?digest="+d, "")
		codes = append(codes, code)
	}
	if want := []int{200, 500, 200, 500, 200}; !equal(codes, want) {
		t.Errorf("commits of a, b, c, b, a = %v, want %v", codes, want)
	}

	p.Clear()
	p.ResetLog()
	if code, _, _, _ := get(t, p, "GET", "/busy", ""); code != 200 || p.Count("", "") != 1 {
		t.Errorf("after Clear: GET /busy = %d with %d requests logged, want 200 and 1", code, p.Count("", ""))
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
