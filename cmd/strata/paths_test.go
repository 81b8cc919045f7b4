package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/stratabuild/strata/internal/testregistry"
)

// pathCase is a build whose input tries to read or write outside where it
// may: the build either gives the image Docker (BuildKit) would, inside
// the image root, or fails with an error naming the Dockerfile line; and
// it never writes outside its own directories.
type pathCase struct {
	name  string
	df    string            // the Dockerfile; {{canary}} and {{token}} are replaced
	files map[string]string // context files
	links map[string]string // context symlinks: name -> target ({{canary}} replaced)
	tars  map[string][]byte // context files that are archives
	// want holds entries of the image's filesystem (see tarTree); absent
	// names paths that must not be in it.
	want   map[string]string
	absent []string
	// err, when set, is text the error must contain, and line the
	// Dockerfile line it must name.
	err  string
	line int
}

// runPathCases builds each case with outputs of type tar (to read the
// image's filesystem) and local (an exporter writes files too), checks
// the canary and records the case.
func runPathCases(t *testing.T, c *canary, cache string, cases []pathCase) {
	t.Helper()
	expand := func(s string) string {
		return strings.NewReplacer("{{canary}}", c.dir, "{{token}}", c.token).Replace(s)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := writeContext(t, expand(tc.df), files)
			for n, target := range tc.links {
				p := filepath.Join(dir, n)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.Symlink(expand(target), p); err != nil {
					t.Fatal(err)
				}
			}
			for n, data := range tc.tars {
				if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := t.TempDir()
			tarOut, localOut := filepath.Join(out, "fs.tar"), filepath.Join(out, "root")
			r := strata(t, "build", "--progress=plain", "--cache-dir", cache, "-o", "type=tar,dest="+tarOut, "-o", "type=local,dest="+localOut, dir)
			defer func() { recordHostile(t, "path: "+tc.name, c.checkOutside(t), false) }()
			if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("strata crashed:\n%s", r.stderr)
			}
			if tc.err != "" {
				if r.code != 1 || !strings.Contains(r.stderr, expand(tc.err)) || !strings.Contains(r.stderr, "Dockerfile:"+strconv.Itoa(tc.line)+":") {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and an error naming Dockerfile:%d: and %q", r.code, r.stderr, tc.line, expand(tc.err))
				}
				t.Logf("%s", errorLine(r.stderr))
				if strings.Contains(r.stderr, "HOST-CANARY") {
					t.Errorf("the host file's content is in the output")
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			// The local output shows the image's filesystem; the tar
			// output too, less relative symlinks that climb out of the
			// root, which go-containerregistry's mutate.Extract drops.
			tree := dirTree(t, localOut)
			for p, d := range tarTree(t, tarOut) {
				if tree[p] != d {
					t.Errorf("tar output %s = %q, local output %q", p, d, tree[p])
				}
			}
			for p, want := range tc.want {
				p = imagePath(expand(p))
				if got, ok := tree[p]; !ok || got != expand(want) {
					t.Errorf("image %s = %q (present %v), want %q; the image has %v", p, got, ok, expand(want), tree)
				}
			}
			for _, p := range tc.absent {
				p = imagePath(expand(p))
				if got, ok := tree[p]; ok {
					t.Errorf("image has %s (%q), want it absent", p, got)
				}
			}
			for p, d := range tree {
				if strings.Contains(d, "HOST-CANARY") || strings.Contains(d, "host-canary") {
					t.Errorf("image %s holds the host file's content", p)
				}
			}
		})
	}
}

// errorLine is the line of stderr that starts with "error:".
func errorLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "error:") || strings.HasPrefix(l, "Error:") {
			return l
		}
	}
	return ""
}

// imagePath is p as tarTree names it.
func imagePath(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

// TestHostilePaths: COPY and ADD sources that leave the context,
// destinations through symlinks in the image, and archives whose entries
// try to leave the destination.
func TestHostilePaths(t *testing.T) {
	requireE2E(t)
	c := newCanary(t)
	cache := t.TempDir()
	// rel climbs from a context (a sibling of the canary under the test's
	// temporary folder) to the canary.
	rel := "../../" + filepath.Base(filepath.Dir(c.dir)) + "/" + filepath.Base(c.dir)
	deep := strings.Repeat("../", 12) + strings.TrimPrefix(c.dir, "/")
	f := map[string]string{"f": "f\n"}
	evil := func(entries ...tarEntry) map[string][]byte {
		for i := range entries {
			entries[i].name = strings.NewReplacer("{{canary}}", c.dir, "{{token}}", c.token).Replace(entries[i].name)
			entries[i].link = strings.NewReplacer("{{canary}}", c.dir, "{{token}}", c.token).Replace(entries[i].link)
		}
		return map[string][]byte{"evil.tar": makeTar(t, false, entries...)}
	}
	sym, hard := byte(tar.TypeSymlink), byte(tar.TypeLink)
	cases := []pathCase{
		// Sources: BuildKit resolves every source inside the context
		// ("../x" and "/x" are the context's x, a symlink is followed
		// as if the context were "/"), so these name nothing.
		{name: "COPY ../ source", df: "FROM scratch\nCOPY " + rel + "/secret.txt /s\n", err: "not found", line: 2},
		{name: "COPY deep ../ source", df: "FROM scratch\nCOPY " + deep + "/secret.txt /s\n", err: "not found", line: 2},
		{name: "COPY absolute source", df: "FROM scratch\nCOPY {{canary}}/secret.txt /s\n", err: "not found", line: 2},
		{name: "ADD absolute source", df: "FROM scratch\nADD {{canary}}/etc /e\n", err: "not found", line: 2},
		{name: "COPY through a context symlink to a host dir", df: "FROM scratch\nCOPY hostdir/secret.txt /s\n",
			links: map[string]string{"hostdir": "{{canary}}"}, err: "not found", line: 2},
		{name: "COPY of a context symlink to a host file", df: "FROM scratch\nCOPY hostfile /s\n",
			links: map[string]string{"hostfile": "{{canary}}/secret.txt"}, err: "not found", line: 2},
		{name: "COPY of a context symlink climbing out", df: "FROM scratch\nCOPY up/secret.txt /s\n",
			links: map[string]string{"up": rel}, err: "not found", line: 2},
		// A symlink inside a copied directory is copied as a symlink.
		{name: "COPY of a dir holding a symlink to a host dir", df: "FROM scratch\nCOPY d/ /ctx/\n", files: f,
			links: map[string]string{"d/hostdir": "{{canary}}"}, want: map[string]string{"ctx/hostdir": "->{{canary}}"},
			absent: []string{"ctx/hostdir/secret.txt", "{{canary}}/secret.txt"}},
		// The context's own absolute symlink resolves inside the context.
		{name: "COPY through a context symlink to /", df: "FROM scratch\nCOPY root/f /s\n", files: f,
			links: map[string]string{"root": "/"}, want: map[string]string{"s": "f\n"}},

		// Destinations: BuildKit follows a symlink in the destination
		// path inside the image root, as the container would see it.
		{name: "COPY to /app -> /etc", df: "FROM scratch\nCOPY links/ /\nCOPY f /app/{{token}}\n", files: f,
			links: map[string]string{"links/app": "/etc"}, want: map[string]string{"app": "->/etc", "etc/{{token}}": "f\n"}},
		{name: "COPY to /app -> ../../..", df: "FROM scratch\nCOPY links/ /\nCOPY f /app/{{token}}\n", files: f,
			links: map[string]string{"links/app": "../../.."}, want: map[string]string{"app": "->../../..", "{{token}}": "f\n"}},
		{name: "COPY to /app -> the host canary", df: "FROM scratch\nCOPY links/ /\nCOPY f /app/{{token}}\n", files: f,
			links: map[string]string{"links/app": "{{canary}}"}, want: map[string]string{"{{canary}}/{{token}}": "f\n"}},
		{name: "COPY over a symlink to a host file", df: "FROM scratch\nCOPY links/ /\nCOPY f /target\n", files: f,
			links: map[string]string{"links/target": "{{canary}}/secret.txt"}, want: map[string]string{"{{canary}}/secret.txt": "f\n"}},
		{name: "WORKDIR through /app -> /etc", df: "FROM scratch\nCOPY links/ /\nWORKDIR /app\nCOPY f {{token}}\n", files: f,
			links: map[string]string{"links/app": "/etc"}, want: map[string]string{"etc/{{token}}": "f\n"}},
		{name: "ADD archive to /app -> ../..", df: "FROM scratch\nCOPY links/ /\nADD evil.tar /app/\n",
			links: map[string]string{"links/app": "../.."}, tars: evil(tarEntry{name: "{{token}}", body: "t\n"}), want: map[string]string{"{{token}}": "t\n"}},

		// Archives: BuildKit extracts chrooted into the destination, so
		// "../" and "/" names land in it, and symlinks the archive makes
		// resolve inside it.
		{name: "ADD archive with ../ names", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: deep + "/{{token}}", body: "up\n"}, tarEntry{name: "../x", body: "x\n"}),
			want: map[string]string{"dest/{{canary}}/{{token}}": "up\n", "dest/x": "x\n"}},
		{name: "ADD archive with absolute names", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "{{canary}}/{{token}}", body: "abs\n"}, tarEntry{name: "/etc/{{token}}", body: "etc\n"}),
			want: map[string]string{"dest/{{canary}}/{{token}}": "abs\n", "dest/etc/{{token}}": "etc\n"}, absent: []string{"etc"}},
		{name: "ADD archive with a hard link to a host file", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "h", typ: hard, link: "{{canary}}/secret.txt"}), err: "hard link", line: 2},
		{name: "ADD archive with a hard link climbing to the image's /etc", df: "FROM scratch\nCOPY f /etc/passwd\nADD evil.tar /dest/\n", files: f,
			tars: evil(tarEntry{name: "h", typ: hard, link: "../../../etc/passwd"}), err: "hard link", line: 3},
		// BuildKit: "open /link-out/{{token}}: no such file or directory".
		{name: "ADD archive writing through its own symlink to a host dir", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "out", typ: sym, link: "{{canary}}"}, tarEntry{name: "out/{{token}}", body: "x\n"}),
			err:  "not a directory", line: 2},
		{name: "ADD archive writing through its own symlink to /etc", df: "FROM scratch\nCOPY f /etc/passwd\nADD evil.tar /dest/\n", files: f,
			tars: evil(tarEntry{name: "link-out", typ: sym, link: "/etc"}, tarEntry{name: "link-out/{{token}}", body: "x\n"}),
			err:  "not a directory", line: 3},
		{name: "ADD archive writing through its own symlink climbing out", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "up", typ: sym, link: "../../../../../.."}, tarEntry{name: "up/{{token}}", body: "x\n"}),
			want: map[string]string{"dest/up": "->../../../../../..", "dest/{{token}}": "x\n"}, absent: []string{"{{token}}"}},
		{name: "ADD archive with a hard link through its own symlink", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "s", typ: sym, link: "{{canary}}"}, tarEntry{name: "h", typ: hard, link: "s/secret.txt"}),
			err:  "hard link", line: 2},
		{name: "ADD archive replacing a symlink to a host file", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "s", typ: sym, link: "{{canary}}/secret.txt"}, tarEntry{name: "s", body: "replaced\n"}),
			want: map[string]string{"dest/s": "replaced\n"}},
		// Devices: BuildKit, running as root, makes them (Docker's image
		// has them); they are not opened.
		{name: "ADD archive with devices", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: "null", typ: tar.TypeChar, devMajor: 1, devMinor: 3, mode: 0o666},
				tarEntry{name: "sda", typ: tar.TypeBlock, devMajor: 8, mode: 0o660}, tarEntry{name: "fifo", typ: tar.TypeFifo}),
			want: map[string]string{"dest/null": "chr 1:3", "dest/sda": "blk 8:0", "dest/fifo": "fifo"}},
		// Whiteouts: BuildKit writes a file named .wh.*, which every
		// reader of the layer takes for a whiteout (".wh..." for one of
		// ".."); strata refuses the archive.
		{name: "ADD archive with a whiteout naming ..", df: "FROM scratch\nADD evil.tar /dest/\n",
			tars: evil(tarEntry{name: ".wh...", body: ""}), err: "reserved for whiteouts", line: 2},
		{name: "ADD archive with a whiteout", df: "FROM scratch\nCOPY f /etc/passwd\nADD evil.tar /\n", files: f,
			tars: evil(tarEntry{name: "etc/.wh.passwd", body: ""}), err: "reserved for whiteouts", line: 3},
		{name: "ADD archive with an opaque marker", df: "FROM scratch\nADD evil.tar /\n",
			tars: evil(tarEntry{name: "etc/.wh..wh..opq", body: ""}), err: "reserved for whiteouts", line: 2},
	}
	runPathCases(t, c, cache, cases)
}

// TestHostileBaseLayers: base images whose layers try to leave the root.
// The layers are made by hand and pushed over the busybox base, then a RUN
// makes strata unpack them.
func TestHostileBaseLayers(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	c := newCanary(t)
	deep := strings.Repeat("../", 12) + strings.TrimPrefix(c.dir, "/")
	sym, hard := byte(tar.TypeSymlink), byte(tar.TypeLink)
	baseRef, err := name.ParseReference(base, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	busybox, err := remote.Image(baseRef)
	if err != nil {
		t.Fatal(err)
	}
	expand := func(s string) string {
		return strings.NewReplacer("{{canary}}", c.dir, "{{token}}", c.token).Replace(s)
	}
	// push makes the image busybox + one layer per list of entries.
	push := func(repo string, layers ...[]tarEntry) string {
		t.Helper()
		img := busybox
		for _, entries := range layers {
			for i := range entries {
				entries[i].name, entries[i].link = expand(entries[i].name), expand(entries[i].link)
			}
			data := makeTar(t, false, entries...)
			l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
			if err != nil {
				t.Fatal(err)
			}
			if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "hostile"}}); err != nil {
				t.Fatal(err)
			}
		}
		ref, err := name.ParseReference(reg+"/hostile/"+repo+":latest", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		return ref.String()
	}
	// Each image is used as FROM; the RUN lists what the container sees.
	df := func(ref string) string {
		return "FROM " + ref + "\nRUN ls -A / > /ls.txt; cat /evil/" + c.token + " > /seen.txt 2>/dev/null; true\n"
	}
	type layerCase struct {
		name   string
		layers [][]tarEntry
		want   map[string]string
		err    string
	}
	// containerd (BuildKit's layer applier) resolves every name inside
	// the root, clamping "..". strata's Unpack refuses names that climb
	// above the root, and resolves the rest inside it.
	cases := []layerCase{
		{name: "layer with ../ names", layers: [][]tarEntry{{{name: deep + "/{{token}}", body: "x\n"}}}, err: "path escapes the layer directory"},
		{name: "layer with absolute names", layers: [][]tarEntry{{{name: "{{canary}}/{{token}}", body: "abs\n"}}},
			want: map[string]string{"{{canary}}/{{token}}": "abs\n"}},
		{name: "layer writing through its own symlink to a host dir", layers: [][]tarEntry{{{name: "evil", typ: sym, link: "{{canary}}"}, {name: "evil/{{token}}", body: "x\n"}}},
			err: "evil/{{token}}"},
		{name: "layer writing through its own symlink to /", layers: [][]tarEntry{{{name: "evil", typ: sym, link: "/"}, {name: "evil/etc/{{token}}", body: "x\n"}}},
			want: map[string]string{"evil": "->/", "etc/{{token}}": "x\n"}},
		// Each layer is its own directory under overlayfs, as with
		// Docker's overlay2 driver: the second layer's evil/ is a
		// directory that hides the first's symlink, and a RUN sees
		// /evil/{{token}}. containerd (BuildKit) applies the layers into
		// one directory, following evil inside the root: so does the
		// local exporter, which writes /{{canary}}/{{token}}.
		{name: "layer writing through a lower layer's symlink", layers: [][]tarEntry{{{name: "evil", typ: sym, link: "{{canary}}"}}, {{name: "evil/{{token}}", body: "x\n"}}},
			want: map[string]string{"seen.txt": "x\n", "{{canary}}/{{token}}": "x\n"}},
		{name: "layer with a hard link to a host file", layers: [][]tarEntry{{{name: "h", typ: hard, link: "{{canary}}/secret.txt"}}}, err: "link target"},
		{name: "layer with a hard link climbing out", layers: [][]tarEntry{{{name: "h", typ: hard, link: deep + "/secret.txt"}}}, err: "path escapes the layer directory"},
		{name: "layer with devices", layers: [][]tarEntry{{{name: "dev/sda", typ: tar.TypeBlock, devMajor: 8, mode: 0o660}, {name: "mynull", typ: tar.TypeChar, devMajor: 1, devMinor: 3, mode: 0o666}}},
			want: map[string]string{"dev/sda": "blk 8:0", "mynull": "chr 1:3"}},
		{name: "layer with a whiteout naming ..", layers: [][]tarEntry{{{name: "etc/.wh..", body: ""}}}, err: "whiteout names no file"},
		{name: "layer with a whiteout naming .. (3 dots)", layers: [][]tarEntry{{{name: "bin/.wh...", body: ""}}}, err: "whiteout names no file"},
	}
	for i, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			ref := push("case"+strconv.Itoa(i), lc.layers...)
			// The layers as pushed pass through to the tar output, so
			// it is the local output that shows what a container sees.
			out := t.TempDir()
			tarOut, localOut := filepath.Join(out, "fs.tar"), filepath.Join(out, "root")
			r := strata(t, "build", "--progress=plain", "--cache-dir", cache, "-o", "type=tar,dest="+tarOut, "-o", "type=local,dest="+localOut, writeContext(t, df(ref), map[string]string{}))
			defer func() { recordHostile(t, "base layer: "+lc.name, c.checkOutside(t), false) }()
			if strings.Contains(r.stderr, "panic:") {
				t.Errorf("strata crashed:\n%s", r.stderr)
			}
			if lc.err != "" {
				if r.code != 1 || !strings.Contains(r.stderr, expand(lc.err)) || !strings.Contains(r.stderr, "Dockerfile:") {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and an error naming a Dockerfile line and %q", r.code, r.stderr, expand(lc.err))
				}
				t.Logf("%s", errorLine(r.stderr))
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			tree := dirTree(t, localOut)
			for p, want := range lc.want {
				p = imagePath(expand(p))
				if got := tree[p]; got != expand(want) {
					t.Errorf("image %s = %q, want %q", p, got, expand(want))
				}
			}
			if !strings.Contains(tree["ls.txt"], "bin") {
				t.Errorf("the RUN saw / as %q", tree["ls.txt"])
			}
		})
	}
}
