package marketplace

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// OpReport is the outcome of one operation over a workload run.
type OpReport struct {
	Op       string
	OK       int64 // succeeded
	Rejected int64 // answered no (out of stock, empty cart, …)
	Errors   int64 // failed
	// Throughput is (OK + Rejected) per second of the run.
	Throughput float64
	// Latency quantiles of OK and rejected operations (within ~3%).
	P50, P95, P99, Max time.Duration
	// FirstError is the first failure's message, if any.
	FirstError string
}

// Report is the outcome of a workload run.
type Report struct {
	Elapsed time.Duration
	Clients int
	Ops     []OpReport // in the order of the mix; operations never run are left out
	Total   OpReport
	// Retries counts transactions retried after deadlocks or serialization
	// failures.
	Retries int64
}

func buildReport(clients []*client, mix []OpWeight, elapsed time.Duration) *Report {
	rep := &Report{Elapsed: elapsed, Clients: len(clients)}
	var all histogram
	one := func(name string, h *histogram, ok, rej, errs int64, first string) OpReport {
		r := OpReport{Op: name, OK: ok, Rejected: rej, Errors: errs, FirstError: first,
			P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}
		if elapsed > 0 {
			r.Throughput = float64(ok+rej) / elapsed.Seconds()
		}
		return r
	}
	var tok, trej, terr int64
	var tfirst string
	seen := map[string]bool{}
	for _, m := range mix {
		if seen[m.Op] {
			continue
		}
		seen[m.Op] = true
		var h histogram
		var ok, rej, errs int64
		var first string
		for _, c := range clients {
			st := c.stats[m.Op]
			if st == nil {
				continue
			}
			h.merge(&st.hist)
			ok, rej, errs = ok+st.ok, rej+st.rejected, errs+st.errors
			if first == "" {
				first = st.firstErr
			}
		}
		if ok+rej+errs == 0 {
			continue
		}
		all.merge(&h)
		tok, trej, terr = tok+ok, trej+rej, terr+errs
		if tfirst == "" {
			tfirst = first
		}
		rep.Ops = append(rep.Ops, one(m.Op, &h, ok, rej, errs, first))
	}
	rep.Total = one("total", &all, tok, trej, terr, tfirst)
	return rep
}

// WriteTable writes the report as an aligned table:
//
//	operation   ok  rejected  errors  ops/s  p50 ms  p95 ms  p99 ms  max ms
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	width := len("operation")
	for _, o := range r.Ops {
		width = max(width, len(o.Op))
	}
	fmt.Fprintf(tw, "%-*s\tok\trejected\terrors\tops/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t\n", width, "operation")
	row := func(o OpReport) {
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t\n", width, o.Op, o.OK, o.Rejected, o.Errors, o.Throughput,
			ms(o.P50), ms(o.P95), ms(o.P99), ms(o.Max))
	}
	for _, o := range r.Ops {
		row(o)
	}
	row(r.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d clients, %.1fs, %d transaction retries\n", r.Clients, r.Elapsed.Seconds(), r.Retries)
	for _, o := range r.Ops {
		if o.FirstError != "" {
			fmt.Fprintf(w, "first error of %s: %s\n", o.Op, o.FirstError)
		}
	}
	return nil
}
