package db

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"time"

	"gorm.io/gorm/schema"
)

// A cursor is base64url(JSON array of the item's sort key values ‖ checksum). The checksum is
// SHA-256 over a fixed label, the connection's order signature (table and columns: named only
// inside the hash) and the values, cut to checksumBytes. It is not keyed: a cursor only says where
// to resume inside the caller's own tenant, which a where filter can say as well, so there is
// nothing to keep secret, and every gateway on the same data (replicas, either engine) makes and
// accepts the same cursors without sharing a key. What it buys is that a changed, truncated or
// foreign cursor is refused, and strict decoding bounds what a forged one can carry.
const (
	cursorLabel   = "lcw-gateway cursor v1\x00"
	checksumBytes = 12
	maxCursorLen  = 4096 // longer is no cursor of ours; refuse before decoding
)

func cursorChecksum(signature string, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(cursorLabel))
	h.Write([]byte(signature))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)[:checksumBytes]
}

func sealCursor(signature string, values []any) string {
	payload, _ := json.Marshal(values)
	return encodeSealed(payload, signature)
}

func encodeSealed(payload []byte, signature string) string {
	return base64.RawURLEncoding.EncodeToString(append(payload, cursorChecksum(signature, payload)...))
}

// cursorValue turns a field value into what JSON keeps exactly: times as RFC 3339 text.
func cursorValue(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if t == nil {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Bool:
		return rv.Bool()
	}
	return v
}

// errCursor is what a client learns of a bad cursor: which check refused it, in our words.
type errCursor string

func (e errCursor) Error() string { return string(e) }

// decodeCursor checks the cursor's checksum against this window's order, then decodes each value
// as the type of its column.
func (w *window) decodeCursor(s string) ([]any, error) {
	if len(s) > maxCursorLen {
		return nil, errCursor("it is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= checksumBytes {
		return nil, errCursor("it is not one")
	}
	payload, sum := b[:len(b)-checksumBytes], b[len(b)-checksumBytes:]
	if subtle.ConstantTimeCompare(sum, cursorChecksum(w.signature, payload)) != 1 {
		return nil, errCursor("it was changed, or made for another list or order")
	}
	var values []any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil || dec.More() || len(values) != len(w.keys) {
		return nil, errCursor("it is not one")
	}
	out := make([]any, len(w.keys))
	for i, k := range w.keys {
		if values[i] == nil {
			if k.field.FieldType.Kind() != reflect.Pointer {
				return nil, errCursor("it holds a null where the order has none")
			}
			continue
		}
		v, err := typedCursorValue(k.field, values[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// typedCursorValue gives a bound parameter of the column's Go type (SQLite compares times
// correctly only as time.Time parameters), refusing what neither engine could bind alike: text
// with a NUL byte, numbers beyond the columns' 32 bits.
func typedCursorValue(f *schema.Field, v any) (any, error) {
	t := f.FieldType
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		s, ok := v.(string)
		if !ok {
			return nil, errCursor("it holds a time that is not one")
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, errCursor("it holds a time that is not one")
		}
		return ts.UTC(), nil
	case t.Kind() == reflect.String:
		s, ok := v.(string)
		if !ok || strings.ContainsRune(s, 0) {
			return nil, errCursor("it holds text that is not valid")
		}
		return s, nil
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64 || t.Kind() == reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			return nil, errCursor("it holds a number that is not one")
		}
		i, err := n.Int64()
		if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			return nil, errCursor("it holds a number out of range")
		}
		return i, nil
	case t.Kind() == reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, errCursor("it holds a boolean that is not one")
		}
		return b, nil
	}
	return nil, errCursor("it is not one") // no cursor of ours sorts by such a column
}
