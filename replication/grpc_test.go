package replication_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
)

// grpcCluster returns cluster options whose nodes talk gRPC on 127.0.0.1.
func grpcCluster(t *testing.T, nodes int) repltest.Options {
	var (
		mu    sync.Mutex
		addrs = map[replication.NodeID]string{}
		lis   = map[int]net.Listener{}
	)
	// Reserve a port per node so restarted nodes come back at the same address.
	for i := 1; i <= nodes; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[replication.NodeID(i)] = l.Addr().String()
		lis[i] = l
	}
	return repltest.Options{Nodes: nodes, Transport: func(i int) replication.Transport {
		mu.Lock()
		l := lis[i]
		delete(lis, i)
		mu.Unlock()
		opts := replication.GRPCOptions{
			NodeID: replication.NodeID(i),
			Resolve: func(n replication.NodeID) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				if a, ok := addrs[n]; ok {
					return a, nil
				}
				return "", fmt.Errorf("unknown node n%d", n)
			},
		}
		if l != nil {
			opts.Listener = l
		} else {
			opts.ListenAddr = addrs[replication.NodeID(i)]
		}
		tr, err := replication.NewGRPCTransport(opts)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}}
}

func TestGRPCTransportReplicates(t *testing.T) {
	opts := grpcCluster(t, 3)
	opts.Store.RaftLogMaxEntries = 20
	c := repltest.New(t, opts)
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	var keys []int
	for k := 0; k < 30; k++ {
		c.Write(1, keyN(k), []byte(fmt.Sprint(k)), 5*time.Second)
		keys = append(keys, k)
	}
	waitApplied(t, c, []int{1, 2, 3}, keys)
	// A follower that was down catches up over a gRPC snapshot stream.
	lag, _ := leader(c, 1)
	lag = lag%3 + 1
	c.StopNode(lag)
	for k := 30; k < 100; k++ {
		c.Write(1, keyN(k), []byte(fmt.Sprint(k)), 5*time.Second)
		keys = append(keys, k)
	}
	c.StartNode(lag)
	waitApplied(t, c, []int{lag}, keys)
	if c.Node(lag).Store.Metrics().SnapshotsRecv == 0 {
		t.Fatalf("n%d caught up without a snapshot", lag)
	}
	assertSameData(t, c, []int{1, 2, 3}, 1)
}
