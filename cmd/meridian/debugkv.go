package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/server"
)

func newDebugKVCmd() *cobra.Command {
	var host string
	var timeout time.Duration
	kv := &cobra.Command{Use: "kv", Short: "Single-key operations through a node's router (operator access)"}
	kv.PersistentFlags().StringVar(&host, "host", "", "a node, HOST:PORT")
	kv.PersistentFlags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	one := func(cmd *cobra.Command, req *kvpb.Request) (*kvpb.Response, error) {
		c, err := dialNode(host)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		ctx, cancel := withTimeout(cmd.Context(), timeout)
		defer cancel()
		br := &kvpb.BatchResponse{}
		if err := c.call(ctx, server.MethodClientBatch, &kvpb.BatchRequest{Requests: []*kvpb.Request{req}}, br); err != nil {
			return nil, err
		}
		if br.Error != nil {
			return nil, errors.New(br.Error.Message)
		}
		return br.Responses[0], nil
	}
	kv.AddCommand(&cobra.Command{
		Use: "put KEY VALUE", Short: "Write KEY", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := one(cmd, &kvpb.Request{Value: &kvpb.Request_Put{Put: &kvpb.PutRequest{Key: []byte(args[0]), Value: []byte(args[1])}}})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OK (timestamp %d)\n", resp.GetPut().Timestamp)
			return nil
		},
	}, &cobra.Command{
		Use: "get KEY", Short: "Read KEY (exit 1 if absent)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := one(cmd, &kvpb.Request{Value: &kvpb.Request_Get{Get: &kvpb.GetRequest{Key: []byte(args[0])}}})
			if err != nil {
				return err
			}
			g := resp.GetGet()
			if !g.Found {
				return fmt.Errorf("key %q not found", args[0])
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(g.Value))
			return nil
		},
	}, &cobra.Command{
		Use: "del KEY", Short: "Delete KEY", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := one(cmd, &kvpb.Request{Value: &kvpb.Request_Delete{Delete: &kvpb.DeleteRequest{Key: []byte(args[0])}}})
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "OK")
			}
			return err
		},
	}, &cobra.Command{
		Use: "scan START END", Short: "Print the keys in [START, END)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := one(cmd, &kvpb.Request{Value: &kvpb.Request_Scan{Scan: &kvpb.ScanRequest{StartKey: []byte(args[0]), EndKey: []byte(args[1])}}})
			if err != nil {
				return err
			}
			for _, row := range resp.GetScan().Rows {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", row.Key, row.Value)
			}
			return nil
		},
	})
	kv.AddCommand(newDebugKVLoadCmd(&host))
	return kv
}

func newDebugKVLoadCmd(host *string) *cobra.Command {
	var keys, valueSize, concurrency int
	var prefix, ackFile, tag string
	var tolerate bool
	cmd := &cobra.Command{
		Use:   "load --keys N --value-size B --concurrency C",
		Short: "Write N keys through a node and print the throughput",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keys <= 0 || valueSize < 0 || concurrency <= 0 {
				return fmt.Errorf("--keys and --concurrency must be positive and --value-size not negative")
			}
			c, err := dialNode(*host)
			if err != nil {
				return err
			}
			defer c.Close()
			val := make([]byte, valueSize)
			for i := range val {
				val[i] = 'a' + byte(i%26)
			}
			var ack *os.File
			if ackFile != "" {
				if ack, err = os.Create(ackFile); err != nil {
					return err
				}
				defer ack.Close()
			}
			var next atomic.Int64
			var mu sync.Mutex
			var lats []time.Duration
			var firstErr error
			var errorsSeen int
			start := time.Now()
			lastAck := start
			var stall time.Duration
			var wg sync.WaitGroup
			for w := 0; w < concurrency; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(keys) {
							return
						}
						key := fmt.Sprintf("%s%010d", prefix, i)
						v := val
						if tag != "" {
							v = []byte(tag + "/" + key)
						}
						t0 := time.Now()
						var err error
						for attempt := 0; ; attempt++ {
							ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
							br := &kvpb.BatchResponse{}
							err = c.call(ctx, server.MethodClientBatch, &kvpb.BatchRequest{Requests: []*kvpb.Request{
								{Value: &kvpb.Request_Put{Put: &kvpb.PutRequest{Key: []byte(key), Value: v}}}}}, br)
							cancel()
							if err == nil && br.Error != nil {
								err = errors.New(br.Error.Message)
							}
							if err == nil || !tolerate || time.Since(t0) > time.Minute {
								break
							}
							mu.Lock()
							errorsSeen++
							mu.Unlock()
						}
						el := time.Since(t0)
						mu.Lock()
						if err != nil && firstErr == nil {
							firstErr = fmt.Errorf("put %s: %w", key, err)
						}
						if err == nil {
							now := time.Now()
							stall = max(stall, now.Sub(lastAck))
							lastAck = now
							if ack != nil {
								fmt.Fprintln(ack, key)
							}
						}
						lats = append(lats, el)
						mu.Unlock()
						if err != nil {
							return
						}
					}
				}()
			}
			wg.Wait()
			if firstErr != nil {
				return firstErr
			}
			el := time.Since(start)
			slices.Sort(lats)
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d keys of %d bytes in %.1fs: ops/s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.0f max_stall_ms=%.0f retried_errors=%d\n",
				keys, valueSize, el.Seconds(), float64(keys)/el.Seconds(),
				ms(lats[len(lats)/2]), ms(lats[len(lats)*99/100]), ms(lats[len(lats)-1]), ms(stall), errorsSeen)
			return nil
		},
	}
	cmd.Flags().IntVar(&keys, "keys", 1000, "keys to write")
	cmd.Flags().IntVar(&valueSize, "value-size", 100, "bytes per value")
	cmd.Flags().IntVar(&concurrency, "concurrency", 16, "concurrent writers")
	cmd.Flags().StringVar(&prefix, "prefix", "load/", "key prefix (keys are PREFIX plus a 10-digit number)")
	cmd.Flags().StringVar(&ackFile, "ack-file", "", "write each acknowledged key to this file")
	cmd.Flags().StringVar(&tag, "tag", "", "write TAG/KEY as each key's value instead of --value-size bytes")
	cmd.Flags().BoolVar(&tolerate, "tolerate-errors", false, "retry failed writes (for up to a minute each) instead of stopping")
	return cmd
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
