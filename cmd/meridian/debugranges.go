package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/server"
)

func newDebugRangesCmd() *cobra.Command {
	var host string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ranges --host H:P [--json]",
		Short: "List the cluster's ranges: span, replicas, leaseholder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dialNode(host)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			resp := &rangespb.RangesResponse{}
			if err := c.call(ctx, server.MethodRanges, nil, resp); err != nil {
				return err
			}
			rs := server.RangesJSON(resp.Ranges)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RANGE\tSTART\tEND\tREPLICAS\tLEASEHOLDER\tBYTES")
			for _, r := range rs {
				var reps []string
				for _, rd := range r.Replicas {
					s := fmt.Sprintf("n%d", rd.NodeID)
					if rd.Learner {
						s += "(learner)"
					}
					reps = append(reps, s)
				}
				fmt.Fprintf(tw, "r%d\t%s\t%s\t%s\tn%d\t%d\n", r.RangeID, r.StartKey, r.EndKey, strings.Join(reps, ","), r.Leaseholder, r.ApproxBytes)
			}
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "(%d ranges)\n", len(rs))
			return nil
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "a node, HOST:PORT")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDebugPlacementCmd() *cobra.Command {
	placement := &cobra.Command{Use: "placement", Short: "Placement rules (until SQL's placement DDL exists)"}
	var (
		host         string
		replicas     int
		regions      string
		leaderRegion string
	)
	set := &cobra.Command{
		Use:   "set START END [--replicas N] [--regions R1,R2,…] [--leader-region R]",
		Short: "Place the ranges of [START, END)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if replicas < 0 {
				return fmt.Errorf("--replicas must be positive")
			}
			pol := &rangespb.PlacementPolicy{NumReplicas: int32(replicas), LeaderRegion: leaderRegion}
			if regions != "" {
				for _, r := range strings.Split(regions, ",") {
					pol.Regions = append(pol.Regions, strings.TrimSpace(r))
				}
			}
			c, err := dialNode(host)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			rule := &rangespb.PlacementRule{StartKey: []byte(args[0]), EndKey: []byte(args[1]), Policy: pol}
			if err := c.call(ctx, server.MethodSetPlacement, &rangespb.SetPlacementRequest{Rule: rule}, &rangespb.SetPlacementResponse{}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "OK")
			return nil
		},
	}
	set.Flags().StringVar(&host, "host", "", "a node, HOST:PORT")
	set.Flags().IntVar(&replicas, "replicas", 0, "voters (default 3)")
	set.Flags().StringVar(&regions, "regions", "", "regions that must each hold a voter")
	set.Flags().StringVar(&leaderRegion, "leader-region", "", "region where leases go")
	placement.AddCommand(set)
	return placement
}
