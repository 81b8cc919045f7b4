package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/stratabuild/strata/solver"
)

// renderer shows build progress on stderr.
type renderer interface {
	event(solver.Event)
	printf(format string, args ...any)
}

// plainProgress renders build events as lines, like buildx --progress=plain.
// With explain, a step that runs says why the cache did not have it.
type plainProgress struct {
	mu      sync.Mutex
	w       io.Writer
	explain bool
}

func (p *plainProgress) event(e solver.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	step := fmt.Sprintf("[%s %d/%d]", e.Stage, e.Step, e.Total)
	switch e.Kind {
	case solver.StepStart:
		if p.explain && e.Miss != nil {
			fmt.Fprintf(p.w, "%s %s: miss: %s\n", step, e.Name, shortDigests(e.Miss.Text))
			return
		}
		fmt.Fprintf(p.w, "%s %s\n", step, e.Name)
	case solver.StepCached:
		fmt.Fprintf(p.w, "%s %s: CACHED\n", step, e.Name)
	case solver.StepDone:
		fmt.Fprintf(p.w, "%s DONE %.1fs\n", step, e.Duration.Seconds())
	case solver.StepLog:
		fmt.Fprintf(p.w, "%s | %s\n", step, e.Line)
	case solver.Note:
		fmt.Fprintf(p.w, "%s\n", e.Line)
	case solver.StepPlanned:
		fmt.Fprintf(p.w, "%s %s: would run: %s\n", step, e.Name, shortDigests(e.Miss.String()))
	}
}

func (p *plainProgress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

var longDigest = regexp.MustCompile(`(sha256:[0-9a-f]{12})[0-9a-f]{52}`)

// shortDigests cuts the digests in a line to 12 hex digits, as docker
// shows image IDs.
func shortDigests(s string) string { return longDigest.ReplaceAllString(s, "$1…") }

// jsonProgress renders each event as one JSON object on a line
// (--progress=rawjson). See jsonEvent for the fields.
type jsonProgress struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newJSONProgress(w io.Writer) *jsonProgress {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonProgress{enc: enc}
}

// jsonEvent is a line of --progress=rawjson.
type jsonEvent struct {
	// Kind is "start" (a step begins running), "cached" (it came from
	// the cache), "done" (it finished running), "log" (a line of its
	// output), "planned" (--plan: it would run) or "message" (a note or
	// warning, in Message).
	Kind  string `json:"kind"`
	Stage string `json:"stage,omitempty"`
	Step  int    `json:"step,omitempty"`
	Total int    `json:"total,omitempty"`
	Name  string `json:"name,omitempty"`
	// Cached is set on the events of steps the cache decides (every
	// step but FROM, whose start and done have no Cached).
	Cached *bool `json:"cached,omitempty"`
	// Reason is, on start and planned, why the cache missed.
	Reason   *solver.CacheMiss `json:"reason,omitempty"`
	Line     string            `json:"line,omitempty"`
	Duration *float64          `json:"duration,omitempty"` // seconds, on done
	Message  string            `json:"message,omitempty"`
}

func (p *jsonProgress) event(e solver.Event) {
	j := jsonEvent{Stage: e.Stage, Step: e.Step, Total: e.Total, Name: e.Name}
	yes, no := true, false
	if e.Miss != nil {
		j.Cached = &no
	}
	switch e.Kind {
	case solver.StepStart:
		j.Kind, j.Reason = "start", e.Miss
	case solver.StepCached:
		j.Kind, j.Cached = "cached", &yes
	case solver.StepDone:
		d := e.Duration.Seconds()
		j.Kind, j.Duration = "done", &d
	case solver.StepLog:
		j.Kind, j.Line, j.Cached = "log", e.Line, nil
	case solver.StepPlanned:
		j.Kind, j.Reason = "planned", e.Miss
	case solver.Note:
		j = jsonEvent{Kind: "message", Stage: e.Stage, Message: e.Line}
	default:
		return
	}
	p.write(j)
}

func (p *jsonProgress) printf(format string, args ...any) {
	p.write(jsonEvent{Kind: "message", Message: strings.TrimRight(fmt.Sprintf(format, args...), "\n")})
}

func (p *jsonProgress) write(j jsonEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.enc.Encode(j)
}
