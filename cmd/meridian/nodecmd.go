package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/server"
)

// nodeJSON is a node in `meridian node status --json`.
type nodeJSON struct {
	NodeID          uint64 `json:"node_id"`
	Address         string `json:"address"`
	SQLAddress      string `json:"sql_address,omitempty"`
	HTTPAddress     string `json:"http_address,omitempty"`
	Locality        string `json:"locality"`
	Live            bool   `json:"live"`
	Draining        bool   `json:"draining"`
	Decommissioning bool   `json:"decommissioning"`
	Replicas        int32  `json:"replicas"`
	Leases          int32  `json:"leases"`
}

func locality(l *rangespb.Locality) string {
	if l == nil || l.Region == "" {
		return ""
	}
	s := "region=" + l.Region
	if l.Zone != "" {
		s += ",zone=" + l.Zone
	}
	return s
}

func newNodeCmd() *cobra.Command {
	node := &cobra.Command{Use: "node", Short: "Inspect and manage the cluster's nodes"}
	var host string
	var asJSON bool
	status := &cobra.Command{
		Use: "status --host H:P [--json]", Short: "Each node's id, address, locality, liveness, replica and lease counts", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dialNode(host)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			resp := &rangespb.NodesResponse{}
			if err := c.call(ctx, server.MethodNodes, nil, resp); err != nil {
				return err
			}
			var out []nodeJSON
			for _, n := range resp.Nodes {
				out = append(out, nodeJSON{
					NodeID: n.Desc.GetNodeId(), Address: n.Desc.GetAddress(), SQLAddress: n.Desc.GetSqlAddress(),
					HTTPAddress: n.Desc.GetHttpAddress(), Locality: locality(n.Desc.GetLocality()),
					Live: n.Live, Draining: n.Draining, Decommissioning: n.Decommissioning, Replicas: n.Replicas, Leases: n.Leases,
				})
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tADDRESS\tLOCALITY\tLIVE\tREPLICAS\tLEASES\tSTATE")
			for _, n := range out {
				state := ""
				switch {
				case n.Decommissioning:
					state = "decommissioning"
				case n.Draining:
					state = "draining"
				}
				fmt.Fprintf(tw, "n%d\t%s\t%s\t%v\t%d\t%d\t%s\n", n.NodeID, n.Address, n.Locality, n.Live, n.Replicas, n.Leases, state)
			}
			return tw.Flush()
		},
	}
	status.Flags().StringVar(&host, "host", "", "a node, HOST:PORT")
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var dhost string
	var wait bool
	var waitTimeout time.Duration
	decom := &cobra.Command{
		Use: "decommission --host H:P NODE_ID", Short: "Move every replica off a node", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("NODE_ID %q: want a positive node id", args[0])
			}
			c, err := dialNode(dhost)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd.Context(), waitTimeout)
			defer cancel()
			if err := c.call(ctx, server.MethodDecommission, &rangespb.DecommissionRequest{NodeId: id}, &rangespb.DecommissionResponse{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "n%d is decommissioning\n", id)
			if !wait {
				return nil
			}
			for {
				resp := &rangespb.RangesResponse{}
				if err := c.call(ctx, server.MethodRanges, nil, resp); err != nil {
					return err
				}
				left := 0
				for _, r := range resp.Ranges {
					for _, rd := range r.Desc.Replicas {
						if rd.NodeId == id {
							left++
						}
					}
				}
				if left == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "n%d holds no replicas\n", id)
					return nil
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "n%d still holds %d replicas\n", id, left)
				t := time.NewTimer(time.Second)
				select {
				case <-t.C:
				case <-ctx.Done():
					return fmt.Errorf("n%d still holds %d replicas after %v", id, left, waitTimeout)
				}
			}
		},
	}
	decom.Flags().StringVar(&dhost, "host", "", "a node, HOST:PORT")
	decom.Flags().BoolVar(&wait, "wait", true, "wait until the node holds no replicas")
	decom.Flags().DurationVar(&waitTimeout, "timeout", 5*time.Minute, "how long to wait")
	node.AddCommand(status, decom)
	return node
}
