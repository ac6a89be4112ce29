package scalars

import (
	"math/rand/v2"
	"testing"
	"time"
)

// AppendDateTime writes what time's own formatter writes with Graph's layout, for any instant
// (before 1970, leap days, the ends of the four-digit years, any location).
func TestAppendDateTimeAsTimeFormat(t *testing.T) {
	times := []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(-86400, 1),
		time.Date(2000, 2, 29, 23, 59, 59, 999_999_999, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 100, time.UTC),
		time.Date(2100, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(1600, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 5*3600)), time.Date(2026, 1, 1, 0, 30, 0, 0, time.FixedZone("y", -3600))}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		times = append(times, time.Unix(rnd.Int64N(500*365*86400)-250*365*86400, rnd.Int64N(1e9)))
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format(graphLayout) + `"`
		if got := AppendDateTime(nil, tm); string(got) != want {
			t.Fatalf("%v: %s, want %s", tm, got, want)
		}
	}
}
