package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// tree is a generated build context: Files files spread over Dirs folders under src/, of
// MeanSize bytes on average, about a quarter of the bytes random (incompressible) and the
// rest text-like lines from a word list, so that the whole compresses roughly 2:1 with gzip.
// Every byte comes from a PCG generator seeded with (Seed, file index), and every mtime is
// treeEpoch, so the tree is the same on every machine and every run.
type tree struct {
	Files    int
	Dirs     int
	MeanSize int
	Seed     uint64
}

// big10k is the context of the big10k benchmark: 10,000 files, about 300 MB, 100 folders.
var big10k = tree{Files: 10000, Dirs: 100, MeanSize: 30 << 10, Seed: 10000}

// treeEpoch is the mtime of every generated file and folder.
var treeEpoch = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

// Only the raw Uint64 output of math/rand/v2's PCG is used: the generator is specified, the
// derived helpers (IntN, Shuffle) are not promised to stay the same across Go releases.
func (t tree) rng(stream uint64) *rand.PCG { return rand.NewPCG(t.Seed, stream) }

// words is the vocabulary of the text files: 1000 lowercase words of 2 to 11 letters.
func (t tree) words() []string {
	r := t.rng(1 << 62)
	words := make([]string, 1000)
	for i := range words {
		n := 2 + int(r.Uint64()%10)
		b := make([]byte, n)
		for j := range b {
			b[j] = 'a' + byte(r.Uint64()%26)
		}
		words[i] = string(b)
	}
	return words
}

// file is the plan of one file: its path under the context, its size and kind.
type file struct {
	Path   string
	Size   int
	Binary bool
}

func (t tree) file(i int) file {
	r := t.rng(uint64(i))
	lo := t.MeanSize / 16
	hi := 2*t.MeanSize - lo
	size := lo + int(r.Uint64()%uint64(hi-lo))
	binary := r.Uint64()%4 == 0
	ext := ".txt"
	if binary {
		ext = ".bin"
	}
	perDir := (t.Files + t.Dirs - 1) / t.Dirs
	return file{
		Path:   fmt.Sprintf("src/d%02d/f%05d%s", i/perDir, i, ext),
		Size:   size,
		Binary: binary,
	}
}

// content returns the bytes of file i. The stream continues the one file(i) drew its plan
// from, so a file's bytes depend only on (Seed, i).
func (t tree) content(i int, words []string) []byte {
	f := t.file(i)
	r := t.rng(uint64(i))
	r.Uint64() // the size
	r.Uint64() // the kind
	b := make([]byte, 0, f.Size+64)
	if f.Binary {
		var w [8]byte
		for len(b) < f.Size {
			binary.LittleEndian.PutUint64(w[:], r.Uint64())
			b = append(b, w[:]...)
		}
		return b[:f.Size]
	}
	punct := []string{" ", " ", " ", " ", " ", ", ", "; ", " = ", "(", ") ", ". "}
	for len(b) < f.Size {
		indent := int(r.Uint64() % 4)
		for k := 0; k < indent; k++ {
			b = append(b, "    "...)
		}
		n := 3 + int(r.Uint64()%10)
		for k := 0; k < n; k++ {
			if k > 0 {
				b = append(b, punct[r.Uint64()%uint64(len(punct))]...)
			}
			// Skewed towards the first words, as word frequencies are in real text.
			w := 1 + r.Uint64()%uint64(len(words))
			b = append(b, words[r.Uint64()%w]...)
		}
		b = append(b, '\n')
	}
	return b[:f.Size]
}

// totalSize is the sum of the file sizes.
func (t tree) totalSize() int64 {
	var n int64
	for i := 0; i < t.Files; i++ {
		n += int64(t.file(i).Size)
	}
	return n
}

// write creates the tree under dir (which must not hold it yet), GOMAXPROCS files at once.
func (t tree) write(dir string) error {
	words := t.words()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := t.writeFile(dir, i, words); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < t.Files; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	// Folders last, deepest first: creating a file changes its folder's mtime.
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if err := os.Chmod(d, 0o755); err != nil { // whatever the umask
			return err
		}
		if err := os.Chtimes(d, treeEpoch, treeEpoch); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes file i as generated, with the tree's mtime; it also restores a file
// that was edited or touched. The folder's mtime is left as it is.
func (t tree) writeFile(dir string, i int, words []string) error {
	f := t.file(i)
	p := filepath.Join(dir, f.Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, t.content(i, words), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(p, 0o644); err != nil { // whatever the umask
		return err
	}
	return os.Chtimes(p, treeEpoch, treeEpoch)
}

// editTarget is the file the "edit" scenario changes: the first small text file.
func (t tree) editTarget() int {
	for i := 0; i < t.Files; i++ {
		if f := t.file(i); !f.Binary && f.Size < 8<<10 {
			return i
		}
	}
	return 0
}

// touchTarget is the file the "touch" scenario gives a new mtime: one in the middle.
func (t tree) touchTarget() int { return t.Files / 2 }

// digestTree returns a sha256 over the relative paths, modes, mtimes and contents of
// every entry under dir, in lexical order: equal digests mean equal trees.
func digestTree(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00", filepath.ToSlash(rel), info.Mode(), info.ModTime().Unix())
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// describe is a one-line summary for the log.
func (t tree) describe() string {
	var bin int64
	for i := 0; i < t.Files; i++ {
		if f := t.file(i); f.Binary {
			bin += int64(f.Size)
		}
	}
	total := t.totalSize()
	return strings.TrimSpace(fmt.Sprintf("%d files in %d folders, %.1f MB, %.0f%% random bytes",
		t.Files, t.Dirs, float64(total)/1e6, 100*float64(bin)/float64(total)))
}
