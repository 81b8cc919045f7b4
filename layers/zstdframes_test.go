package layers

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdFrames: the framed output decompresses to the input with the
// reference decoder (the zstd command, C) and with klauspost's, for empty
// input, input of whole frames and input with a partial last frame; it
// holds one frame per zstdFrameSize of input.
func TestZstdFrames(t *testing.T) {
	cli, err := exec.LookPath("zstd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the zstd command is needed (Debian package zstd), and CI is set")
		}
		t.Log("no zstd command: checking with klauspost/compress only")
	}
	text := bytes.Repeat([]byte("a layer of text, "), 1<<18) // 4.25 MiB
	for name, in := range map[string][]byte{
		"empty":         nil,
		"small":         []byte("hello\n"),
		"two frames":    text[:2*zstdFrameSize],
		"partial frame": append(randomBytes(zstdFrameSize+12345), text...),
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			zw, err := newZstdFrames(&out, 3)
			if err != nil {
				t.Fatal(err)
			}
			for rest := in; len(rest) > 0; {
				n := min(len(rest), 100003)
				if _, err := zw.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			wantFrames := max(1, (len(in)+zstdFrameSize-1)/zstdFrameSize)
			if got := bytes.Count(out.Bytes(), []byte{0x28, 0xb5, 0x2f, 0xfd}); got < wantFrames {
				t.Errorf("%d frame magics in the output, want at least %d", got, wantFrames)
			}
			zr, err := zstd.NewReader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			var got bytes.Buffer
			if _, err := got.ReadFrom(zr); err != nil || !bytes.Equal(got.Bytes(), in) {
				t.Errorf("klauspost decoder: %d bytes, %v; want the %d bytes written", got.Len(), err, len(in))
			}
			if cli == "" {
				return
			}
			cmd := exec.Command(cli, "-d", "-c", "-q")
			cmd.Stdin = bytes.NewReader(out.Bytes())
			dec, err := cmd.Output()
			if err != nil || !bytes.Equal(dec, in) {
				t.Errorf("zstd -d: %d bytes, %v; want the %d bytes written", len(dec), err, len(in))
			}
		})
	}
}

// failAfter accepts n writes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// TestZstdFramesWriteError: an error writing the output reaches Write or
// Close, and Close returns once every frame is done.
func TestZstdFramesWriteError(t *testing.T) {
	zw, err := newZstdFrames(&failAfter{n: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(8 * zstdFrameSize)
	var werr error
	for rest := data; len(rest) > 0 && werr == nil; rest = rest[min(len(rest), 65536):] {
		_, werr = zw.Write(rest[:min(len(rest), 65536)])
	}
	cerr := zw.Close()
	if cerr == nil {
		t.Fatalf("Write: %v, Close: %v; want the writer's error from Close at least", werr, cerr)
	}
	if cerr.Error() != "disk full" {
		t.Errorf("Close = %v, want disk full", cerr)
	}
}
