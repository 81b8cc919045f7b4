package main

import (
	"archive/tar"
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// layer writes a tar from entries: "name" is a file (content after "="), "name/" a
// directory, "name->target" a symlink, "name=>target" a hard link.
func layer(t *testing.T, entries ...string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Mode: 0o644, ModTime: time.Unix(1000, 0)}
		var body string
		switch {
		case strings.HasSuffix(e, "/"):
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, e, 0o755
		case strings.Contains(e, "=>"):
			name, target, _ := strings.Cut(e, "=>")
			hdr.Typeflag, hdr.Name, hdr.Linkname = tar.TypeLink, name, target
		case strings.Contains(e, "->"):
			name, target, _ := strings.Cut(e, "->")
			hdr.Typeflag, hdr.Name, hdr.Linkname = tar.TypeSymlink, name, target
		default:
			name, content, _ := strings.Cut(e, "=")
			hdr.Typeflag, hdr.Name, hdr.Size = tar.TypeReg, name, int64(len(content))
			body = content
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestTreeBuilder(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]string
		want   []string // paths in the final tree, "/" left out
		links  map[string][]string
	}{{
		name:   "files and dirs",
		layers: [][]string{{"a/", "a/f=1", "./b=2"}},
		want:   []string{"/a", "/a/f", "/b"},
	}, {
		name:   "whiteout removes a file and a tree of a lower layer",
		layers: [][]string{{"a/", "a/f=1", "d/", "d/x/", "d/x/y=1", "k=1"}, {"a/.wh.f", ".wh.d"}},
		want:   []string{"/a", "/k"},
	}, {
		name:   "opaque dir hides the lower layers, not its own layer, whatever the order",
		layers: [][]string{{"d/", "d/old=1", "d/sub/", "d/sub/x=1"}, {"d/", "d/new=2", "d/.wh..wh..opq"}},
		want:   []string{"/d", "/d/new"},
	}, {
		name:   "a file replaces a directory and its contents",
		layers: [][]string{{"d/", "d/x=1"}, {"d=file"}},
		want:   []string{"/d"},
	}, {
		name:   "a directory over a directory merges",
		layers: [][]string{{"d/", "d/x=1"}, {"d/", "d/y=1"}},
		want:   []string{"/d", "/d/x", "/d/y"},
	}, {
		name:   "hard links form a group; rewriting one name leaves the group",
		layers: [][]string{{"a=same", "b=>a", "c=>a", "l->a"}, {"c=other"}},
		want:   []string{"/a", "/b", "/c", "/l"},
		links:  map[string][]string{"/a": {"/b"}, "/b": {"/a"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTreeBuilder()
			for _, l := range tt.layers {
				if err := b.Apply(layer(t, l...)); err != nil {
					t.Fatal(err)
				}
			}
			tree := b.Tree()
			delete(tree, "/")
			if got := slices.Sorted(maps.Keys(tree)); !slices.Equal(got, tt.want) {
				t.Errorf("paths = %v, want %v", got, tt.want)
			}
			for p, e := range tree {
				if !slices.Equal(e.Links, tt.links[p]) {
					t.Errorf("%s: Links = %v, want %v", p, e.Links, tt.links[p])
				}
			}
		})
	}
}

func TestTreeBuilderHardLinkKeepsTarget(t *testing.T) {
	b := newTreeBuilder()
	if err := b.Apply(layer(t, "a=content", "b=>a")); err != nil {
		t.Fatal(err)
	}
	tree := b.Tree()
	if a, l := tree["/a"], tree["/b"]; l.Digest != a.Digest || l.Size != a.Size || l.Type != "file" {
		t.Errorf("hard link /b = %+v, want the content of /a %+v", l, a)
	}
	if err := newTreeBuilder().Apply(layer(t, "b=>missing")); err == nil {
		t.Error("Apply(hard link to a missing file) = nil, want an error")
	}
}
