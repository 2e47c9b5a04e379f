package session

import (
	"errors"
	"strings"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// MySQLError is an error as the MySQL protocol reports it.
type MySQLError struct {
	Code    uint16
	State   string
	Message string
}

// ToMySQL maps an error to a MySQL error code, SQLSTATE and message:
// 1064 syntax, 1146 no table, 1054 unknown column, 1062 duplicate key,
// 1213/40001 retryable conflict, 1526 no partition for a value, 1205 lock wait timeout, 1049 unknown
// database, …, 1105 otherwise.
func ToMySQL(err error) MySQLError {
	e := func(code uint16, state string) MySQLError {
		return MySQLError{Code: code, State: state, Message: err.Error()}
	}
	var (
		parseErr  *ParseError
		noTable   *plan.NoSuchTableError
		noCol     *plan.UnknownColumnError
		ambig     *plan.AmbiguousColumnError
		noDB      *plan.NoDatabaseError
		unsup     *plan.UnsupportedError
		colCount  *plan.ColumnCountError
		dup       *exec.DuplicateKeyError
		notNull   *exec.NotNullError
		dataErr   *exec.DataError
		unknownDB *UnknownDBError
		ddl       *DDLError
		roTxn     *ReadOnlyTxnError
		unkVar    *expr.UnknownVarError
		unkFunc   *expr.UnknownFuncError
		retry     *txn.RetryableError
		thread    *UnknownThreadError
		noPart    *catalog.NoPartitionError
	)
	switch {
	case errors.Is(err, ErrQueryInterrupted):
		return e(1317, "70100")
	case errors.As(err, &thread):
		return e(1094, "HY000")
	case errors.As(err, &parseErr):
		msg := parseErr.Error()
		if i := strings.Index(msg, "]"); strings.HasPrefix(msg, "[") && i > 0 {
			msg = msg[i+1:]
		}
		if !strings.HasPrefix(msg, "You have an error") {
			msg = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use " + strings.TrimSpace(msg)
		}
		return MySQLError{Code: 1064, State: "42000", Message: msg}
	case errors.As(err, &noTable):
		return e(1146, "42S02")
	case errors.As(err, &noCol):
		return e(1054, "42S22")
	case errors.As(err, &ambig):
		return e(1052, "23000")
	case errors.As(err, &noDB):
		return e(1046, "3D000")
	case errors.As(err, &unsup):
		return e(1235, "42000")
	case errors.As(err, &colCount):
		return e(1136, "21S01")
	case errors.As(err, &dup):
		return e(1062, "23000")
	case errors.As(err, &noPart):
		return e(1526, "HY000")
	case errors.As(err, &notNull):
		return e(1048, "23000")
	case errors.As(err, &dataErr):
		switch {
		case errors.Is(err, types.ErrOutOfRange):
			return e(1264, "22003")
		case errors.Is(err, types.ErrDataTooLong):
			return e(1406, "22001")
		}
		return e(1366, "HY000")
	case errors.As(err, &unknownDB):
		return e(1049, "42000")
	case errors.As(err, &ddl):
		return e(ddl.Code, "HY000")
	case errors.As(err, &roTxn), errors.Is(err, txn.ErrReadOnly):
		return e(1792, "25006")
	case errors.As(err, &unkVar):
		return e(1193, "HY000")
	case errors.As(err, &unkFunc):
		return e(1305, "42000")
	case errors.As(err, &retry):
		if retry.Timeout {
			return MySQLError{Code: 1205, State: "HY000", Message: "Lock wait timeout exceeded; try restarting transaction: " + err.Error()}
		}
		return MySQLError{Code: 1213, State: "40001", Message: "Deadlock found when trying to get lock; try restarting transaction: " + err.Error()}
	}
	return e(1105, "HY000")
}
