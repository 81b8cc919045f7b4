package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestCompareTrees(t *testing.T) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kept := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	built, builtLater := since.Add(time.Hour), since.Add(2*time.Hour)
	file := func(p string, mod func(*Entry)) *Entry {
		e := &Entry{Path: p, Type: "file", Mode: 0o644, Size: 1, Digest: "sha256:a", Text: "a", ModTime: kept}
		if mod != nil {
			mod(e)
		}
		return e
	}
	dir := func(p string, mtime time.Time) *Entry {
		return &Entry{Path: p, Type: "dir", Mode: 0o755, ModTime: mtime}
	}
	tests := []struct {
		name string
		s, b *Entry
		want []string
	}{
		{"same", file("/f", nil), file("/f", nil), nil},
		{"mode", file("/f", func(e *Entry) { e.Mode = 0o600 }), file("/f", nil), []string{"file /f mode"}},
		{"owner", file("/f", func(e *Entry) { e.UID, e.GID = 1, 2 }), file("/f", nil), []string{"file /f uid", "file /f gid"}},
		{"content", file("/f", func(e *Entry) { e.Digest, e.Text = "sha256:b", "b" }), file("/f", nil), []string{"file /f content"}},
		{"type", file("/f", func(e *Entry) { e.Type = "dir" }), file("/f", nil), []string{"file /f type"}},
		{"xattrs", file("/f", func(e *Entry) { e.Xattrs = map[string]string{"user.a": "1"} }), file("/f", nil), []string{"file /f xattrs"}},
		{"hard links", file("/f", func(e *Entry) { e.Links = []string{"/g"} }), file("/f", nil), []string{"file /f hardlinks"}},
		{"kept mtime differs", file("/f", func(e *Entry) { e.ModTime = kept.Add(time.Second) }), file("/f", nil), []string{"file /f mtime"}},
		{"one kept, one build time", file("/f", func(e *Entry) { e.ModTime = built }), file("/f", nil), []string{"file /f mtime"}},
		{"two build times", file("/f", func(e *Entry) { e.ModTime = built }), file("/f", func(e *Entry) { e.ModTime = builtLater }), nil},
		{"dir: buildkit kept, strata not", dir("/d", built), dir("/d", kept), []string{"file /d mtime"}},
		{"dir: strata kept, buildkit not", dir("/d", kept), dir("/d", built), nil},
		{"symlink target", &Entry{Path: "/l", Type: "symlink", Link: "a"}, &Entry{Path: "/l", Type: "symlink", Link: "b"}, []string{"file /l target"}},
		{"missing in strata", nil, file("/f", nil), []string{"file /f"}},
		{"missing in buildkit", file("/f", nil), nil, []string{"file /f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, b := Tree{}, Tree{}
			if tt.s != nil {
				s[tt.s.Path] = tt.s
			}
			if tt.b != nil {
				b[tt.b.Path] = tt.b
			}
			var got []string
			for _, d := range compareTrees(s, b, since) {
				got = append(got, d.Key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("compareTrees = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "none"},
		{"null", "none"},
		{"{}", "none"},
		{"[]", "none"},
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{`["x", "y"]`, `["x","y"]`},
		{`"SIGTERM"`, `"SIGTERM"`},
	}
	for _, tt := range tests {
		if got := canonicalJSON(json.RawMessage(tt.in)); got != tt.want {
			t.Errorf("canonicalJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCompareImagesConfigAndHistory(t *testing.T) {
	s := &Image{
		Config:  map[string]json.RawMessage{"Env": json.RawMessage(`["A=1"]`), "Volumes": json.RawMessage(`{}`)},
		History: []History{{}, {EmptyLayer: true}},
		Layers:  1,
	}
	b := &Image{
		Config:  map[string]json.RawMessage{"Env": json.RawMessage(`["A=2"]`)},
		History: []History{{}, {}},
		Layers:  2,
	}
	var got []string
	for _, d := range compareImages(s, b, time.Now()) {
		got = append(got, d.Key)
	}
	if want := []string{"config Env", "history"}; !slices.Equal(got, want) {
		t.Errorf("compareImages = %v, want %v", got, want)
	}
}

func TestCompareBuildsExpectError(t *testing.T) {
	c := &Case{ExpectError: true, Errors: map[string][]string{"strata": {"RUNN"}}}
	got := compareBuilds(c, Build{Output: "error: unknown instruction RUNN"}, Build{}, time.Now())
	if len(got) != 0 {
		t.Errorf("both failed as expected: differences %v, want none", got)
	}
	got = compareBuilds(c, Build{Output: "something else"}, Build{OK: true}, time.Now())
	var keys []string
	for _, d := range got {
		keys = append(keys, d.Key)
	}
	if want := []string{"build buildkit", "error strata"}; !slices.Equal(keys, want) {
		t.Errorf("differences = %v, want %v", keys, want)
	}
}
