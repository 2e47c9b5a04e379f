package checkrun

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/replication"
)

// nemesis injects the configured faults every few seconds until ctx ends,
// then heals everything and restarts stopped nodes.
func (r *run) nemesis(ctx context.Context) {
	if len(r.o.Nemesis) == 0 {
		<-ctx.Done()
		return
	}
	type pending struct {
		at   time.Duration
		undo func()
	}
	var undo []pending
	r.down = map[int]bool{}
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for wait(time.Duration(1500+r.rng.IntN(1500)) * time.Millisecond) {
		now := monoNow()
		kept := undo[:0]
		for _, u := range undo {
			if u.at <= now {
				u.undo()
			} else {
				kept = append(kept, u)
			}
		}
		undo = kept
		switch r.o.Nemesis[r.rng.IntN(len(r.o.Nemesis))] {
		case "kill":
			if len(r.down) >= (r.o.Nodes-1)/2 {
				continue
			}
			i := 1 + r.rng.IntN(r.o.Nodes)
			if r.down[i] {
				continue
			}
			r.mu.Lock()
			r.down[i] = true
			r.c.StopNode(i)
			r.mu.Unlock()
			fmt.Fprintf(r.o.Log, "nemesis: killed n%d\n", i)
			undo = append(undo, pending{now + time.Duration(2000+r.rng.IntN(2000))*time.Millisecond, func() { r.restart(i) }})
		case "partition":
			i := 1 + r.rng.IntN(r.o.Nodes)
			r.net.Isolate(replication.NodeID(i))
			fmt.Fprintf(r.o.Log, "nemesis: isolated n%d\n", i)
			undo = append(undo, pending{now + time.Duration(1500+r.rng.IntN(2000))*time.Millisecond, func() {
				r.net.Heal()
				fmt.Fprintln(r.o.Log, "nemesis: healed the network")
			}})
		case "skew":
			i := 1 + r.rng.IntN(r.o.Nodes)
			off := skew(r.rng, r.o.Epsilon)
			r.clocks[i].SetOffset(off)
			fmt.Fprintf(r.o.Log, "nemesis: n%d's clock offset now %v (ε %v)\n", i, off, r.o.Epsilon)
		case "lease-transfer":
			r.transferLease(ctx)
		}
	}
	for _, u := range undo {
		u.undo()
	}
}

func monoNow() time.Duration { return time.Duration(nowNanos()) }

func (r *run) restart(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.c.StartNode(ctx, i); err != nil {
		fmt.Fprintf(r.o.Log, "nemesis: restarting n%d: %v\n", i, err)
		return
	}
	delete(r.down, i)
	fmt.Fprintf(r.o.Log, "nemesis: restarted n%d\n", i)
}

// transferLease moves the lease of a random range to another voter.
func (r *run) transferLease(ctx context.Context) {
	r.mu.Lock()
	var nodes []int
	for i, n := range r.c.Nodes {
		if n != nil {
			nodes = append(nodes, i+1)
		}
	}
	r.mu.Unlock()
	if len(nodes) == 0 {
		return
	}
	for _, i := range nodes {
		r.mu.Lock()
		n := r.c.Nodes[i-1]
		r.mu.Unlock()
		if n == nil {
			continue
		}
		reps := n.Store().Replicas()
		if len(reps) == 0 {
			continue
		}
		rep := reps[r.rng.IntN(len(reps))]
		if !rep.IsLeaseholder() {
			continue
		}
		d := rep.Desc()
		for _, rd := range d.Replicas {
			target := replication.NodeID(rd.NodeId)
			if target == n.NodeID() || rd.Type != 0 {
				continue
			}
			tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := rep.TransferLease(tctx, target)
			cancel()
			if err == nil {
				fmt.Fprintf(r.o.Log, "nemesis: moved the lease of r%d from n%d to n%d\n", rep.RangeID(), n.NodeID(), target)
				return
			}
		}
	}
}
