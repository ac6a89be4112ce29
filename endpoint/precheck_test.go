package endpoint

import (
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"lcw-gateway/errcode"
)

// fieldFlood is the hostile document of issue 13: ~4,980 selected fields in 14 kB, under the token
// limit, which took gqlparser's validation 1.4 s of CPU.
func fieldFlood(comment string) string { return fieldsOfID(4980, comment) }

// fieldsOfID is a document that selects id n times (n+2 fields in all).
func fieldsOfID(n int, comment string) string {
	return fmt.Sprintf("# %s\n{ workflows(first: 1) { nodes {%s } } }", comment, strings.Repeat(" id", n))
}

// fieldsOfIDNamed is fieldsOfID as an operation named name: another document for the cache.
func fieldsOfIDNamed(n int, name string) string {
	return fmt.Sprintf("query %s { workflows(first: 1) { nodes {%s } } }", name, strings.Repeat(" id", n))
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

// BenchmarkFieldFlood is the cost of answering the flood: refused before validation by the
// default policy, and validated in full with max-fields off (the cost before the check existed);
// and the cost of the largest document the default admits, validated. Each iteration changes the
// operation's name, so the document cache cannot help.
func BenchmarkFieldFlood(b *testing.B) {
	store := seededStore(b)
	atLimit := DefaultPolicy().MaxFields - 2
	for _, tc := range []struct {
		name      string
		ids       int
		maxFields int
	}{{"refused", 4980, DefaultPolicy().MaxFields}, {"validated", 4980, 0}, {"admitted-at-limit", atLimit, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			p := DefaultPolicy()
			p.MaxFields = tc.maxFields
			p.RequestTimeout = 0 // a loaded machine must not turn the measurement into a refusal
			h := NewHandler(store, slog.New(slog.DiscardHandler), Options{Policy: &p})
			b.ReportAllocs()
			cpu := processCPU()
			defer func() { b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op") }()
			for i := 0; b.Loop(); i++ {
				r := send(b, h, postJSON(fieldsOfIDNamed(tc.ids, fmt.Sprintf("Q%d", i)), nil))
				if refused := len(r.Errors) > 0; refused != (tc.maxFields > 0 && tc.ids+2 > tc.maxFields) {
					b.Fatalf("refused %v: %.200s", refused, r.raw)
				}
			}
		})
	}
}

// processCPU is the CPU time the process has used: on a shared machine, wall time per operation
// says more about the neighbours than about the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
