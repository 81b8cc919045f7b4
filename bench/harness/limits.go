package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// limits are what this machine allows, whatever the builder: the costs a 10k-file COPY
// cannot avoid. Throughputs are in MB/s (10^6 bytes) of input.
type limits struct {
	InputBytes   int64   `json:"input_bytes"` // the tar stream of the big10k tree, in memory
	SHA256       float64 `json:"sha256_mb_s"`
	Pgzip        float64 `json:"pgzip_mb_s"` // all cores, as strata's layers/compression.go
	PgzipRatio   float64 `json:"pgzip_ratio"`
	Zstd         float64 `json:"zstd_mb_s"` // all cores, as strata's layers/compression.go
	Zstd1        float64 `json:"zstd_1core_mb_s"`
	ZstdRatio    float64 `json:"zstd_ratio"`
	DiskWrite    float64 `json:"disk_write_mb_s"` // dd of 1 GiB with conv=fsync
	CopySeconds  float64 `json:"cp_a_seconds"`    // cp -a of the tree, page cache warm
	CopySync     float64 `json:"cp_a_sync_seconds"`
	TarSeconds   float64 `json:"tar_seconds"` // reading the tree into a tar stream in memory
	Cores        int     `json:"gomaxprocs"`
	CompressNote string  `json:"note"`
}

// measureLimits measures on the big10k tree in work/big10k.
func measureLimits(ctx context.Context, work string) (*limits, error) {
	logf("limits: sha256, gzip, zstd, disk")
	dir := filepath.Join(work, "big10k")
	l := &limits{Cores: runtime.GOMAXPROCS(0),
		CompressNote: "pgzip level default, 1 MiB blocks, 2*GOMAXPROCS blocks at once; zstd SpeedDefault, encoder concurrency GOMAXPROCS (zstd_1core: 1)"}

	start := time.Now()
	var buf bytes.Buffer
	if err := tarTree(&buf, dir); err != nil {
		return nil, err
	}
	l.TarSeconds = time.Since(start).Seconds()
	data := buf.Bytes()
	l.InputBytes = int64(len(data))

	rate := func(f func() error) (float64, error) {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		return float64(len(data)) / 1e6 / time.Since(start).Seconds(), nil
	}
	var err error
	if l.SHA256, err = rate(func() error { sha256.Sum256(data); return nil }); err != nil {
		return nil, err
	}
	var gz countWriter
	if l.Pgzip, err = rate(func() error {
		zw, err := pgzip.NewWriterLevel(&gz, pgzip.DefaultCompression)
		if err != nil {
			return err
		}
		if err := zw.SetConcurrency(1<<20, 2*runtime.GOMAXPROCS(0)); err != nil {
			return err
		}
		if _, err := zw.Write(data); err != nil {
			return err
		}
		return zw.Close()
	}); err != nil {
		return nil, err
	}
	l.PgzipRatio = float64(len(data)) / float64(gz.n)
	zstdRate := func(procs int, out *countWriter) (float64, error) {
		return rate(func() error {
			zw, err := zstd.NewWriter(out, zstd.WithEncoderConcurrency(procs), zstd.WithEncoderLevel(zstd.SpeedDefault))
			if err != nil {
				return err
			}
			if _, err := zw.Write(data); err != nil {
				return err
			}
			return zw.Close()
		})
	}
	var zs countWriter
	if l.Zstd, err = zstdRate(runtime.GOMAXPROCS(0), &zs); err != nil {
		return nil, err
	}
	l.ZstdRatio = float64(len(data)) / float64(zs.n)
	if l.Zstd1, err = zstdRate(1, &countWriter{}); err != nil {
		return nil, err
	}
	buf = bytes.Buffer{}
	data = nil
	runtime.GC()

	ddFile := filepath.Join(work, "dd.out")
	start = time.Now()
	if err := runQuiet(ctx, 5*time.Minute, nil, "dd", "if=/dev/zero", "of="+ddFile, "bs=1M", "count=1024", "conv=fsync"); err != nil {
		return nil, err
	}
	l.DiskWrite = float64(1<<30) / 1e6 / time.Since(start).Seconds()
	_ = os.Remove(ddFile)

	dst := filepath.Join(work, "big10k-copy")
	if err := runQuiet(ctx, time.Minute, nil, "sync"); err != nil {
		return nil, err
	}
	start = time.Now()
	if err := runQuiet(ctx, 5*time.Minute, nil, "cp", "-a", dir, dst); err != nil {
		return nil, err
	}
	l.CopySeconds = time.Since(start).Seconds()
	if err := exec.CommandContext(ctx, "sync").Run(); err != nil {
		return nil, err
	}
	l.CopySync = time.Since(start).Seconds()
	return l, os.RemoveAll(dst)
}

// tarTree writes the tree under dir as a tar stream, the way a layer holds it.
func tarTree(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func (l *limits) print(w io.Writer) {
	fmt.Fprintf(w, "\nPhysical limits on this machine (%d cores), over the big10k tree as one tar stream (%.0f MB, in memory):\n",
		l.Cores, float64(l.InputBytes)/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	mbs := func(v float64) string { return fmt.Sprintf("%.0f MB/s\t%.2f s", v, float64(l.InputBytes)/1e6/v) }
	fmt.Fprintf(tw, "  sha256 (1 core)\t%s\n", mbs(l.SHA256))
	fmt.Fprintf(tw, "  gzip: pgzip default level, all cores\t%s\tratio %.2f\n", mbs(l.Pgzip), l.PgzipRatio)
	fmt.Fprintf(tw, "  zstd default level, all cores\t%s\tratio %.2f\n", mbs(l.Zstd), l.ZstdRatio)
	fmt.Fprintf(tw, "  zstd default level, 1 core\t%s\n", mbs(l.Zstd1))
	fmt.Fprintf(tw, "  disk write: dd 1 GiB conv=fsync\t%.0f MB/s\t%.2f s\n", l.DiskWrite, float64(1<<30)/1e6/l.DiskWrite)
	fmt.Fprintf(tw, "  read the tree into a tar stream\t\t%.2f s\n", l.TarSeconds)
	fmt.Fprintf(tw, "  cp -a of the tree (page cache warm)\t\t%.2f s\n", l.CopySeconds)
	fmt.Fprintf(tw, "  cp -a of the tree, then sync\t\t%.2f s\n", l.CopySync)
	tw.Flush()
}
