package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/truetime"
)

// newDebugClockCmd returns `meridian debug clock`: one TrueTime reading from
// NTP servers or from the local clock with a stated bound.
func newDebugClockCmd() *cobra.Command {
	var (
		ntpServers string
		localEps   time.Duration
		asJSON     bool
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "clock",
		Short: "Show the TrueTime interval from NTP servers or the local clock",
		Long: `Takes one TrueTime reading and prints the interval [earliest, latest], its
uncertainty ε, the offset of the system clock, the source and the time since
the last sync. With --ntp, every server is queried once and the answers are
combined as the NTP source of a node would (liars dropped); with
--local-epsilon, the system clock is read with the given bound.`,
		Example: `  meridian debug clock --ntp 127.0.0.1:11123
  meridian debug clock --ntp ntp1:123,ntp2:123,ntp3:123 --json
  meridian debug clock --local-epsilon 1ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			useNTP, useLocal := cmd.Flags().Changed("ntp"), cmd.Flags().Changed("local-epsilon")
			var clk truetime.Clock
			switch {
			case useNTP && useLocal:
				return errors.New("--ntp and --local-epsilon are mutually exclusive: pick one clock source")
			case useNTP:
				servers, err := parseServers(ntpServers)
				if err != nil {
					return err
				}
				if timeout <= 0 {
					return fmt.Errorf("--timeout must be positive, got %s", timeout)
				}
				c, err := truetime.NewNTP(truetime.NTPOptions{Servers: servers, Timeout: timeout})
				if err != nil {
					return err
				}
				defer c.Close()
				clk = c
			case useLocal:
				if localEps <= 0 {
					return fmt.Errorf("--local-epsilon must be positive, got %s", localEps)
				}
				clk = truetime.NewLocal(truetime.LocalOptions{Epsilon: localEps})
			default:
				return errors.New("pick a clock source: --ntp HOST:PORT[,HOST:PORT…] or --local-epsilon DURATION")
			}
			st := clk.Status()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printClockStatus(cmd.OutOrStdout(), st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&ntpServers, "ntp", "", "NTP servers to query, HOST:PORT[,HOST:PORT…]")
	f.DurationVar(&localEps, "local-epsilon", 0, "use the system clock with this bound instead of NTP")
	f.BoolVar(&asJSON, "json", false, "print JSON: earliest_ns, latest_ns, epsilon_ns, offset_ns, since_sync_ns, source, unsafe, servers")
	f.DurationVar(&timeout, "timeout", 2*time.Second, "timeout of each NTP query")
	return cmd
}

// parseServers splits a comma-separated --ntp value; truetime.NewNTP checks
// each address.
func parseServers(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("--ntp %q: empty server address (want HOST:PORT[,HOST:PORT…])", s)
		}
		out = append(out, a)
	}
	return out, nil
}

func printClockStatus(w io.Writer, st truetime.Status) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	health := "ok"
	if st.Unsafe != "" {
		health = "UNSAFE: " + st.Unsafe
	}
	fmt.Fprintf(tw, "source\t%s\n", st.Source)
	fmt.Fprintf(tw, "earliest\t%s\n", st.Now.Earliest)
	fmt.Fprintf(tw, "latest\t%s\n", st.Now.Latest)
	fmt.Fprintf(tw, "epsilon\t%s\n", st.Epsilon)
	if st.Source == truetime.SourceNTP {
		fmt.Fprintf(tw, "offset\t%s (reference − system clock)\n", st.Offset)
		fmt.Fprintf(tw, "since sync\t%s\n", st.SinceSync)
	} else {
		fmt.Fprintf(tw, "offset\t%s\n", st.Offset)
		fmt.Fprintf(tw, "since sync\tn/a (no sync for a %s clock)\n", st.Source)
	}
	fmt.Fprintf(tw, "status\t%s\n", health)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Servers) == 0 {
		return nil
	}
	fmt.Fprintln(w, "servers:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range st.Servers {
		state := "ok"
		switch {
		case s.Liar:
			state = "LIAR: dropped"
		case s.Error != "":
			state = "error: " + s.Error
		}
		fmt.Fprintf(tw, "  %s\toffset %s\trtt %s\troot distance %s\tstratum %d\t%s\n",
			s.Address, s.Offset, s.RTT, s.RootDistance, s.Stratum, state)
	}
	return tw.Flush()
}
