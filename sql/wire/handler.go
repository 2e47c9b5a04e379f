package wire

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"runtime/debug"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/sql/types"
)

// handler owns one connection's session. It runs its own command loop
// (rather than go-mysql's Conn.HandleCommand) so that prepared statements
// keep their parameter types across executions (clients send them only
// with the first execution) and so that every command is guarded by
// recover.
type handler struct {
	srv   *Server
	ctx   context.Context
	conn  *server.Conn
	sess  *session.Session
	stmts map[uint32]*stmt
	next  uint32
	// pendingDB is the database named in the handshake.
	pendingDB string
	watch     *clientWatch
	nc        net.Conn
	out       *bufConn // nc with buffered writes; flushed after each command
}

// newSession starts the connection's session (at the handshake and on
// COM_RESET_CONNECTION) and registers it for SHOW PROCESSLIST and KILL.
func (h *handler) newSession() {
	h.sess = h.srv.engine.NewSession(h.conn.GetUser())
	h.sess.SetConnectionID(h.conn.ConnectionID())
	nc := h.nc
	h.sess.Register(nc.RemoteAddr().String(), func() { _ = nc.Close() })
}

type stmt struct {
	id         uint32
	prep       *session.Prepared
	paramTypes []byte
	long       map[int][]byte
}

// go-mysql requires a Handler for the handshake; commands never reach it
// because handleCommand dispatches them itself.
func (h *handler) UseDB(db string) error {
	if h.sess == nil {
		// The database named in the handshake: validate it now, apply it
		// once the session exists.
		if err := h.srv.engine.NewSession("").Use(h.ctx, db); err != nil {
			return toMyError(err)
		}
		h.pendingDB = db
		return nil
	}
	return h.sess.Use(h.ctx, db)
}
func (h *handler) HandleQuery(q string) (*mysql.Result, error) { return nil, fmt.Errorf("unused") }
func (h *handler) HandleFieldList(string, string) ([]*mysql.Field, error) {
	return nil, fmt.Errorf("unused")
}
func (h *handler) HandleStmtPrepare(string) (int, int, any, error) {
	return 0, 0, nil, fmt.Errorf("unused")
}
func (h *handler) HandleStmtExecute(any, string, []any) (*mysql.Result, error) {
	return nil, fmt.Errorf("unused")
}
func (h *handler) HandleStmtClose(any) error             { return nil }
func (h *handler) HandleOtherCommand(byte, []byte) error { return fmt.Errorf("unused") }

// handleCommand reads and answers one command. It returns an error only
// when the connection must end.
func (h *handler) handleCommand() (err error) {
	data, err := h.conn.ReadPacket()
	if err != nil {
		return err
	}
	defer h.conn.ResetSequence()
	defer func() {
		if ferr := h.out.Flush(); err == nil {
			err = ferr
		}
	}()
	var resp any
	func() {
		defer func() {
			if r := recover(); r != nil {
				h.srv.opts.Logger.Error("sql command panicked", "panic", r, "stack", string(debug.Stack()))
				resp = mysql.NewError(mysql.ER_UNKNOWN_ERROR, fmt.Sprintf("internal error: %v", r))
			}
		}()
		resp, err = h.dispatch(data)
	}()
	if err != nil {
		return err
	}
	if resp == nil {
		resp = noResp{}
	}
	switch r := resp.(type) {
	case noResp:
		return nil
	case okResp:
		return h.conn.WriteValue(nil)
	case eofResp:
		return h.conn.WritePacket([]byte{0, 0, 0, 0, mysql.EOF_HEADER, 0, 0, byte(h.status()), byte(h.status() >> 8)})
	case error:
		return h.conn.WriteValue(toMyError(r))
	default:
		return h.conn.WriteValue(r)
	}
}

type (
	noResp  struct{}
	okResp  struct{}
	eofResp struct{}
)

func (h *handler) status() uint16 {
	var st uint16
	if h.sess.Autocommit() {
		st |= mysql.SERVER_STATUS_AUTOCOMMIT
	}
	if h.sess.InTransaction() {
		st |= mysql.SERVER_STATUS_IN_TRANS
	}
	return st
}

func (h *handler) syncStatus() {
	h.conn.UnsetStatus(mysql.SERVER_STATUS_AUTOCOMMIT | mysql.SERVER_STATUS_IN_TRANS)
	h.conn.SetStatus(h.status())
}

// dispatch runs one command and returns what to send (an error value is
// sent as an ERR packet; a non-nil returned error ends the connection).
func (h *handler) dispatch(data []byte) (any, error) {
	if len(data) == 0 {
		return mysql.ErrMalformPacket, nil
	}
	cmd, data := data[0], data[1:]
	switch cmd {
	case mysql.COM_QUIT:
		return nil, io.EOF
	case mysql.COM_PING:
		return okResp{}, nil
	case mysql.COM_INIT_DB:
		if err := h.sess.Use(h.ctx, string(data)); err != nil {
			return err, nil
		}
		return okResp{}, nil
	case mysql.COM_QUERY:
		q := string(data)
		if f := h.srv.opts.Knobs.OnQuery; f != nil {
			f(q)
		}
		stop := h.watch.start()
		res, err := h.sess.Execute(h.ctx, q)
		stop()
		h.syncStatus()
		if err != nil {
			return err, nil
		}
		return h.result(res, false), nil
	case mysql.COM_FIELD_LIST:
		table, _, _ := strings.Cut(string(data), "\x00")
		res, err := h.sess.Execute(h.ctx, "SHOW COLUMNS FROM `"+strings.ReplaceAll(table, "`", "``")+"`")
		if err != nil {
			return err, nil
		}
		var fs []*mysql.Field
		for _, r := range res.Rows {
			fs = append(fs, &mysql.Field{Name: []byte(r[0].S), Table: []byte(table), OrgTable: []byte(table), Charset: 33, Type: mysql.MYSQL_TYPE_VAR_STRING})
		}
		return fs, nil
	case mysql.COM_STMT_PREPARE:
		p, err := h.sess.Prepare(h.ctx, string(data))
		if err != nil {
			return err, nil
		}
		h.next++
		if h.stmts == nil {
			h.stmts = map[uint32]*stmt{}
		}
		h.stmts[h.next] = &stmt{id: h.next, prep: p}
		return &server.Stmt{ID: h.next, Query: p.SQL, Params: p.NumParams, Columns: len(p.Columns)}, nil
	case mysql.COM_STMT_EXECUTE:
		stop := h.watch.start()
		r, err := h.execute(data)
		stop()
		h.syncStatus()
		if err != nil {
			return err, nil
		}
		return r, nil
	case mysql.COM_STMT_CLOSE:
		if len(data) >= 4 {
			delete(h.stmts, binary.LittleEndian.Uint32(data))
		}
		return noResp{}, nil
	case mysql.COM_STMT_RESET:
		if len(data) >= 4 {
			if st := h.stmts[binary.LittleEndian.Uint32(data)]; st != nil {
				st.long = nil
			}
		}
		return okResp{}, nil
	case mysql.COM_STMT_SEND_LONG_DATA:
		if len(data) >= 6 {
			if st := h.stmts[binary.LittleEndian.Uint32(data)]; st != nil {
				p := int(binary.LittleEndian.Uint16(data[4:]))
				if st.long == nil {
					st.long = map[int][]byte{}
				}
				st.long[p] = append(st.long[p], data[6:]...)
			}
		}
		return noResp{}, nil
	case mysql.COM_SET_OPTION:
		return eofResp{}, nil
	case mysql.COM_RESET_CONNECTION:
		h.sess.Close(h.ctx)
		h.newSession()
		h.syncStatus()
		return okResp{}, nil
	}
	return mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, fmt.Sprintf("unknown command 0x%02x", cmd)), nil
}

// execute runs COM_STMT_EXECUTE.
func (h *handler) execute(data []byte) (any, error) {
	if len(data) < 9 {
		return nil, mysql.ErrMalformPacket
	}
	st := h.stmts[binary.LittleEndian.Uint32(data)]
	if st == nil {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_STMT_HANDLER, "Unknown prepared statement handler")
	}
	n := st.prep.NumParams
	pos := 9
	args := make([]types.Value, n)
	if n > 0 {
		nb := (n + 7) / 8
		if len(data) < pos+nb+1 {
			return nil, mysql.ErrMalformPacket
		}
		nulls := data[pos : pos+nb]
		pos += nb
		if data[pos] == 1 {
			pos++
			if len(data) < pos+2*n {
				return nil, mysql.ErrMalformPacket
			}
			st.paramTypes = append(st.paramTypes[:0], data[pos:pos+2*n]...)
			pos += 2 * n
		} else {
			pos++
		}
		if len(st.paramTypes) != 2*n {
			return nil, mysql.ErrMalformPacket
		}
		vals := data[pos:]
		for i := 0; i < n; i++ {
			if nulls[i/8]&(1<<(i%8)) != 0 {
				continue
			}
			if l, ok := st.long[i]; ok {
				args[i] = types.NewString(string(l))
				continue
			}
			v, rest, err := decodeParam(st.paramTypes[2*i], st.paramTypes[2*i+1]&0x80 != 0, vals)
			if err != nil {
				return nil, err
			}
			args[i], vals = v, rest
		}
	}
	st.long = nil
	res, err := h.sess.ExecutePrepared(h.ctx, st.prep, args)
	if err != nil {
		return nil, err
	}
	return h.result(res, true), nil
}

func decodeParam(tp byte, unsigned bool, b []byte) (types.Value, []byte, error) {
	need := func(n int) error {
		if len(b) < n {
			return mysql.ErrMalformPacket
		}
		return nil
	}
	switch tp {
	case mysql.MYSQL_TYPE_NULL:
		return types.Null, b, nil
	case mysql.MYSQL_TYPE_TINY:
		if err := need(1); err != nil {
			return types.Null, nil, err
		}
		if unsigned {
			return types.NewInt(int64(b[0])), b[1:], nil
		}
		return types.NewInt(int64(int8(b[0]))), b[1:], nil
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		if err := need(2); err != nil {
			return types.Null, nil, err
		}
		u := binary.LittleEndian.Uint16(b)
		if unsigned {
			return types.NewInt(int64(u)), b[2:], nil
		}
		return types.NewInt(int64(int16(u))), b[2:], nil
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		if err := need(4); err != nil {
			return types.Null, nil, err
		}
		u := binary.LittleEndian.Uint32(b)
		if unsigned {
			return types.NewInt(int64(u)), b[4:], nil
		}
		return types.NewInt(int64(int32(u))), b[4:], nil
	case mysql.MYSQL_TYPE_LONGLONG:
		if err := need(8); err != nil {
			return types.Null, nil, err
		}
		u := binary.LittleEndian.Uint64(b)
		if unsigned && u > math.MaxInt64 {
			return types.NewFloat(float64(u)), b[8:], nil
		}
		return types.NewInt(int64(u)), b[8:], nil
	case mysql.MYSQL_TYPE_FLOAT:
		if err := need(4); err != nil {
			return types.Null, nil, err
		}
		return types.NewFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))), b[4:], nil
	case mysql.MYSQL_TYPE_DOUBLE:
		if err := need(8); err != nil {
			return types.Null, nil, err
		}
		return types.NewFloat(math.Float64frombits(binary.LittleEndian.Uint64(b))), b[8:], nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		if err := need(1); err != nil {
			return types.Null, nil, err
		}
		l := int(b[0])
		if err := need(1 + l); err != nil {
			return types.Null, nil, err
		}
		p := b[1 : 1+l]
		var y, mo, d, hh, mm, ss, us int
		if l >= 4 {
			y, mo, d = int(binary.LittleEndian.Uint16(p)), int(p[2]), int(p[3])
		}
		if l >= 7 {
			hh, mm, ss = int(p[4]), int(p[5]), int(p[6])
		}
		if l >= 11 {
			us = int(binary.LittleEndian.Uint32(p[7:]))
		}
		s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, d, hh, mm, ss, us)
		v, err := types.ParseTime(s, types.TimeDatetime)
		if err != nil {
			return types.Null, nil, err
		}
		return v, b[1+l:], nil
	}
	s, isNull, n, err := mysql.LengthEncodedString(b)
	if err != nil {
		return types.Null, nil, mysql.ErrMalformPacket
	}
	if isNull {
		return types.Null, b[n:], nil
	}
	switch tp {
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB:
		return types.NewBytes(s), b[n:], nil
	}
	return types.NewString(string(s)), b[n:], nil
}

// result converts a session result to a go-mysql result.
func (h *handler) result(res *session.Result, binaryProto bool) *mysql.Result {
	if res.Columns == nil {
		return &mysql.Result{AffectedRows: res.AffectedRows, InsertId: res.InsertID, Status: h.status()}
	}
	rs := &mysql.Resultset{Fields: make([]*mysql.Field, len(res.Columns))}
	for i, c := range res.Columns {
		rs.Fields[i] = field(c)
	}
	for _, row := range res.Rows {
		if binaryProto {
			rs.RowDatas = append(rs.RowDatas, binaryRow(rs.Fields, row))
		} else {
			rs.RowDatas = append(rs.RowDatas, textRow(row))
		}
	}
	return &mysql.Result{Resultset: rs, Status: h.status()}
}

func field(c plan.Column) *mysql.Field {
	f := &mysql.Field{Name: []byte(c.Name), OrgName: []byte(c.Name), Table: []byte(c.Table), OrgTable: []byte(c.Table), Schema: []byte(c.DB), Charset: 63}
	switch c.Type.Kind() {
	case types.KInt:
		f.Type, f.ColumnLength, f.Flag = mysql.MYSQL_TYPE_LONGLONG, 20, mysql.BINARY_FLAG
	case types.KFloat:
		f.Type, f.ColumnLength, f.Decimal, f.Flag = mysql.MYSQL_TYPE_DOUBLE, 22, 31, mysql.BINARY_FLAG
	case types.KDecimal:
		f.Type, f.ColumnLength, f.Decimal, f.Flag = mysql.MYSQL_TYPE_NEWDECIMAL, 66, c.Type.Scale, mysql.BINARY_FLAG
	case types.KTime:
		f.Type, f.ColumnLength, f.Flag = mysql.MYSQL_TYPE_DATETIME, 26, mysql.BINARY_FLAG
		if c.Type.Name == types.TDate {
			f.Type, f.ColumnLength = mysql.MYSQL_TYPE_DATE, 10
		}
	case types.KBytes:
		f.Type, f.ColumnLength, f.Flag = mysql.MYSQL_TYPE_BLOB, 65535, mysql.BINARY_FLAG|mysql.BLOB_FLAG
	default:
		f.Type, f.Charset, f.ColumnLength = mysql.MYSQL_TYPE_VAR_STRING, 46, 1020
	}
	return f
}

func textRow(row []types.Value) []byte {
	var b []byte
	for _, v := range row {
		if v.IsNull() {
			b = append(b, 0xfb)
			continue
		}
		b = mysql.AppendLengthEncodedInteger(b, uint64(len(v.String())))
		b = append(b, v.String()...)
	}
	return b
}

func binaryRow(fields []*mysql.Field, row []types.Value) []byte {
	nb := (len(row) + 7 + 2) / 8
	b := make([]byte, 1+nb, 64)
	for i, v := range row {
		if v.IsNull() {
			b[1+(i+2)/8] |= 1 << ((i + 2) % 8)
			continue
		}
		switch fields[i].Type {
		case mysql.MYSQL_TYPE_LONGLONG:
			n, err := types.ToInt(v)
			if err != nil {
				n = 0
			}
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
		case mysql.MYSQL_TYPE_DOUBLE:
			f, _ := types.ToFloat(v)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATE:
			if v.K != types.KTime {
				b = append(b, 0)
				continue
			}
			t := v.Time()
			us := t.Nanosecond() / 1000
			b = append(b, 11)
			b = binary.LittleEndian.AppendUint16(b, uint16(t.Year()))
			b = append(b, byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()))
			b = binary.LittleEndian.AppendUint32(b, uint32(us))
		default:
			s := v.String()
			b = mysql.AppendLengthEncodedInteger(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}
