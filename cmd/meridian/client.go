package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
)

// nodeClient talks to one node for the operator commands.
type nodeClient struct {
	host string
	c    *replication.Client
}

func dialNode(host string) (*nodeClient, error) {
	if host == "" {
		return nil, fmt.Errorf("--host is required (a node's --listen-addr, e.g. 127.0.0.1:26257)")
	}
	if !strings.Contains(host, ":") {
		return nil, fmt.Errorf("--host %q: want HOST:PORT", host)
	}
	c, err := replication.Dial(host, nil)
	if err != nil {
		return nil, err
	}
	return &nodeClient{host: host, c: c}, nil
}

func (n *nodeClient) Close() { _ = n.c.Close() }

// call sends req and decodes the answer into resp, turning transport errors
// into one line naming the host.
func (n *nodeClient) call(ctx context.Context, method string, req, resp proto.Message) error {
	var payload []byte
	if req != nil {
		var err error
		if payload, err = proto.Marshal(req); err != nil {
			return err
		}
	}
	out, err := n.c.Call(ctx, method, payload)
	if err != nil {
		if s, ok := status.FromError(err); ok {
			return fmt.Errorf("%s: %s", n.host, s.Message())
		}
		return fmt.Errorf("%s: %v", n.host, err)
	}
	if resp != nil {
		if err := proto.Unmarshal(out, resp); err != nil {
			return fmt.Errorf("%s answered something that is not Meridian's: %v", n.host, err)
		}
	}
	return nil
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, d)
}
