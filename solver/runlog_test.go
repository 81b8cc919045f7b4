package solver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTailWriter(t *testing.T) {
	var lines []string
	o := newRunOutput(func(s string) { lines = append(lines, s) }, t.TempDir(), "")
	defer o.Finish()
	w := o.stream(2)
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\r\nthree"))
	w.Flush()
	if got := strings.Join(lines, "|"); got != "one|two|three" {
		t.Errorf("lines = %q", got)
	}
	if got := strings.Join(w.Tail(), "|"); got != "two|three" {
		t.Errorf("tail = %q", got)
	}
	big := strings.Repeat("x", 100<<10)
	w.Write([]byte(big))
	if n := len(w.buf); n >= maxLine {
		t.Errorf("a line without newline is buffered whole: %d bytes", n)
	}
	tail := w.Tail()
	if len(tail) != 1 || !strings.HasSuffix(tail[0], fmt.Sprintf("... [%d bytes clipped]", tailBytes-maxTailLine)) {
		t.Errorf("tail of a long line = %.80q..., want it cut to %d bytes", tail, maxTailLine)
	}
}

// TestRunOutputClipped: past the limit nothing more is shown but a note
// naming the log, which is kept whole; the tails still follow the output.
func TestRunOutputClipped(t *testing.T) {
	tmp, keep := t.TempDir(), filepath.Join(t.TempDir(), "logs", "step.log")
	var shown []string
	o := newRunOutput(func(s string) { shown = append(shown, s) }, tmp, keep)
	o.max = 11 // lines count with their newline
	out, errOut := o.stream(2), o.stream(2)
	var all strings.Builder
	for i, line := range []string{"12345", "1234", "x", "y", "z"} {
		w := out
		if i == 1 {
			w = errOut
		}
		fmt.Fprintf(w, "%s\n", line)
		fmt.Fprintf(&all, "%s\n", line)
	}
	want := "12345|1234|[output clipped: the log limit of 0 MiB or 65536 lines is reached; the full log is kept in " + keep + "]"
	if got := strings.Join(shown, "|"); got != want {
		t.Errorf("shown = %q, want %q", got, want)
	}
	if got := strings.Join(out.Tail(), "|"); got != "y|z" {
		t.Errorf("stdout tail = %q, want y|z", got)
	}
	if got := o.Finish(); got != keep {
		t.Errorf("Finish = %q, want %q", got, keep)
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != all.String() {
		t.Errorf("kept log = %q, %v, want %q", data, err, all.String())
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("%d files left in tmp", len(entries))
	}

	// Not clipped: nothing is kept.
	o = newRunOutput(func(string) {}, tmp, keep+"2")
	fmt.Fprintln(o.stream(1), "short")
	if got := o.Finish(); got != "" {
		t.Errorf("Finish of a short output = %q, want nothing kept", got)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("%d files left in tmp", len(entries))
	}
}

func TestPruneLogs(t *testing.T) {
	dir := t.TempDir()
	for i := range maxKeptLogs + 5 {
		p := filepath.Join(dir, fmt.Sprint(i, ".log"))
		os.WriteFile(p, nil, 0o644)
		mt := time.Unix(int64(1000+i), 0)
		os.Chtimes(p, mt, mt)
	}
	pruneLogs(dir, filepath.Join(dir, "0.log"))
	entries, _ := os.ReadDir(dir)
	if len(entries) != maxKeptLogs+1 {
		t.Errorf("%d logs left, want the newest %d and the one just kept", len(entries), maxKeptLogs)
	}
	for _, gone := range []string{"1.log", "4.log"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s is kept, want it pruned", gone)
		}
	}
}

func TestRunOutputLineLimit(t *testing.T) {
	shown := 0
	o := newRunOutput(func(string) { shown++ }, t.TempDir(), filepath.Join(t.TempDir(), "l.log"))
	defer o.Finish()
	w := o.stream(1)
	w.Write([]byte(strings.Repeat("y\n", maxStepLines+10)))
	if shown != maxStepLines+1 {
		t.Errorf("%d lines shown, want %d and the note", shown, maxStepLines)
	}
}
