package solver

import "time"

// EventKind says what an Event reports.
type EventKind int

const (
	// StepStart: a step begins executing (not reported for cache hits).
	StepStart EventKind = iota
	// StepCached: a step's result came from the cache.
	StepCached
	// StepDone: a step finished executing; Duration is set.
	StepDone
	// StepLog: a line of a RUN step's output; Line is set.
	StepLog
	// Note: something the user should know that is not a step, such as
	// a cache that could not be imported; Line is set, Stage may be empty.
	Note
	// StepPlanned: in a dry run, a step that would run; Miss says why.
	StepPlanned
)

// Event is a progress report. The solver never prints; a caller that
// wants progress passes Options.Progress.
type Event struct {
	Kind     EventKind
	Stage    string // stage display name
	Step     int    // 1-based step number within the stage
	Total    int    // number of steps in the stage
	Name     string // the instruction, e.g. "RUN make"
	Line     string // StepLog: one line of output
	Duration time.Duration
	// Miss is, for the StepStart, StepDone and StepPlanned events of a
	// step that the cache decides (not FROM), why it was not found in the
	// cache.
	Miss *CacheMiss
}
