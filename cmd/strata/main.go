// Command strata builds container images from Dockerfiles without a daemon
// and lints Dockerfiles.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError marks errors in how strata was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// memoryLimit is the Go heap size at which strata's garbage collector
// works harder (runtime/debug.SetMemoryLimit): without it the heap may
// grow to twice what is live before a collection, and a build's index of a
// 100,000-file context would alone take strata past 100 MB. A soft limit:
// a build that needs more still gets it. GOMEMLIMIT overrides it.
const memoryLimit = 80 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal cancels the build, which stops RUN steps and
		// cleans up; a second one kills strata at once.
		<-ctx.Done()
		stop()
	}()
	root := newRootCommand()
	stopProfile := startProfile()
	err := root.ExecuteContext(ctx)
	stopProfile()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Build container images from Dockerfiles, without a daemon",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newBuildCommand(), newLintCommand(), newPruneCommand(), newCacheCommand(), newVersionCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print strata's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "strata %s\n", version)
		},
	}
}
