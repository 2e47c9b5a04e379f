package expr

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/meridiandb/meridian/sql/types"
)

// Date arithmetic: DATE_ADD(t, INTERVAL n unit), DATE_SUB (and t ± INTERVAL
// n unit, ADDDATE, SUBDATE, which the parser turns into them). The planner
// passes the unit as a third, string argument ("SECOND"). A NULL or
// unparsable time or amount gives NULL, as in MySQL.

// intervalUnits are the units whose length is fixed; MONTH, QUARTER and
// YEAR move the calendar instead.
var intervalUnits = map[string]time.Duration{
	"MICROSECOND": time.Microsecond, "SECOND": time.Second, "MINUTE": time.Minute,
	"HOUR": time.Hour, "DAY": 24 * time.Hour, "WEEK": 7 * 24 * time.Hour,
}

var calendarUnits = map[string]int{"MONTH": 1, "QUARTER": 3, "YEAR": 12}

// IsIntervalUnit reports whether DATE_ADD and DATE_SUB support unit
// (upper case).
func IsIntervalUnit(unit string) bool {
	_, fixed := intervalUnits[unit]
	_, cal := calendarUnits[unit]
	return fixed || cal
}

func dateArith(sign int64) func(*Env, []types.Value) (types.Value, error) {
	return func(_ *Env, a []types.Value) (types.Value, error) {
		t, err := types.T{Name: types.TDatetime}.Coerce(a[0])
		if err != nil || t.IsNull() {
			return types.Null, nil
		}
		unit := strings.ToUpper(str(a[2]))
		if d, ok := intervalUnits[unit]; ok {
			n, err := types.ToFloat(a[1])
			if err != nil {
				return types.Null, nil
			}
			us := math.Round(n * float64(d/time.Microsecond))
			if math.Abs(us) > math.MaxInt64/2 {
				return types.Null, nil
			}
			t.I += sign * int64(us)
			return t, nil
		}
		if months, ok := calendarUnits[unit]; ok {
			n, err := types.ToInt(a[1])
			if err != nil {
				return types.Null, nil
			}
			return types.NewTime(addMonths(t.Time(), int(sign*n)*months), types.TimeDatetime), nil
		}
		return types.Null, fmt.Errorf("unsupported INTERVAL unit %s (supported: MICROSECOND, SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR)", unit)
	}
}

func init() {
	funcs["date_add"] = funcImpl{3, 3, true, dateArith(1)}
	funcs["date_sub"] = funcImpl{3, 3, true, dateArith(-1)}
	funcs["adddate"] = funcs["date_add"]
	funcs["subdate"] = funcs["date_sub"]
}

// addMonths moves t by n months, keeping the day of the month unless the
// target month is shorter (MySQL: 2024-01-31 + 1 MONTH = 2024-02-29).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
