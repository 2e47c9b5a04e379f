package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/replication/raftbench"
)

func newDebugRaftbenchCmd() *cobra.Command {
	var o raftbench.Options
	var keep bool
	cmd := &cobra.Command{
		Use:   "raftbench --dir DIR",
		Short: "Measure replicated writes: in-process nodes over gRPC on 127.0.0.1, on-disk stores with fsync",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				return fmt.Errorf("--dir is required (the stores are written there)")
			}
			if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
				return fmt.Errorf("--dir %s is not empty; give an empty or new directory", o.Dir)
			}
			if !keep {
				defer os.RemoveAll(o.Dir)
			}
			o.Progress = cmd.ErrOrStderr()
			res, err := raftbench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "directory for the nodes' stores (must be empty)")
	f.IntVar(&o.Nodes, "nodes", 3, "nodes, each holding a replica of every range")
	f.IntVar(&o.Ranges, "ranges", 1, "ranges written to")
	f.IntVar(&o.Writers, "writers", 1, "concurrent writers")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "measured duration (after a 1s warmup)")
	f.IntVar(&o.ValueSize, "value-size", 100, "value size in bytes")
	f.BoolVar(&keep, "keep", false, "keep the stores after the run")
	return cmd
}
