package endpoint

import (
	"log/slog"
	"strings"
	"testing"

	"lcw-gateway/errcode"
)

// fieldFlood is the hostile document of issue 13: ~4,980 selected fields in 14 kB, under the token
// limit, which took gqlparser's validation 1.4 s of CPU.
// (test/integration's BenchmarkFieldFlood measures it through the server.)
func fieldFlood(comment string) string {
	return "# " + comment + "\n{ workflows(first: 1) { nodes {" + strings.Repeat(" id", 4980) + " } } }"
}

func TestNormalizedKey(t *testing.T) {
	base := normalizedKey(`{ workflows { nodes { id } } }`, 0)
	for _, same := range []string{
		"# a comment\n{workflows{nodes{id}}}",
		"{\n  workflows {\n    nodes { id } # trailing\n  }\n}\n",
		"{ workflows, { nodes { id } } }", // commas are insignificant too
	} {
		if got := normalizedKey(same, 0); got != base {
			t.Errorf("%q: another key than the same document spaced differently", same)
		}
	}
	for _, other := range []string{
		`{ workflows { nodes { id displayName } } }`,
		`{ workflows(first: 2) { nodes { id } } }`,
		`query Q($a: String = "id") { workflows { nodes { id } } }`,
		`query Q($a: String = id) { workflows { nodes { id } } }`,
	} {
		if got := normalizedKey(other, 0); got == base {
			t.Errorf("%q: the key of another document", other)
		}
	}
	if normalizedKey(`query Q($a: String = "id") { a }`, 0) == normalizedKey(`query Q($a: String = id) { a }`, 0) {
		t.Error("a string and a name with the same text share a key")
	}
	if k := normalizedKey(`{ "unterminated }`, 0); !strings.HasPrefix(k, "text:") {
		t.Errorf("a document that does not lex is keyed %q", k)
	}
}

// The flood is refused with max-fields before validation, whatever its comment says.
func TestFieldFloodIsRefusedBeforeValidation(t *testing.T) {
	h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{})
	for _, comment := range []string{"one", "two"} {
		r := send(t, h, postJSON(fieldFlood(comment), nil))
		checkSafe(t, r)
		if r.code() != errcode.LimitExceeded || r.Errors[0].Extensions["limit"] != limitFields {
			t.Fatalf("flood: %d %.300s", r.status, r.raw)
		}
	}
	checkGood(t, h)
}
