package txn

import (
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// errStopping: the node is shutting down.
var errStopping = errors.New("txn: the node is stopping")

// errAborted: the transaction was aborted (by its coordinator's decision or
// by recovery); it is retryable from the start.
var errAborted = errors.New("transaction aborted")

// wireError carries a transaction error to the gateway.
type wireError struct{ e *txnpb.Error }

func (w wireError) Error() string { return w.e.Reason }

func (w wireError) WireError() *kvpb.Error {
	b, _ := proto.Marshal(w.e)
	return &kvpb.Error{Message: w.e.Reason, Detail: &kvpb.Error_Txn{Txn: &kvpb.TxnError{Payload: b}}}
}

// toWire converts a participant's error for the wire: transaction errors
// keep their detail, routing errors pass through for the router.
func toWire(err error) error {
	var re *RetryableError
	if errors.As(err, &re) {
		return wireError{&txnpb.Error{Retryable: true, Timeout: re.Timeout, Reason: re.Error(), OtherTxn: []byte(re.OtherTxn), Key: re.Key}}
	}
	if errors.Is(err, errAborted) {
		return wireError{&txnpb.Error{Retryable: true, Aborted: true, Reason: err.Error()}}
	}
	return err
}

// fromWire turns an error from the router back into a transaction error
// where it is one.
func fromWire(err error, txnID []byte) error {
	var re *ranges.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	d, ok := re.Err.Detail.(*kvpb.Error_Txn)
	if !ok {
		return err
	}
	e := &txnpb.Error{}
	if proto.Unmarshal(d.Txn.Payload, e) != nil {
		return err
	}
	if e.Aborted {
		return &RetryableError{Txn: txnName(txnID), Reason: e.Reason}
	}
	return &RetryableError{Txn: txnName(txnID), OtherTxn: string(e.OtherTxn), Key: e.Key, Reason: e.Reason, Timeout: e.Timeout, wire: true}
}
