// Package scalars holds the custom GraphQL scalars.
package scalars

import (
	"fmt"
	"io"
	"lcw-gateway/errcode"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// graphLayout is how Microsoft Graph writes a DateTimeOffset: UTC, seven fractional digits, Z.
const graphLayout = "2006-01-02T15:04:05.0000000Z"

// MarshalDateTime writes t in UTC the way Graph does. gqlgen's built-in Time scalar keeps the
// caller's offset and writes a zero time as null; this one does neither.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = w.Write(AppendDateTime(nil, t))
	})
}

// AppendDateTime appends MarshalDateTime's JSON to buf without allocating; the layout writes
// digits, separators and Z only, so quoting needs no escapes.
func AppendDateTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = appendGraphTime(buf, t)
	return append(buf, '"')
}

// appendGraphTime is t.UTC().AppendFormat(buf, graphLayout) written digit by digit: the layout's
// general formatter was a tenth of writing the dashboard's answer. Years outside 0000-9999,
// which the layout writes otherwise, go through AppendFormat.
func appendGraphTime(buf []byte, t time.Time) []byte {
	const day = 86400
	sec := t.Unix()
	days, rem := sec/day, sec%day
	if rem < 0 {
		days, rem = days-1, rem+day
	}
	// Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	if y < 0 || y > 9999 {
		return t.UTC().AppendFormat(buf, graphLayout)
	}
	buf = appendDigits(buf, y, 4)
	buf = append(buf, '-')
	buf = appendDigits(buf, m, 2)
	buf = append(buf, '-')
	buf = appendDigits(buf, d, 2)
	buf = append(buf, 'T')
	buf = appendDigits(buf, rem/3600, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, rem/60%60, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, rem%60, 2)
	buf = append(buf, '.')
	buf = appendDigits(buf, int64(t.Nanosecond()/100), 7)
	return append(buf, 'Z')
}

// appendDigits appends v (>= 0) as exactly n decimal digits.
func appendDigits(buf []byte, v int64, n int) []byte {
	buf = append(buf, "0000000"[:n]...)
	for i := len(buf) - 1; i >= len(buf)-n; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return buf
}

// UnmarshalDateTime reads RFC 3339 with any offset and returns it in UTC, at the microsecond
// precision the stores keep, so comparisons in SQL agree with what clients send.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badDateTime("DateTime must be an RFC 3339 string such as 2022-08-24T23:28:04Z")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badDateTime(fmt.Sprintf("%q is not an RFC 3339 DateTime such as 2022-08-24T23:28:04Z", s))
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// badDateTime is a client mistake; its code is BAD_USER_INPUT.
func badDateTime(msg string) error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": errcode.BadUserInput}}
}
