package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/checker"
	"github.com/meridiandb/meridian/checker/history"
)

// Exit codes of `meridian check`.
const (
	checkExitAnomalies = 1 // the history has anomalies
	checkExitUnusable  = 2 // the input could not be read or interpreted
)

func newCheckCmd() *cobra.Command {
	var (
		path, htmlOut, workload string
		asJSON                  bool
		shown                   int
		bankTotal               int64
		linTimeout              time.Duration
		run                     runFlags
	)
	cmd := &cobra.Command{
		Use:   "check --history FILE",
		Short: "Check a recorded history for strict serializability",
		Long: `Check a history (JSON Lines: invoke/ok/fail/info events of list-append,
rw-register or bank transactions) for strict serializability and report the
anomalies found: dependency cycles (G0, G1c, G-single, G2-item, G2 and their
-process/-realtime variants), aborted and intermediate reads, garbage reads,
duplicate elements, incompatible orders, internal inconsistency, commit
timestamps that contradict real time or the reads, per-key register
linearizability and the bank invariant.

With --nodes N, it first runs the --workload through the transaction API on
an in-process cluster (simulated regions, clocks and --nemesis faults) and
checks the history it recorded; with --host H:P[,H:P…], it runs the SQL
workload against a running cluster.

Exit status: 0 valid, 1 anomalies found, 2 unusable input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := checker.ParseWorkload(workload)
			if err != nil {
				return withExitCode(checkExitUnusable, err)
			}
			var h *history.History
			switch {
			case run.nodes > 0 || run.hosts != "":
				if h, path, err = run.record(cmd, workload); err != nil {
					return err
				}
			case path == "":
				return withExitCode(checkExitUnusable, errors.New("--history FILE is required (or --nodes N to run a workload in process, or --host H:P to run one against a cluster)"))
			default:
				if h, err = readHistory(cmd, path); err != nil {
					return withExitCode(checkExitUnusable, err)
				}
			}
			res, err := checker.Check(h, checker.Options{
				Workload: w, BankTotal: bankTotal, LinearizabilityTimeout: linTimeout,
			})
			if err != nil {
				return withExitCode(checkExitUnusable, fmt.Errorf("%s: %w", path, err))
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = res.WriteJSON(out)
			} else {
				err = res.WriteText(out, shown)
			}
			if err != nil {
				return err
			}
			if htmlOut != "" {
				if err := writeHTML(res, htmlOut); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "meridian: --html: %v\n", err)
				} else if !asJSON {
					fmt.Fprintf(out, "\nwrote %s\n", htmlOut)
				}
			}
			if !res.Valid {
				return withExitCode(checkExitAnomalies, fmt.Errorf("%s: anomalies found", path))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "history", "", "history file (JSON Lines); - reads standard input")
	f.BoolVar(&asJSON, "json", false, "write the report as JSON")
	f.StringVar(&htmlOut, "html", "", "write porcupine's linearizability visualization (register and bank histories) to this file")
	f.StringVar(&workload, "workload", "auto", "auto, list-append, rw-register or bank")
	f.IntVar(&shown, "show", 5, "anomalies shown per type in the text report (0: all kept)")
	f.Int64Var(&bankTotal, "bank-total", 0, "expected total balance of a bank history (0: infer from its setup)")
	f.DurationVar(&linTimeout, "linearizability-timeout", 10*time.Second, "bound on porcupine's search per key (negative: skip)")
	run.register(cmd)
	return cmd
}

// readHistory parses the history at path, prefixing errors with the path so
// that a malformed line reads "FILE: line N: ...".
func readHistory(cmd *cobra.Command, path string) (*history.History, error) {
	var r io.Reader
	if path == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	h, err := history.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func writeHTML(res *checker.Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteHTML(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
