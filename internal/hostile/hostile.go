// Package hostile records the outcome of tests that feed strata hostile
// input (paths that try to leave the build, archives and outputs that try to
// exhaust it, secrets that must not leak), so that `make test` can print
// one line about all of them. It imports nothing of strata.
package hostile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// EnvVar names the file Record appends to. Unset, Record does nothing.
const EnvVar = "STRATA_HOSTILE_LOG"

// Case is the outcome of one hostile input.
type Case struct {
	Name string `json:"name"`
	// WroteOutside: something was written outside the build's own
	// directories (its cache, outputs and temporary directories).
	WroteOutside bool `json:"wroteOutside"`
	// LeakedSecret: a secret's value was found in something strata wrote.
	LeakedSecret bool `json:"leakedSecret"`
}

// Record appends c, as one line of JSON, to the file named by EnvVar.
// Each line is written with one write on a file opened O_APPEND, so test
// binaries running at once do not interleave their lines.
func Record(c Case) error {
	name := os.Getenv(EnvVar)
	if name == "" {
		return nil
	}
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("recording hostile case %q: %w", c.Name, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("recording hostile case %q: %w", c.Name, err)
	}
	return f.Close()
}

// Summary counts recorded cases.
type Summary struct {
	Cases, WroteOutside, LeakedSecret int
	// Failed names the cases that wrote outside or leaked.
	Failed []string
}

// Read counts the cases recorded in r.
func Read(r io.Reader) (Summary, error) {
	var s Summary
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		var c Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return s, fmt.Errorf("line %d: %w", n, err)
		}
		s.Cases++
		if c.WroteOutside {
			s.WroteOutside++
		}
		if c.LeakedSecret {
			s.LeakedSecret++
		}
		if c.WroteOutside || c.LeakedSecret {
			s.Failed = append(s.Failed, c.Name)
		}
	}
	return s, sc.Err()
}

// String is the line `make test` prints.
func (s Summary) String() string {
	return fmt.Sprintf("hostile inputs: %d cases ran; %d wrote outside the build root; %d leaked a secret",
		s.Cases, s.WroteOutside, s.LeakedSecret)
}
