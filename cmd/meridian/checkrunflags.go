package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/workload"
	"github.com/meridiandb/meridian/cmd/meridian/checkrun"
)

// runFlags are the flags of `meridian check` that run a workload first.
type runFlags struct {
	nodes, regions, concurrency int
	duration                    time.Duration
	nemesis, hosts, historyOut  string
	seed                        uint64
	epsilon, regionDelay        time.Duration
	noCommitWait                bool
}

func (r *runFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&r.nodes, "nodes", 0, "run the workload on an in-process cluster of this many nodes")
	f.IntVar(&r.regions, "regions", 1, "with --nodes: regions the nodes are spread over")
	f.DurationVar(&r.duration, "duration", 30*time.Second, "how long the workload runs")
	f.IntVar(&r.concurrency, "concurrency", 0, "concurrent clients (default 20 with --nodes, 6 with --host)")
	f.StringVar(&r.nemesis, "nemesis", "", "with --nodes: faults to inject, from kill,partition,skew,lease-transfer")
	f.Uint64Var(&r.seed, "seed", 1, "seed of the transactions, delays and faults")
	f.StringVar(&r.historyOut, "history-out", "", "also write the recorded history to this file")
	f.DurationVar(&r.epsilon, "epsilon", 2*time.Millisecond, "with --nodes: the clocks' claimed uncertainty (real offsets stay inside it); with --unsafe-no-commit-wait the default is 5× --region-delay")
	f.DurationVar(&r.regionDelay, "region-delay", 10*time.Millisecond, "with --nodes: one-way delay between regions")
	f.BoolVar(&r.noCommitWait, "unsafe-no-commit-wait", false, "with --nodes: disable commit wait, to show what it prevents (in-process clusters only)")
	f.StringVar(&r.hosts, "host", "", "run the SQL workload against these SQL addresses, H:P[,H:P…]")
}

// record runs the workload and returns its history.
func (r *runFlags) record(cmd *cobra.Command, kindName string) (*history.History, string, error) {
	kind, err := parseKind(kindName)
	if err != nil {
		return nil, "", withExitCode(checkExitUnusable, err)
	}
	if r.nodes > 0 && r.hosts != "" {
		return nil, "", withExitCode(checkExitUnusable, errors.New("--nodes and --host exclude each other"))
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var buf bytes.Buffer
	var st checkrun.Stats
	name := "in-process run"
	if r.nodes > 0 {
		var nemesis []string
		if r.nemesis != "" {
			nemesis = strings.Split(r.nemesis, ",")
		}
		if r.noCommitWait && !cmd.Flags().Changed("epsilon") {
			// Skew smaller than the replication round trip is hidden by it,
			// commit wait or not: let the clocks be off by more.
			r.epsilon = max(r.epsilon, 5*r.regionDelay)
			fmt.Fprintf(cmd.ErrOrStderr(), "--unsafe-no-commit-wait: clocks claim ε = %v (5× --region-delay), offsets inside it; give --epsilon to change it\n", r.epsilon)
		}
		st, err = checkrun.Run(ctx, checkrun.Options{
			Kind: kind, Nodes: r.nodes, Regions: r.regions, Duration: r.duration, Concurrency: r.concurrency,
			Nemesis: nemesis, Seed: r.seed, Epsilon: r.epsilon, RegionDelay: r.regionDelay,
			UnsafeNoCommitWait: r.noCommitWait, History: &buf, Log: cmd.ErrOrStderr(),
		})
	} else {
		name = "run against " + r.hosts
		st, err = checkrun.RunSQL(ctx, checkrun.SQLOptions{Kind: kind, Hosts: strings.Split(r.hosts, ","), Duration: r.duration,
			Concurrency: r.concurrency, Seed: r.seed, History: &buf})
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d committed, %d failed, %d unknown\n", name, st.OK, st.Fail, st.Info)
	if len(st.Reasons) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "  why not committed: %s\n", st.TopReasons(5))
	}
	if r.historyOut != "" {
		if err := os.WriteFile(r.historyOut, buf.Bytes(), 0o644); err != nil {
			return nil, "", err
		}
	}
	h, err := history.Parse(&buf)
	if err != nil {
		return nil, "", withExitCode(checkExitUnusable, fmt.Errorf("the recorded history: %w", err))
	}
	return h, name, nil
}

func parseKind(s string) (workload.Kind, error) {
	switch s {
	case "list-append":
		return workload.ListAppend, nil
	case "rw-register", "register":
		return workload.Register, nil
	case "bank":
		return workload.Bank, nil
	}
	return 0, fmt.Errorf("--workload %q: running needs list-append, rw-register or bank", s)
}
