package main

import (
	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/cmd/meridian/shell"
)

// newSQLCmd is `meridian sql`, the SQL shell (package shell).
func newSQLCmd() *cobra.Command { return shell.NewCommand() }
