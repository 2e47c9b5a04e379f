package ranges

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
)

// DefaultReplicas is the replica count of spans without a placement policy.
const DefaultReplicas = 3

// Placement rules live in system keys (PlacementKey(start) -> rule). Each
// node caches them; Refresh rereads them.
type PlacementCache struct {
	router *Router
	mu     sync.RWMutex
	rules  []*rangespb.PlacementRule // sorted by start key
}

// NewPlacementCache returns an empty cache reading through router.
func NewPlacementCache(r *Router) *PlacementCache { return &PlacementCache{router: r} }

// Refresh rereads the rules.
func (p *PlacementCache) Refresh(ctx context.Context) error {
	rows, err := p.router.Scan(ctx, PlacementPrefix, prefixEnd(PlacementPrefix), 0, SendOptions{})
	if err != nil {
		return err
	}
	var rules []*rangespb.PlacementRule
	for _, kv := range rows {
		r := &rangespb.PlacementRule{}
		if err := proto.Unmarshal(kv.Value, r); err != nil {
			return fmt.Errorf("decoding placement rule: %w", err)
		}
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return bytes.Compare(rules[i].StartKey, rules[j].StartKey) < 0 })
	p.mu.Lock()
	p.rules = rules
	p.mu.Unlock()
	return nil
}

// Policy returns the policy of the innermost rule covering the range, or
// the default. Rules nest (a table's partitions inside the table): of the
// rules covering the range, the one starting last is the innermost, so it
// wins.
func (p *PlacementCache) Policy(d *replication.RangeDescriptor) *rangespb.PlacementPolicy {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return withDefaults(policyFor(p.rules, d.StartKey, d.EndKey))
}

// policyFor returns the policy of the innermost of rules (sorted by start
// key) covering [start, end), or nil.
func policyFor(rules []*rangespb.PlacementRule, start, end []byte) *rangespb.PlacementPolicy {
	var best *rangespb.PlacementRule
	for _, r := range rules {
		if bytes.Compare(r.StartKey, start) > 0 {
			break
		}
		if bytes.Compare(end, r.EndKey) <= 0 && len(end) > 0 {
			best = r // sorted by start: a later cover starts later, inside
		}
	}
	if best == nil {
		return nil
	}
	return best.Policy
}

// Rules returns the cached rules.
func (p *PlacementCache) Rules() []*rangespb.PlacementRule {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]*rangespb.PlacementRule(nil), p.rules...)
}

func withDefaults(pol *rangespb.PlacementPolicy) *rangespb.PlacementPolicy {
	out := &rangespb.PlacementPolicy{}
	if pol != nil {
		out = proto.Clone(pol).(*rangespb.PlacementPolicy)
	}
	if out.NumReplicas == 0 {
		out.NumReplicas = DefaultReplicas
	}
	return out
}

// SetPlacement stores a rule for [start, end) and splits ranges at its
// bounds so that it governs whole ranges.
func SetPlacement(ctx context.Context, r *Router, rule *rangespb.PlacementRule) error {
	if bytes.Compare(rule.StartKey, rule.EndKey) >= 0 {
		return fmt.Errorf("placement span [%q, %q) is empty", rule.StartKey, rule.EndKey)
	}
	if bytes.Compare(rule.StartKey, DataMin) < 0 {
		return fmt.Errorf("placement rules apply to data keys (from %q)", DataMin)
	}
	if _, err := r.Put(ctx, PlacementKey(rule.StartKey), marshal(rule)); err != nil {
		return err
	}
	for _, k := range [][]byte{rule.StartKey, rule.EndKey} {
		if bytes.Compare(k, KeyMax) >= 0 {
			continue
		}
		if err := r.AdminSplit(ctx, k); err != nil {
			return fmt.Errorf("splitting at %q for the placement rule: %w", k, err)
		}
	}
	return nil
}

// ClearPlacement removes the rule starting at start (set by SetPlacement),
// if any: the ranges it governed fall back to the enclosing rule, or to the
// default placement. Their splits stay.
func ClearPlacement(ctx context.Context, r *Router, start []byte) error {
	return r.Delete(ctx, PlacementKey(start))
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return KeyMax
}
