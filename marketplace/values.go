package marketplace

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cents is an amount of money in hundredths, stored as DECIMAL(12,2).
type Cents int64

// String formats c as the database does: "12.50", "-0.05".
func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// ParseCents parses a decimal amount ("12.5", "12.50", "12", "-3.1")
// with at most two digits after the point.
func ParseCents(s string) (Cents, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(t, ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("marketplace: bad amount %q", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("marketplace: bad amount %q", s)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt((frac + "0")[:2], 10, 64); err != nil {
			return 0, fmt.Errorf("marketplace: bad amount %q", s)
		}
	}
	c := Cents(w*100 + f)
	if neg {
		c = -c
	}
	return c, nil
}

// Scan reads a DECIMAL (as text, as a float or as an integer).
func (c *Cents) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		p, err := ParseCents(string(v))
		*c = p
		return err
	case string:
		p, err := ParseCents(v)
		*c = p
		return err
	case int64:
		*c = Cents(v * 100)
		return nil
	case float64:
		*c = Cents(v*100 + 0.5*sign(v))
		return nil
	}
	return fmt.Errorf("marketplace: cannot read %T as an amount", src)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// Value writes c as decimal text, which every MySQL-compatible server
// converts to DECIMAL exactly.
func (c Cents) Value() (driver.Value, error) { return c.String(), nil }

// dateTimeLayout is how DATETIME values are written and read.
const dateTimeLayout = "2006-01-02 15:04:05"

// sqlTime formats t for a DATETIME column (UTC, whole seconds).
func sqlTime(t time.Time) string { return t.UTC().Format(dateTimeLayout) }

// dbTime reads a DATETIME whether the driver parses times or not.
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d.t = v.UTC()
		return nil
	case []byte:
		return d.parse(string(v))
	case string:
		return d.parse(v)
	case nil:
		*d.t = time.Time{}
		return nil
	}
	return fmt.Errorf("marketplace: cannot read %T as a time", src)
}

func (d dbTime) parse(s string) error {
	layout := dateTimeLayout
	if len(s) > len(layout) {
		layout += ".999999"
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return fmt.Errorf("marketplace: bad DATETIME %q: %w", s, err)
	}
	*d.t = t
	return nil
}
