// Command meridian is the single Meridian binary: it starts nodes, opens the
// SQL shell, runs workloads and simulations, checks histories, and offers
// debugging tools. Each subcommand lives in its own file.
package main

import (
	"fmt"
	"os"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "meridian:", err)
		os.Exit(exitCode(err))
	}
}
