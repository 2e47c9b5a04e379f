package ranges

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
)

// WireError is implemented by errors of upper layers that carry their own
// wire form (the transaction layer's).
type WireError interface {
	error
	WireError() *kvpb.Error
}

// ToWireError converts an error of a replica into its wire form, keeping
// what a gateway needs to reroute.
func ToWireError(err error, store *replication.Store, key []byte) *kvpb.Error {
	if err == nil {
		return nil
	}
	var we WireError
	if errors.As(err, &we) {
		return we.WireError()
	}
	e := &kvpb.Error{Message: err.Error()}
	var nl *replication.NotLeaseholderError
	var km *replication.RangeKeyMismatchError
	var nf *replication.RangeNotFoundError
	switch {
	case errors.As(err, &nl):
		d := &kvpb.NotLeaseholderError{Hint: nl.Hint}
		if store != nil {
			if r, err := store.GetReplica(nl.RangeID); err == nil {
				d.Desc = r.Desc()
			}
		}
		e.Detail = &kvpb.Error_NotLeaseholder{NotLeaseholder: d}
	case errors.As(err, &km):
		m := &kvpb.RangeKeyMismatchError{Current: km.Desc}
		if store != nil && key != nil {
			if r := store.LookupReplica(key); r != nil {
				m.Suggested = append(m.Suggested, r.Desc())
			}
		}
		e.Detail = &kvpb.Error_Mismatch{Mismatch: m}
	case errors.As(err, &nf), errors.Is(err, replication.ErrRangeRemoved):
		e.Detail = &kvpb.Error_RangeNotFound{RangeNotFound: &kvpb.RangeNotFoundError{}}
	case errors.Is(err, replication.ErrFollowerBehind):
		e.Detail = &kvpb.Error_FollowerBehind{FollowerBehind: &kvpb.FollowerBehindError{}}
	}
	return e
}

// OutsideRangeError reports a request whose routing key the range holds but
// one of whose keys it does not: the caller grouped its keys by a range
// descriptor that has changed since (a split). Sending it again cannot
// help; the caller must regroup its keys by the current descriptors.
type OutsideRangeError struct {
	Key  []byte                       // the routing key
	Desc *replication.RangeDescriptor // the range holding Key now
	Err  error                        // the range's answer
}

func (e *OutsideRangeError) Error() string {
	return fmt.Sprintf("request routed by %s reaches outside r%d [%s, %s): %v", storage.PrettyKey(e.Key), e.Desc.RangeId,
		storage.PrettyKey(e.Desc.StartKey), storage.PrettyKey(e.Desc.EndKey), e.Err)
}

func (e *OutsideRangeError) Unwrap() error { return e.Err }

// RoutingError is a wire error that tells the gateway to look elsewhere:
// the replica is not the leaseholder, the range's span changed, the range is
// not on that node, or a follower is behind.
type RoutingError struct {
	Err *kvpb.Error
}

func (e *RoutingError) Error() string { return e.Err.Message }

// RemoteError is any other error a replica returned.
type RemoteError struct {
	Err *kvpb.Error
}

func (e *RemoteError) Error() string { return e.Err.Message }

// FromWireError turns a wire error into a Go error: a *RoutingError for the
// routing cases, a *RemoteError otherwise.
func FromWireError(e *kvpb.Error) error {
	if e == nil {
		return nil
	}
	switch e.Detail.(type) {
	case *kvpb.Error_NotLeaseholder, *kvpb.Error_Mismatch, *kvpb.Error_RangeNotFound, *kvpb.Error_FollowerBehind:
		return &RoutingError{Err: e}
	}
	return &RemoteError{Err: e}
}

func marshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("marshaling %T: %v", m, err))
	}
	return b
}

func unmarshalDesc(b []byte, d *replication.RangeDescriptor) error {
	if err := proto.Unmarshal(b, d); err != nil {
		return fmt.Errorf("decoding range descriptor: %w", err)
	}
	return nil
}
