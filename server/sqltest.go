package server

import (
	"context"
	"fmt"
	"time"
)

// StartSQLTestCluster starts an in-process cluster of nodes serving SQL on
// 127.0.0.1 and waits until its ranges are fully replicated, for the tests
// of packages that speak the MySQL protocol (the marketplace, the shell).
// It returns the nodes' SQL addresses and a function that stops it.
func StartSQLTestCluster(nodes int) (addrs []string, stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Nodes: nodes, SQL: true, Node: Config{QueueInterval: 100 * time.Millisecond}})
	if err != nil {
		return nil, nil, fmt.Errorf("starting a %d-node SQL test cluster: %w", nodes, err)
	}
	if err := c.WaitReplicated(ctx, nodes); err != nil {
		c.Stop()
		return nil, nil, fmt.Errorf("waiting for the SQL test cluster to replicate: %w", err)
	}
	for i := 1; i <= nodes; i++ {
		addrs = append(addrs, c.Node(i).SQLAddr())
	}
	return addrs, c.Stop, nil
}
