package txn

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// txnName renders a transaction id for errors: its gateway node and
// sequence, or hex.
func txnName(id []byte) string {
	if len(id) == 16 {
		return fmt.Sprintf("n%d-%x", binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:]))
	}
	return fmt.Sprintf("%x", id)
}

func sortStrings(s []string) { sort.Strings(s) }
