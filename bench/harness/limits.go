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
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/stratabuild/strata/layers"
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

// measureLimits measures on the big10k tree in work/big10k. Each measure is the best of
// limitTries: the limit is what the machine can do, and these machines are noisy.
func measureLimits(ctx context.Context, work string) (*limits, error) {
	logf("limits: sha256, gzip, zstd, disk (best of %d)", limitTries)
	dir := filepath.Join(work, "big10k")
	l := &limits{Cores: runtime.GOMAXPROCS(0),
		CompressNote: "best of 3; layers.Compression.Writer, as strata compresses layers: pgzip level default, 1 MiB blocks, 2*GOMAXPROCS blocks at once; zstd SpeedDefault in 1 MiB frames, GOMAXPROCS at once (zstd_1core: 1)"}

	var buf bytes.Buffer
	tarTime, err := best(func() (time.Duration, error) {
		buf.Reset()
		start := time.Now()
		err := tarTree(&buf, dir)
		return time.Since(start), err
	})
	if err != nil {
		return nil, err
	}
	l.TarSeconds = tarTime.Seconds()
	data := buf.Bytes()
	l.InputBytes = int64(len(data))
	mbs := func(d time.Duration) float64 { return float64(len(data)) / 1e6 / d.Seconds() }

	d, err := best(func() (time.Duration, error) {
		start := time.Now()
		sha256.Sum256(data)
		return time.Since(start), nil
	})
	if err != nil {
		return nil, err
	}
	l.SHA256 = mbs(d)

	// Compression as strata's layers are compressed (layers.Compression.Writer).
	var out countWriter
	compressTime := func(c layers.Compression, procs int) (time.Duration, error) {
		return best(func() (time.Duration, error) {
			out = countWriter{}
			start := time.Now()
			zw, err := c.Writer(&out, procs)
			if err != nil {
				return 0, err
			}
			if _, err := zw.Write(data); err != nil {
				return 0, err
			}
			err = zw.Close()
			return time.Since(start), err
		})
	}
	if d, err = compressTime(layers.Gzip, runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	l.Pgzip, l.PgzipRatio = mbs(d), float64(len(data))/float64(out.n)
	if d, err = compressTime(layers.Zstd, runtime.GOMAXPROCS(0)); err != nil {
		return nil, err
	}
	l.Zstd, l.ZstdRatio = mbs(d), float64(len(data))/float64(out.n)
	if d, err = compressTime(layers.Zstd, 1); err != nil {
		return nil, err
	}
	l.Zstd1 = mbs(d)
	buf = bytes.Buffer{}
	data = nil
	runtime.GC()

	ddFile := filepath.Join(work, "dd.out")
	d, err = best(func() (time.Duration, error) {
		defer os.Remove(ddFile)
		syscall.Sync()
		start := time.Now()
		err := runQuiet(ctx, 5*time.Minute, nil, "dd", "if=/dev/zero", "of="+ddFile, "bs=1M", "count=1024", "conv=fsync")
		return time.Since(start), err
	})
	if err != nil {
		return nil, err
	}
	l.DiskWrite = float64(1<<30) / 1e6 / d.Seconds()

	dst := filepath.Join(work, "big10k-copy")
	var withSync []time.Duration
	d, err = best(func() (time.Duration, error) {
		if err := os.RemoveAll(dst); err != nil {
			return 0, err
		}
		syscall.Sync()
		start := time.Now()
		if err := runQuiet(ctx, 5*time.Minute, nil, "cp", "-a", dir, dst); err != nil {
			return 0, err
		}
		copied := time.Since(start)
		syscall.Sync()
		withSync = append(withSync, time.Since(start))
		return copied, nil
	})
	if err != nil {
		return nil, err
	}
	l.CopySeconds = d.Seconds()
	l.CopySync = slices.Min(withSync).Seconds()
	return l, os.RemoveAll(dst)
}

const limitTries = 3

// best runs f limitTries times and returns its shortest time.
func best(f func() (time.Duration, error)) (time.Duration, error) {
	var fastest time.Duration
	for i := 0; i < limitTries; i++ {
		d, err := f()
		if err != nil {
			return 0, err
		}
		if i == 0 || d < fastest {
			fastest = d
		}
	}
	return fastest, nil
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
	fmt.Fprintf(w, "\nPhysical limits on this machine (%d cores), best of 3, over the big10k tree as one tar stream (%.0f MB, in memory):\n",
		l.Cores, float64(l.InputBytes)/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	mbs := func(v float64) string { return fmt.Sprintf("%.0f MB/s\t%.2f s", v, float64(l.InputBytes)/1e6/v) }
	fmt.Fprintf(tw, "  sha256 (1 core)\t%s\n", mbs(l.SHA256))
	fmt.Fprintf(tw, "  gzip: pgzip default level, all cores\t%s\tratio %.2f\n", mbs(l.Pgzip), l.PgzipRatio)
	fmt.Fprintf(tw, "  zstd default level, 1 MiB frames, all cores\t%s\tratio %.2f\n", mbs(l.Zstd), l.ZstdRatio)
	fmt.Fprintf(tw, "  zstd default level, 1 MiB frames, 1 core\t%s\n", mbs(l.Zstd1))
	fmt.Fprintf(tw, "  disk write: dd 1 GiB conv=fsync\t%.0f MB/s\t%.2f s\n", l.DiskWrite, float64(1<<30)/1e6/l.DiskWrite)
	fmt.Fprintf(tw, "  read the tree into a tar stream\t\t%.2f s\n", l.TarSeconds)
	fmt.Fprintf(tw, "  cp -a of the tree (page cache warm)\t\t%.2f s\n", l.CopySeconds)
	fmt.Fprintf(tw, "  cp -a of the tree, then sync\t\t%.2f s\n", l.CopySync)
	tw.Flush()
}
