// Command summary prints the line `make test` ends with about the hostile
// cases the tests recorded (package hostile) in the file FILE:
//
//	hostile inputs: 57 cases ran; 0 wrote outside the build root; 0 leaked a secret
//
// It exits 1 if a case wrote outside the build root or leaked a secret, or
// if no case ran while the environment variable CI is set (the tests that
// record them skip without root, runc or a registry).
package main

import (
	"fmt"
	"os"

	"github.com/stratabuild/strata/internal/hostile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: summary FILE")
		os.Exit(2)
	}
	var s hostile.Summary
	f, err := os.Open(os.Args[1])
	switch {
	case err == nil:
		s, err = hostile.Read(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "summary: %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
	case !os.IsNotExist(err): // no file: no case ran
		fmt.Fprintf(os.Stderr, "summary: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(s)
	for _, name := range s.Failed {
		fmt.Println("  failed:", name)
	}
	if s.WroteOutside > 0 || s.LeakedSecret > 0 {
		os.Exit(1)
	}
	if s.Cases == 0 && os.Getenv("CI") != "" {
		fmt.Fprintln(os.Stderr, "summary: no hostile case ran, and CI requires them")
		os.Exit(1)
	}
}
