package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/stratabuild/strata/solver"
)

// plainProgress renders build events as lines, like buildx --progress=plain.
type plainProgress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *plainProgress) event(e solver.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	step := fmt.Sprintf("[%s %d/%d]", e.Stage, e.Step, e.Total)
	switch e.Kind {
	case solver.StepStart:
		fmt.Fprintf(p.w, "%s %s\n", step, e.Name)
	case solver.StepCached:
		fmt.Fprintf(p.w, "%s %s: CACHED\n", step, e.Name)
	case solver.StepDone:
		fmt.Fprintf(p.w, "%s DONE %.1fs\n", step, e.Duration.Seconds())
	case solver.StepLog:
		fmt.Fprintf(p.w, "%s | %s\n", step, e.Line)
	case solver.Note:
		fmt.Fprintf(p.w, "%s\n", e.Line)
	}
}

func (p *plainProgress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
