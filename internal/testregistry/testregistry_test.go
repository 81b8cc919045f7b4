package testregistry

import (
	"net/http"
	"testing"
)

func TestStart(t *testing.T) {
	host := Start(t)
	resp, err := http.Get("http://" + host + "/v2/")
	if err != nil {
		t.Fatalf("GET /v2/ = %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ = %s, want 200", resp.Status)
	}
}
