package storage

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"testing/quick"
)

// refKey is a decoded engine key for the reference comparator.
type refKey struct {
	key []byte
	ts  int64 // 0: bare
}

// refCompare is the order engine keys must have: by key bytewise, then the
// bare key first, then versions from the newest to the oldest.
func refCompare(a, b refKey) int {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	switch {
	case a.ts == b.ts:
		return 0
	case a.ts == 0:
		return -1
	case b.ts == 0:
		return 1
	case a.ts > b.ts:
		return -1
	default:
		return 1
	}
}

func encodeRef(k refKey) []byte {
	if k.ts == 0 {
		return EncodeBareKey(nil, k.key)
	}
	return EncodeMVCCKey(nil, k.key, k.ts)
}

// randRefKey draws keys from a small alphabet rich in the bytes that matter
// to the encoding (the sentinel and the suffix length) so that prefixes and
// ties are common.
func randRefKey(r *rand.Rand) refKey {
	alphabet := []byte{0x00, 0x01, 0x09, 'a', 'b', 0xff}
	k := make([]byte, r.IntN(4))
	for i := range k {
		k[i] = alphabet[r.IntN(len(alphabet))]
	}
	var ts int64
	switch r.IntN(4) {
	case 0:
		ts = 0
	case 1:
		ts = 1 + r.Int64N(3)
	case 2:
		ts = 1 << 62 >> r.IntN(3)
	default:
		ts = 1 + r.Int64N(1<<62)
	}
	return refKey{key: k, ts: ts}
}

func TestKeyOrderMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sign := func(c int) int {
		switch {
		case c < 0:
			return -1
		case c > 0:
			return 1
		}
		return 0
	}
	for i := 0; i < 200000; i++ {
		a, b := randRefKey(r), randRefKey(r)
		ea, eb := encodeRef(a), encodeRef(b)
		if got, want := sign(Comparer.Compare(ea, eb)), refCompare(a, b); got != want {
			t.Fatalf("Compare(%q@%d, %q@%d) = %d, want %d", a.key, a.ts, b.key, b.ts, got, want)
		}
		if Comparer.Equal(ea, eb) != (refCompare(a, b) == 0) {
			t.Fatalf("Equal(%q@%d, %q@%d) disagrees with Compare", a.key, a.ts, b.key, b.ts)
		}
		// AbbreviatedKey must never contradict Compare.
		if aa, ab := Comparer.AbbreviatedKey(ea), Comparer.AbbreviatedKey(eb); (aa < ab && refCompare(a, b) >= 0) || (aa > ab && refCompare(a, b) <= 0) {
			t.Fatalf("AbbreviatedKey(%q@%d)=%x vs (%q@%d)=%x contradicts order", a.key, a.ts, aa, b.key, b.ts, ab)
		}
	}
}

func TestKeySplitAndRoundTrip(t *testing.T) {
	f := func(key []byte, ts int64) bool {
		if ts < 0 {
			ts = -ts
		}
		if ts == 0 {
			ts = 1
		}
		ek := EncodeMVCCKey(nil, key, ts)
		bare := EncodeBareKey(nil, key)
		// The prefix of a versioned key is its bare key; the bare key is a
		// prefix of itself and sorts before every version.
		if n := split(ek); !bytes.Equal(ek[:n], bare) {
			return false
		}
		if split(bare) != len(bare) || Comparer.Compare(bare, ek) >= 0 {
			return false
		}
		// A suffix alone is a valid key whose prefix is empty.
		if split(ek[len(bare):]) != 0 {
			return false
		}
		k, gotTS, err := DecodeEngineKey(ek)
		if err != nil || !bytes.Equal(k, key) || gotTS != ts {
			return false
		}
		k, gotTS, err = DecodeEngineKey(bare)
		return err == nil && bytes.Equal(k, key) && gotTS == 0
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 20000}); err != nil {
		t.Fatal(err)
	}
}

func TestImmediateSuccessor(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		a, b := randRefKey(r), randRefKey(r)
		pa := EncodeBareKey(nil, a.key)
		succ := Comparer.ImmediateSuccessor(nil, pa)
		if split(succ) != len(succ) || Comparer.Compare(pa, succ) >= 0 {
			t.Fatalf("ImmediateSuccessor(%q) = %q is not a larger prefix", pa, succ)
		}
		// No prefix lies strictly between a prefix and its successor.
		pb := EncodeBareKey(nil, b.key)
		if Comparer.Compare(pa, pb) < 0 && Comparer.Compare(pb, succ) < 0 {
			t.Fatalf("prefix %q lies between %q and its successor %q", pb, pa, succ)
		}
	}
}

func TestDecodeRejectsMalformedKeys(t *testing.T) {
	for _, ek := range [][]byte{
		nil,
		{0x05},
		{'a', 0x09},
		append(EncodeMVCCKey(nil, []byte("a"), 5)[:1], EncodeMVCCKey(nil, []byte("a"), 5)[2:]...),
		EncodeMVCCKey(nil, []byte("a"), 0),
	} {
		if _, _, err := DecodeEngineKey(ek); err == nil {
			t.Errorf("DecodeEngineKey(%x) succeeded", ek)
		}
	}
}

func TestLocalKeys(t *testing.T) {
	k := RaftLogKey(7, 42)
	if !IsLocal(k) {
		t.Fatalf("raft log key %x is not local", k)
	}
	idx, err := DecodeRaftLogIndex(k)
	if err != nil || idx != 42 {
		t.Fatalf("DecodeRaftLogIndex = %d, %v", idx, err)
	}
	id, suffix, detail, err := DecodeRangeLocalKey(k)
	if err != nil || id != 7 || suffix != SuffixRaftLog || len(detail) != 8 {
		t.Fatalf("DecodeRangeLocalKey = %d %q %x %v", id, suffix, detail, err)
	}
	// Log keys of a range sort by index, and all range keys lie under its prefix.
	if bytes.Compare(RaftLogKey(7, 9), RaftLogKey(7, 10)) >= 0 {
		t.Fatal("raft log keys out of index order")
	}
	p := RangeLocalPrefix(7)
	for _, s := range []RangeSuffix{SuffixRaftLog, SuffixRaftHardState, SuffixDescriptor, SuffixPreparedTxn} {
		lk := RangeLocalKey(7, s, []byte("x"))
		if !bytes.HasPrefix(lk, p) || bytes.Compare(lk, PrefixEnd(p)) >= 0 {
			t.Fatalf("%q not under range prefix", lk)
		}
	}
	if bytes.Compare(PrefixEnd(RangeLocalPrefix(7)), RangeLocalPrefix(8)) > 0 {
		t.Fatal("range 7's local keys overlap range 8's")
	}
	if bytes.Compare(LocalKeyMax, GlobalKeyMin) > 0 {
		t.Fatal("local and global keyspaces overlap")
	}
	if PrefixEnd([]byte{0xff, 0xff}) != nil {
		t.Fatal("PrefixEnd of all 0xff should be nil")
	}
}
