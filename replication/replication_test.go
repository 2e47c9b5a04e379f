package replication_test

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
	"github.com/meridiandb/meridian/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	keyMin = storage.GlobalKeyMin
	keyMax = storage.GlobalKeyMax
)

func TestElectAndCommit(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) {
			c := repltest.New(t, repltest.Options{Nodes: n})
			var nodes []int
			for i := 1; i <= n; i++ {
				nodes = append(nodes, i)
			}
			c.Bootstrap(1, keyMin, keyMax, nodes...)
			c.Start()
			for i := 0; i < 20; i++ {
				c.Write(1, []byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprintf("v%d", i)), 5*time.Second)
			}
			// Every replica applies every write.
			c.WaitFor(5*time.Second, func() error {
				for i := 1; i <= n; i++ {
					for k := 0; k < 20; k++ {
						v, ok := c.ReadLatest(i, []byte(fmt.Sprintf("k%02d", k)))
						if !ok || string(v) != fmt.Sprintf("v%d", k) {
							return fmt.Errorf("n%d: k%02d = %q, %v", i, k, v, ok)
						}
					}
				}
				return nil
			})
			_ = replication.NodeID(0)
		})
	}
}
