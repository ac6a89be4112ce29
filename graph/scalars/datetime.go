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
	buf = t.UTC().AppendFormat(buf, graphLayout)
	return append(buf, '"')
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
