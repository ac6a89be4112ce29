package db

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// The filter of ids a load wrote never forgets one (a row it wrote is never inserted plainly a
// second time) and seldom claims one it did not see (such a row only takes the upsert).
func TestIDFilterHasNoFalseNegatives(t *testing.T) {
	f := &idFilter{seed: maphash.MakeSeed()}
	const n = 200_000
	for i := range n {
		f.add(fmt.Sprintf("id-%d", i))
	}
	for i := range n {
		if f.add(fmt.Sprintf("id-%d", i)) {
			t.Fatalf("id-%d forgotten", i)
		}
	}
	positives := 0
	for i := range n {
		if !f.add(fmt.Sprintf("other-%d", i)) {
			positives++
		}
	}
	if rate := float64(positives) / n; rate > 0.01 {
		t.Errorf("false positives: %.2f%%", 100*rate)
	}
}
