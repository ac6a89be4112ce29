package graph

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/db"
	"lcw-gateway/graph/enums"
	"lcw-gateway/graph/scalars"
)

// The compiled read path's scalars must be the bytes of gqlgen's marshallers; the differential
// test (test/integration/fastpath_test.go) covers the stored data, this the characters and
// values stored data rarely holds.
func TestFastScalarsAsGqlgen(t *testing.T) {
	marshal := func(m graphql.Marshaler) []byte {
		var b bytes.Buffer
		m.MarshalGQL(&b)
		return b.Bytes()
	}
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"é ü 漢字 😀", "\u2028\u2029", "<script>&</script>", "invalid \xff\xfe utf-8", "\xe2\x80"} {
		if got, want := writeString(nil, s), marshal(graphql.MarshalString(s)); !bytes.Equal(got, want) {
			t.Errorf("string %q: %s, gqlgen %s", s, got, want)
		}
	}
	for _, tm := range []time.Time{time.Date(2022, 8, 24, 23, 28, 4, 578533000, time.UTC), time.Time{},
		time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 5*3600))} {
		if got, want := scalars.AppendDateTime(nil, tm), marshal(scalars.MarshalDateTime(tm)); !bytes.Equal(got, want) {
			t.Errorf("DateTime %v: %s, gqlgen %s", tm, got, want)
		}
	}
	for _, s := range []db.ProcessingStatus{"completed", "failed", "somethingNew", ""} {
		if got, want := enums.AppendProcessingStatus(nil, s), marshal(enums.MarshalProcessingStatus(s)); !bytes.Equal(got, want) {
			t.Errorf("status %q: %s, gqlgen %s", s, got, want)
		}
	}
}

// Every input object of the schema is in the fast path's index of input unmarshalers (a copy
// of the list generated.go's Exec installs); one missing would send every query that uses it
// back to gqlgen.
func TestFastInputUnmarshalersComplete(t *testing.T) {
	ctx := graphql.WithLazyInputUnmarshalerIndex(context.Background(), inputUnmarshalers)
	for name, def := range parsedSchema.Types {
		if def.Kind != ast.InputObject {
			continue
		}
		var v any
		err := graphql.UnmarshalNamedInputFromContext(ctx, name, map[string]any{}, &v)
		if err != nil && strings.Contains(err.Error(), "no unmarshaler") {
			t.Errorf("input %s: %v; add it to inputUnmarshalers (graph/fast_types.go)", name, err)
		}
	}
}
