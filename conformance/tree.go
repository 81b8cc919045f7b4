package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one file of an image's final file tree: what a container started from the
// image would see at Path, with the fields the harness compares.
type Entry struct {
	Path     string // absolute, cleaned: "/etc/passwd"; the root is "/"
	Type     string // file, dir, symlink, char, block, fifo
	Mode     int64  // permission bits with setuid, setgid and sticky (07777)
	UID, GID int
	Size     int64  // regular files
	Digest   string // sha256 of a regular file's content
	Text     string // a small regular file's content, to show in a difference
	Link     string // a symbolic link's target
	Dev      string // "major:minor" of a device
	Xattrs   map[string]string
	ModTime  time.Time
	// Links lists the other paths of the tree that are hard links to the same file.
	Links []string

	group int // hard-link group: entries with the same group share an inode
}

// Tree is a final file tree, keyed by Entry.Path.
type Tree map[string]*Entry

// whiteoutPrefix and opaqueMarker are the OCI image spec's whiteout names.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// treeBuilder applies layers in order, the way a container runtime stacks them.
type treeBuilder struct {
	tree      Tree
	nextGroup int
}

func newTreeBuilder() *treeBuilder {
	return &treeBuilder{tree: Tree{"/": {Path: "/", Type: "dir", Mode: 0o755}}}
}

// Apply applies one uncompressed layer tar. Whiteouts remove what lower layers put at
// their path; an opaque marker hides everything lower layers put below its directory,
// while entries of the same layer stay, whatever their order in the tar.
func (b *treeBuilder) Apply(r io.Reader) error {
	tr := tar.NewReader(r)
	added := map[string]bool{} // paths this layer wrote
	var opaque []string        // directories this layer made opaque
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		p := cleanPath(hdr.Name)
		dir, base := path.Split(p)
		dir = cleanPath(dir)
		if base == opaqueMarker {
			opaque = append(opaque, dir)
			continue
		}
		if strings.HasPrefix(base, whiteoutPrefix) {
			b.remove(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)), added)
			continue
		}
		e, err := b.entry(p, hdr, tr)
		if err != nil {
			return err
		}
		if old, ok := b.tree[p]; ok && !(old.Type == "dir" && e.Type == "dir") {
			b.removeBelow(p, nil)
		}
		b.tree[p] = e
		added[p] = true
	}
	for _, dir := range opaque {
		b.removeBelow(dir, added)
	}
	return nil
}

func (b *treeBuilder) entry(p string, hdr *tar.Header, r io.Reader) (*Entry, error) {
	e := &Entry{
		Path:    p,
		Mode:    hdr.Mode & 0o7777,
		UID:     hdr.Uid,
		GID:     hdr.Gid,
		ModTime: hdr.ModTime,
		Xattrs:  xattrs(hdr),
	}
	b.nextGroup++
	e.group = b.nextGroup
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		e.Type = "file"
		h := sha256.New()
		var head bytes.Buffer
		n, err := io.Copy(io.MultiWriter(h, &limitWriter{&head, maxText + 1}), r)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		e.Size = n
		e.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
		if n <= maxText && utf8.Valid(head.Bytes()) {
			e.Text = head.String()
		}
	case tar.TypeDir:
		e.Type = "dir"
	case tar.TypeSymlink:
		e.Type = "symlink"
		e.Link = hdr.Linkname
	case tar.TypeChar, tar.TypeBlock:
		e.Type = map[byte]string{tar.TypeChar: "char", tar.TypeBlock: "block"}[hdr.Typeflag]
		e.Dev = fmt.Sprintf("%d:%d", hdr.Devmajor, hdr.Devminor)
	case tar.TypeFifo:
		e.Type = "fifo"
	case tar.TypeLink:
		target, ok := b.tree[cleanPath(hdr.Linkname)]
		if !ok || target.Type == "dir" {
			return nil, fmt.Errorf("%s: hard link to missing %s", p, hdr.Linkname)
		}
		// A hard link is the same inode: its metadata is the target's, whatever the
		// link's own header says.
		link := *target
		link.Path = p
		return &link, nil
	default:
		return nil, fmt.Errorf("%s: unsupported tar entry type %q", p, hdr.Typeflag)
	}
	return e, nil
}

// remove deletes p and everything below it, unless this layer wrote them.
func (b *treeBuilder) remove(p string, keep map[string]bool) {
	if !keep[p] {
		delete(b.tree, p)
	}
	b.removeBelow(p, keep)
}

// removeBelow deletes everything below dir, except what keep holds.
func (b *treeBuilder) removeBelow(dir string, keep map[string]bool) {
	prefix := dir + "/"
	if dir == "/" {
		prefix = "/"
	}
	for p := range b.tree {
		if p != dir && strings.HasPrefix(p, prefix) && !keep[p] {
			delete(b.tree, p)
		}
	}
}

// Tree returns the final tree with hard-link groups resolved into Entry.Links.
func (b *treeBuilder) Tree() Tree {
	groups := map[int][]string{}
	for p, e := range b.tree {
		if e.Type == "file" {
			groups[e.group] = append(groups[e.group], p)
		}
	}
	for _, paths := range groups {
		if len(paths) < 2 {
			continue
		}
		sort.Strings(paths)
		for _, p := range paths {
			for _, q := range paths {
				if q != p {
					b.tree[p].Links = append(b.tree[p].Links, q)
				}
			}
		}
	}
	return b.tree
}

// maxText is the largest file whose content a difference shows.
const maxText = 1024

// limitWriter keeps the first n bytes written to it and drops the rest.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cleanPath makes a tar name absolute and clean: "./a/b/" → "/a/b".
func cleanPath(name string) string {
	return path.Clean("/" + name)
}

// xattrs returns a tar header's extended attributes (PAX SCHILY.xattr. records).
func xattrs(hdr *tar.Header) map[string]string {
	var m map[string]string
	const prefix = "SCHILY.xattr."
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, prefix) {
			if m == nil {
				m = map[string]string{}
			}
			m[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return m
}
