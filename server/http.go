package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (n *Node) httpAddr() string {
	if n.httpLis != nil {
		return n.httpLis.Addr().String()
	}
	return n.cfg.HTTPAddr
}

// HTTPAddr returns the address of the HTTP endpoints ("" if none).
func (n *Node) HTTPAddr() string { return n.httpAddr() }

// startHTTP serves /healthz, /metrics, /debug/ranges, /debug/clock and
// Go's profiles under /debug/pprof/.
func (n *Node) startHTTP() error {
	if n.cfg.HTTPAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP on %s: %w", n.cfg.HTTPAddr, err)
	}
	n.httpLis = lis
	n.gossip.SetNode(n.descriptor())
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(n))
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := n.store.Failed(); err != nil {
			http.Error(w, "store failed: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if n.Draining() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/ranges", func(w http.ResponseWriter, r *http.Request) {
		rs, err := n.Ranges(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, RangesJSON(rs))
	})
	mux.HandleFunc("/debug/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, n.cfg.Clock.Status())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	n.httpServer = &http.Server{Handler: mux}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.httpServer.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logger.Error("HTTP server", "err", err)
		}
	}()
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// collector exports the node's metrics to Prometheus, read at scrape time.
type collector struct {
	n                                    *Node
	replicas, leases, quiesced, proposal *prometheus.Desc
	raftWrites, epsilon, live            *prometheus.Desc
	// the gateway's load control (txn/admission)
	admLimit, admActive, admWaiting, admAdmitted, admWaited *prometheus.Desc
	admWaitTime, admTimedOut, admRevoked                    *prometheus.Desc
}

func newCollector(n *Node) *collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc("meridian_"+name, help, nil, nil) }
	return &collector{
		n:          n,
		replicas:   d("replicas", "Replicas on this node."),
		leases:     d("leases", "Ranges whose lease this node serves."),
		quiesced:   d("quiesced_replicas", "Replicas not ticking because their range is idle."),
		proposal:   d("raft_proposals_total", "Raft proposals applied."),
		raftWrites: d("raft_log_writes_total", "Writes to the raft log."),
		epsilon:    d("clock_epsilon_seconds", "TrueTime uncertainty (half the interval width)."),
		live:       d("live_nodes", "Nodes this node believes live."),

		admLimit:    d("txn_admission_limit", "Read-write transactions the gateway's load control lets run at once (0: no limit)."),
		admActive:   d("txn_admission_active", "Load-control slots held."),
		admWaiting:  d("txn_admission_waiting", "Transactions waiting for a load-control slot."),
		admAdmitted: d("txn_admission_admitted_total", "Transactions that asked the load control for a slot."),
		admWaited:   d("txn_admission_waited_total", "Transactions that waited for a slot."),
		admWaitTime: d("txn_admission_wait_seconds_total", "Time transactions waited for a slot."),
		admTimedOut: d("txn_admission_timed_out_total", "Transactions admitted over the limit after the longest wait."),
		admRevoked:  d("txn_admission_revoked_total", "Slots taken back from idle transactions."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.replicas, c.leases, c.quiesced, c.proposal, c.raftWrites, c.epsilon, c.live,
		c.admLimit, c.admActive, c.admWaiting, c.admAdmitted, c.admWaited, c.admWaitTime, c.admTimedOut, c.admRevoked} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.n.store.Metrics()
	ch <- prometheus.MustNewConstMetric(c.replicas, prometheus.GaugeValue, float64(m.Replicas))
	ch <- prometheus.MustNewConstMetric(c.leases, prometheus.GaugeValue, float64(m.Leaseholders))
	ch <- prometheus.MustNewConstMetric(c.quiesced, prometheus.GaugeValue, float64(m.QuiescedRanges))
	ch <- prometheus.MustNewConstMetric(c.proposal, prometheus.CounterValue, float64(m.Proposals))
	ch <- prometheus.MustNewConstMetric(c.raftWrites, prometheus.CounterValue, float64(m.RaftWrites))
	ch <- prometheus.MustNewConstMetric(c.epsilon, prometheus.GaugeValue, c.n.cfg.Clock.Status().Epsilon.Seconds())
	live := 0
	for _, id := range c.n.gossip.NodeIDs() {
		if c.n.gossip.NodeLive(id) {
			live++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, float64(live))
	a := c.n.gateway.Admission()
	ch <- prometheus.MustNewConstMetric(c.admLimit, prometheus.GaugeValue, float64(a.Limit))
	ch <- prometheus.MustNewConstMetric(c.admActive, prometheus.GaugeValue, float64(a.Active))
	ch <- prometheus.MustNewConstMetric(c.admWaiting, prometheus.GaugeValue, float64(a.Waiting))
	ch <- prometheus.MustNewConstMetric(c.admAdmitted, prometheus.CounterValue, float64(a.Admitted))
	ch <- prometheus.MustNewConstMetric(c.admWaited, prometheus.CounterValue, float64(a.Waited))
	ch <- prometheus.MustNewConstMetric(c.admWaitTime, prometheus.CounterValue, a.WaitTime.Seconds())
	ch <- prometheus.MustNewConstMetric(c.admTimedOut, prometheus.CounterValue, float64(a.TimedOut))
	ch <- prometheus.MustNewConstMetric(c.admRevoked, prometheus.CounterValue, float64(a.Revoked))
}
