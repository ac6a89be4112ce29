package msgraph

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	gojson "github.com/goccy/go-json"
)

// decode converts every record of a page, naming the record in any error.
func decode[W, M any](p *Page, convert func(int, *W) (M, error)) ([]M, error) {
	out := make([]M, 0, len(p.Value))
	for i, raw := range p.Value {
		var wire W
		if err := unmarshalRecord(raw, &wire, p.checked); err != nil {
			return nil, &RecordError{Where: p.Where, Index: i, ID: pathID(raw), Err: cleanJSONError(err)}
		}
		m, err := convert(i, &wire)
		if err != nil {
			return nil, &RecordError{Where: p.Where, Index: i, ID: pathID(raw), Err: err}
		}
		out = append(out, m)
	}
	return out, nil
}

// unmarshalRecord decodes one record into a zero *W. Records are most of an import's CPU, and
// goccy/go-json decodes them several times faster than encoding/json; it is trusted only with
// records of a checked page (valid JSON by encoding/json's own check, and valid UTF-8: where
// goccy is laxer than encoding/json, in malformed literals, control characters and invalid
// UTF-8, the two would not agree). Anything goccy refuses is decoded again by encoding/json,
// whose result and error messages are the import's.
func unmarshalRecord[W any](raw []byte, wire *W, checked bool) error {
	if checked {
		if gojson.Unmarshal(raw, wire) == nil {
			return nil
		}
		var zero W
		*wire = zero
	}
	return json.Unmarshal(raw, wire)
}

// pathID is a record's id as Graph wrote it (trimmed), or "" when it has none.
func pathID(raw json.RawMessage) string {
	var r struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(raw, &r)
	s, _ := r.ID.(string)
	return strings.TrimSpace(s)
}

// cleanJSONError words a type mismatch in Graph's terms instead of Go's.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	want := "a value of another type"
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		want = "an integer"
	case reflect.Slice:
		want = "an array"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		want = "an object"
	}
	if te.Field == "" {
		return fmt.Errorf("record is a JSON %s, want an object", te.Value)
	}
	return fmt.Errorf("%s must be %s, not a JSON %s", te.Field, want, te.Value)
}
