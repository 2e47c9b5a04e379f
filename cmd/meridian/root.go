package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// exitError carries a specific process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so that main exits with code.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "meridian",
		Short:         "Meridian: a geo-distributed, externally consistent SQL database",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd())
	root.AddCommand(newDemoCmd(), newStartCmd(), newInitCmd(), newNodeCmd())
	root.AddCommand(newDebugCmd())
	root.AddCommand(newCheckCmd())
	root.AddCommand(newSQLCmd())
	root.AddCommand(newGeosimCmd())
	root.AddCommand(newWorkloadCmd())
	return root
}

// newDebugCmd groups operator and test tools.
func newDebugCmd() *cobra.Command {
	debug := &cobra.Command{
		Use:   "debug",
		Short: "Debugging tools for operators and tests",
	}
	for _, add := range debugCommands {
		debug.AddCommand(add())
	}
	return debug
}

// debugCommands lists the constructors of `meridian debug` subcommands.
var debugCommands = []func() *cobra.Command{newDebugClockCmd, newDebugRaftbenchCmd, newDebugKVCmd, newDebugRangesCmd, newDebugPlacementCmd}
