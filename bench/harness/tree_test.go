package main

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// A small tree with the same generator: its digest is fixed, so a change to the generator
// (or to math/rand/v2's PCG) that would change big10k's bytes shows up here.
var smallTree = tree{Files: 60, Dirs: 6, MeanSize: 4 << 10, Seed: 7}

const smallTreeDigest = "3d350c4d0901ccc1287c1cf3d3d191d568e47f9eeb503e706d4a73d65287f3d1"

func TestTreeDeterministic(t *testing.T) {
	var digests []string
	for k := 0; k < 2; k++ {
		dir := t.TempDir()
		if err := smallTree.write(dir); err != nil {
			t.Fatal(err)
		}
		d, err := digestTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Fatalf("two writes of the same tree differ: %s, %s", digests[0], digests[1])
	}
	if digests[0] != smallTreeDigest {
		t.Errorf("digestTree(smallTree) = %s, want %s", digests[0], smallTreeDigest)
	}
}

func TestBig10kShape(t *testing.T) {
	total := big10k.totalSize()
	if total < 280e6 || total > 330e6 {
		t.Errorf("big10k.totalSize() = %d, want about 300 MB", total)
	}
	dirs := map[string]bool{}
	for i := 0; i < big10k.Files; i++ {
		p := big10k.file(i).Path
		dirs[p[:len("src/d00")]] = true
	}
	if len(dirs) != big10k.Dirs {
		t.Errorf("big10k has %d folders, want %d", len(dirs), big10k.Dirs)
	}
	if f := big10k.file(big10k.editTarget()); f.Binary || f.Size >= 8<<10 {
		t.Errorf("editTarget() = %+v, want a small text file", f)
	}
}

// The first 300 files of big10k compress about 2:1 with gzip.
func TestBig10kCompresses2to1(t *testing.T) {
	words := big10k.words()
	var raw, out bytes.Buffer
	zw := gzip.NewWriter(&out)
	for i := 0; i < 300; i++ {
		b := big10k.content(i, words)
		raw.Write(b)
		zw.Write(b)
	}
	zw.Close()
	ratio := float64(raw.Len()) / float64(out.Len())
	t.Logf("gzip ratio %.2f over %d bytes", ratio, raw.Len())
	if ratio < 1.7 || ratio > 2.5 {
		t.Errorf("gzip ratio = %.2f, want about 2", ratio)
	}
}
