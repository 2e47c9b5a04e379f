package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/ranges/rangespb"
)

// snapshot is where every range was at a time of the window.
type snapshot struct {
	at    time.Duration
	infos []*rangespb.RangeInfo
}

// boundKey identifies a computed bound: a placement (snapshot) and a
// gateway.
type boundKey struct{ snap, gateway int }

type opBound struct {
	b      bounds.Bound
	ranges []bounds.Range
	gw     int
}

// finish orders the stats, fills in kinds, gateways and bounds.
func (s *Sim) finish(run *results.Run, spec RunSpec, rec *recorder, snaps []snapshot, snapErr error) {
	top := s.Topology()
	for _, op := range spec.Workload.Ops() {
		for _, region := range spec.Regions {
			o := rec.ops[[2]string{op.Name, region}]
			if o == nil {
				o = &results.OpStats{Op: op.Name, Region: region}
			}
			delete(rec.ops, [2]string{op.Name, region})
			o.Kind = op.Kind
			o.Gateway = top.NodesIn(region)[0]
			run.Ops = append(run.Ops, o)
			switch {
			case len(snaps) == 0:
				o.BoundErr = fmt.Sprintf("reading the ranges: %v", snapErr)
			case op.Spans == nil:
				o.BoundErr = "the workload names no spans for " + op.Name
			default:
				if note, err := s.setBound(top, o, op, snaps); err != nil {
					o.BoundErr = err.Error()
				} else if note != "" {
					run.Notes = append(run.Notes, note)
				}
			}
		}
	}
	// Operations the workload did not declare (it should not happen).
	for _, o := range rec.ops {
		run.Ops = append(run.Ops, o)
		run.Notes = append(run.Notes, fmt.Sprintf("operation %q of %s is not among the workload's Ops", o.Op, o.Region))
	}
}

// setBound sets o.Bound (see results.OpStats.Bound) from the placements in
// snaps, and returns a note if the ranges moved during the window.
func (s *Sim) setBound(top *topology.Topology, o *results.OpStats, op workload.OpSpec, snaps []snapshot) (string, error) {
	spans := op.Spans(o.Region)
	placements := make([][]bounds.Range, len(snaps))
	var seen []string
	var firstErr error
	for i, sn := range snaps {
		var rs []bounds.Range
		for _, sp := range spans {
			lh, voters, err := placementOf(sn.infos, sp.Key)
			if err != nil {
				rs, firstErr = nil, err
				break
			}
			rs = append(rs, bounds.Range{Leaseholder: lh, Voters: voters})
		}
		placements[i] = rs
		if rs != nil && !slices.Contains(seen, fmt.Sprint(rs)) {
			seen = append(seen, fmt.Sprint(rs))
		}
	}
	if len(seen) == 0 {
		return "", firstErr
	}
	cache := map[boundKey]*opBound{}
	get := func(i, gw int) *opBound {
		if placements[i] == nil {
			return nil
		}
		k := boundKey{i, gw}
		if ob, ok := cache[k]; ok {
			return ob
		}
		b, err := bounds.Compute(bounds.Input{Topology: top, ClientRegion: o.Region, Gateway: gw, Kind: o.Kind, Ranges: placements[i], Reads: op.Reads})
		var ob *opBound
		if err == nil {
			ob = &opBound{b: b, ranges: placements[i], gw: gw}
		} else if firstErr == nil {
			firstErr = err
		}
		cache[k] = ob
		return ob
	}
	// lowest returns the lower bound of an operation at time t through gw:
	// the lower of the placements read just before and just after t.
	lowest := func(t time.Duration, gw int) *opBound {
		j, _ := slices.BinarySearchFunc(snaps, t, func(sn snapshot, t time.Duration) int { return int(sn.at - t) })
		var best *opBound
		for _, i := range []int{j - 1, j} {
			if i < 0 || i >= len(snaps) {
				continue
			}
			if ob := get(i, gw); ob != nil && (best == nil || ob.b.Total < best.b.Total) {
				best = ob
			}
		}
		return best
	}
	var per []*opBound
	for _, smp := range o.Samples {
		gw := smp.Gateway
		if gw == 0 {
			gw = o.Gateway
		}
		if ob := lowest(smp.Start, gw); ob != nil {
			per = append(per, ob)
		}
	}
	if len(per) == 0 {
		ob := lowest(0, o.Gateway)
		if ob == nil {
			return "", firstErr
		}
		per = append(per, ob)
	}
	slices.SortStableFunc(per, func(a, b *opBound) int { return int(a.b.Total - b.b.Total) })
	med := per[(len(per)+1)/2-1]
	o.Bound, o.Ranges, o.Gateway = med.b, med.ranges, med.gw
	if len(seen) > 1 {
		return fmt.Sprintf("%s from %s: ranges moved during the run (placements seen: %s); each operation is bounded by the "+
			"placement of its time", o.Op, o.Region, strings.Join(seen, " → ")), nil
	}
	return "", nil
}
