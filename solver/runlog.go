package solver

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// A RUN step's output is streamed, never held whole: every byte goes to a
// log file, lines go to the progress sink until maxStepLog bytes or
// maxStepLines lines of them were shown, and each stream keeps its last bytes for the error message.
// Once the progress output is clipped, the log file is kept, under logs/
// in the cache directory, and its path is named in the progress output and
// in the step's error. strata prune evicts kept logs like other entries,
// and a build keeps at most maxKeptLogs of them.

const (
	// maxStepLog is how much of a step's output is shown, as in BuildKit,
	// which clips a step's log at 2 MiB; maxStepLines bounds the lines
	// shown, each of which the progress output prefixes.
	maxStepLog   = 2 << 20
	maxStepLines = 1 << 16
	// maxLine is the longest line shown: a longer run of bytes without a
	// newline is shown in pieces of this size.
	maxLine = 64 << 10
	// tailBytes is how much of the end of each stream is kept for the
	// error message, and maxTailLine the longest line of it shown there.
	tailBytes   = 16 << 10
	maxTailLine = 1 << 10
	// maxKeptLogs bounds the logs/ folder of the cache directory.
	maxKeptLogs = 20
)

// runOutput is where one RUN step's stdout and stderr go.
type runOutput struct {
	mu      sync.Mutex
	emit    func(string)
	max     int // bytes of lines to show before clipping
	shown   int
	lines   int
	clipped bool
	log     *os.File // the full output, in tmp/ until kept
	logErr  error    // the first error writing it: the log is incomplete
	keep    string   // where the log goes if the output is clipped
}

// newRunOutput starts a log file in tmpDir, to be kept at keep if the
// output shown is clipped. Without a log file (it could not be made) the
// output is still shown and clipped.
func newRunOutput(emit func(string), tmpDir, keep string) *runOutput {
	o := &runOutput{emit: emit, max: maxStepLog, keep: keep}
	o.log, o.logErr = os.CreateTemp(tmpDir, "run-*.log")
	return o
}

// stream returns a writer for one of the step's streams, keeping its last
// n lines for Tail.
func (o *runOutput) stream(n int) *tailWriter {
	return &tailWriter{o: o, n: n}
}

// show reports a line, unless the limit is reached; the first line over
// it is replaced by a note saying where the full log is.
func (o *runOutput) show(line string) {
	if o.clipped {
		return
	}
	o.lines++
	if o.shown += len(line) + 1; o.shown <= o.max && o.lines <= maxStepLines {
		o.emit(line)
		return
	}
	o.clipped = true
	note := fmt.Sprintf("[output clipped: the log limit of %d MiB or %d lines is reached", o.max>>20, maxStepLines)
	if o.logErr == nil {
		note += "; the full log is kept in " + o.keep
	}
	o.emit(note + "]")
}

// writeLog appends p to the log file; the first error ends the log.
func (o *runOutput) writeLog(p []byte) {
	if o.logErr != nil {
		return
	}
	if _, err := o.log.Write(p); err != nil {
		o.logErr = err
	}
}

// Finish closes the log and, if the output was clipped, keeps it, and
// returns its path ("" when not kept). The oldest kept logs beyond
// maxKeptLogs are removed.
func (o *runOutput) Finish() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log == nil {
		return ""
	}
	name := o.log.Name()
	o.log.Close()
	o.log = nil
	if !o.clipped || o.logErr != nil {
		os.Remove(name)
		return ""
	}
	dir := filepath.Dir(o.keep)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		os.Remove(name)
		return ""
	}
	if err := os.Rename(name, o.keep); err != nil {
		os.Remove(name)
		return ""
	}
	pruneLogs(dir, o.keep)
	return o.keep
}

// pruneLogs removes the oldest logs in dir beyond maxKeptLogs, never keep.
func pruneLogs(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= maxKeptLogs {
		return
	}
	type logFile struct {
		path string
		mod  int64
	}
	var logs []logFile
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			logs = append(logs, logFile{filepath.Join(dir, e.Name()), info.ModTime().UnixNano()})
		}
	}
	slices.SortFunc(logs, func(a, b logFile) int { return cmp.Compare(b.mod, a.mod) })
	for i, l := range logs {
		if i >= maxKeptLogs && l.path != keep {
			os.Remove(l.path)
		}
	}
}

// tailWriter is one stream of a step: it logs what is written, reports
// it line by line until the output is clipped, and keeps its end.
type tailWriter struct {
	o       *runOutput
	n       int
	buf     []byte // the line being written
	tail    []byte // the last bytes written, at most 2*tailBytes
	trimmed bool   // tail lost its start
}

func (w *tailWriter) Write(p []byte) (int, error) {
	o := w.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLog(p)
	w.keepTail(p)
	if o.clipped {
		return len(p), nil // nothing more is shown: no need for lines
	}
	w.buf = append(w.buf, p...)
	for !o.clipped {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		o.show(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	// Bound memory for output without newlines.
	for len(w.buf) >= maxLine && !o.clipped {
		o.show(string(w.buf[:maxLine]))
		w.buf = w.buf[maxLine:]
	}
	if o.clipped {
		w.buf = nil
	} else if len(w.buf) == 0 {
		w.buf = w.buf[:0:0] // let a big chunk's array go
	}
	return len(p), nil
}

func (w *tailWriter) keepTail(p []byte) {
	if len(p) >= tailBytes {
		w.tail = append(w.tail[:0], p[len(p)-tailBytes:]...)
		w.trimmed = true
		return
	}
	w.tail = append(w.tail, p...)
	if len(w.tail) > 2*tailBytes {
		n := copy(w.tail, w.tail[len(w.tail)-tailBytes:])
		w.tail = w.tail[:n]
		w.trimmed = true
	}
}

// Flush reports a final line without a newline.
func (w *tailWriter) Flush() {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if len(w.buf) > 0 {
		w.o.show(strings.TrimRight(string(w.buf), "\r"))
		w.buf = w.buf[:0]
	}
}

// Tail returns the last lines written, each cut to maxTailLine bytes.
func (w *tailWriter) Tail() []string {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	data := w.tail
	if w.trimmed {
		// The first line is likely a part: drop it, unless it is all
		// there is.
		if i := bytes.IndexByte(data, '\n'); i >= 0 && i < len(data)-1 {
			data = data[i+1:]
		}
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) > w.n {
		lines = lines[len(lines)-w.n:]
	}
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		if len(l) > maxTailLine {
			l = fmt.Sprintf("%s... [%d bytes clipped]", l[:maxTailLine], len(l)-maxTailLine)
		}
		lines[i] = l
	}
	return lines
}
