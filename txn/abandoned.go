package txn

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// Abandoned transactions. A read-write transaction's locks are released by
// its gateway's commit or rollback; if that message never comes (the
// gateway crashed or restarted, the client gave up on a lock request that
// was granted after all, a rollback was lost), the locks would stay forever
// and, under wound-wait, block every younger transaction. So a participant
// asks the gateway of each transaction whose locks sat idle for a while
// whether it is still open, and aborts it here if not, or if its gateway
// stays unreachable. Aborting an open transaction's locks is always safe:
// it fails at commit, as if wounded.

// MethodLive is the transport method of a gateway's LiveRequest.
const MethodLive = "txn.live"

// LiveFunc asks a gateway node which of the given transactions it still
// runs.
type LiveFunc func(ctx context.Context, gateway replication.NodeID, ids [][]byte) ([]bool, error)

// register and unregister track the gateway's open read-write transactions.
func (db *Gateway) register(id []byte) {
	db.live.Store(string(id), struct{}{})
}

func (db *Gateway) unregister(id []byte) {
	db.live.Delete(string(id))
}

// Live reports which of the transactions are open at this gateway.
func (db *Gateway) Live(ids [][]byte) []bool {
	out := make([]bool, len(ids))
	if db.closed.Load() {
		return out
	}
	for i, id := range ids {
		_, out[i] = db.live.Load(string(id))
	}
	return out
}

// HandleLive serves MethodLive.
func (db *Gateway) HandleLive(payload []byte) ([]byte, error) {
	in := &txnpb.LiveRequest{}
	if err := proto.Unmarshal(payload, in); err != nil {
		return nil, fmt.Errorf("bad %s request: %w", MethodLive, err)
	}
	return proto.Marshal(&txnpb.LiveResponse{Live: db.Live(in.TxnIds)})
}

// CallLive is the client side of MethodLive over a transport.
func CallLive(ctx context.Context, call func(ctx context.Context, to replication.NodeID, method string, payload []byte) ([]byte, error),
	gateway replication.NodeID, ids [][]byte) ([]bool, error) {
	payload, err := proto.Marshal(&txnpb.LiveRequest{TxnIds: ids})
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, gateway, MethodLive, payload)
	if err != nil {
		return nil, err
	}
	out := &txnpb.LiveResponse{}
	if err := proto.Unmarshal(resp, out); err != nil {
		return nil, fmt.Errorf("decoding %s response from n%d: %w", MethodLive, gateway, err)
	}
	if len(out.Live) != len(ids) {
		return nil, fmt.Errorf("n%d answered %d of %d transactions", gateway, len(out.Live), len(ids))
	}
	return out.Live, nil
}

// sweepAbandoned aborts the idle transactions here that their gateway no
// longer runs or that it could not be asked about for GatewayTimeout.
func (p *Participant) sweepAbandoned() {
	if p.opts.Live == nil {
		return
	}
	idle := p.locks.Idle(p.opts.IdleAge)
	byGateway := map[replication.NodeID][]*txnpb.TxnMeta{}
	seen := map[string]bool{}
	for _, m := range idle {
		byGateway[replication.NodeID(m.GatewayNode)] = append(byGateway[replication.NodeID(m.GatewayNode)], m)
		seen[string(m.Id)] = true
	}
	now := truetime.Mono()
	p.mu.Lock()
	for id := range p.mu.unreachable {
		if !seen[id] {
			delete(p.mu.unreachable, id)
		}
	}
	p.mu.Unlock()
	for gw, metas := range byGateway {
		ids := make([][]byte, len(metas))
		for i, m := range metas {
			ids[i] = m.Id
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		live, err := p.opts.Live(ctx, gw, ids)
		cancel()
		for i, m := range metas {
			switch {
			case err == nil && live[i]:
				p.mu.Lock()
				delete(p.mu.unreachable, string(m.Id))
				p.mu.Unlock()
			case err == nil:
				p.locks.AbortActive(m.Id, fmt.Sprintf("abandoned: its gateway n%d no longer runs it", gw), nil, nil)
				p.logger.Info("aborted an abandoned transaction", "txn", txnName(m.Id), "gateway", gw)
			default:
				p.mu.Lock()
				first, ok := p.mu.unreachable[string(m.Id)]
				if !ok {
					first = now
					p.mu.unreachable[string(m.Id)] = now
				}
				p.mu.Unlock()
				if now-first >= p.opts.GatewayTimeout {
					p.locks.AbortActive(m.Id, fmt.Sprintf("abandoned: its gateway n%d unreachable for %v (%v)", gw, now-first, err), nil, nil)
					p.logger.Info("aborted a transaction whose gateway is unreachable", "txn", txnName(m.Id), "gateway", gw, "err", err)
				}
			}
		}
	}
}
