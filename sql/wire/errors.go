package wire

import (
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/meridiandb/meridian/sql/session"
)

// toMyError maps an error to a go-mysql error packet.
func toMyError(err error) *mysql.MyError {
	var my *mysql.MyError
	if errors.As(err, &my) {
		return my
	}
	m := session.ToMySQL(err)
	return &mysql.MyError{Code: m.Code, State: m.State, Message: m.Message}
}
