package gctune_test

import (
	"runtime"
	"runtime/metrics"
	"testing"

	"lcw-gateway/gctune"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, target uint64
		want         int
	}{
		{0, 64 * mib, 200},
		{10 * mib, 64 * mib, 200},  // 3 × 10 fits in 64
		{25 * mib, 64 * mib, 156},  // 25 × 2.56 = 64
		{40 * mib, 64 * mib, 100},  // 2 × 40 > 64: never below the runtime's default
		{64 * mib, 64 * mib, 100},  // at the target
		{500 * mib, 64 * mib, 100}, // past it
	} {
		if got := gctune.Percent(c.live, c.target); got != c.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", c.live/mib, c.target/mib, got, c.want)
		}
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// collect runs collections until the tuner has seen n more.
func collect(t *testing.T, tu *gctune.Tuner, n int64) {
	t.Helper()
	want := tu.Cycles() + n
	for i := 0; tu.Cycles() < want; i++ {
		if i == 10000 {
			t.Fatalf("the tuner saw %d collections of %d", tu.Cycles(), want)
		}
		runtime.GC()
		runtime.Gosched()
	}
}

var kept [][]byte

// The tuner follows the live heap after each collection, and Stop gives the old GOGC back.
func TestTunerFollowsTheLiveHeap(t *testing.T) {
	before := gogc()
	tu := gctune.Start(1<<30, func(string) string { return "" })
	if tu == nil {
		t.Fatal("no tuner without GOGC and GOMEMLIMIT in the environment")
	}
	collect(t, tu, 2)
	if g := gogc(); g != gctune.MaxPercent || tu.Percent() != gctune.MaxPercent {
		t.Fatalf("a small live heap under a 1 GiB target: GOGC %d (tuner %d), want %d", g, tu.Percent(), gctune.MaxPercent)
	}
	tu.Stop()
	if g := gogc(); g != before {
		t.Fatalf("after Stop GOGC is %d, want %d", g, before)
	}

	// A live heap of 16 MiB under a 24 MiB target: three times it does not fit, twice neither.
	kept = make([][]byte, 16)
	for i := range kept {
		kept[i] = make([]byte, 1<<20)
	}
	defer func() { kept = nil }()
	tu = gctune.Start(24<<20, func(string) string { return "" })
	defer tu.Stop()
	collect(t, tu, 2)
	if g := gogc(); g != gctune.MinPercent {
		t.Fatalf("a 16 MiB live heap under a 24 MiB target: GOGC %d, want %d", g, gctune.MinPercent)
	}
}

// GOGC or GOMEMLIMIT set by the operator win: the tuner does not start.
func TestOperatorsSettingsWin(t *testing.T) {
	before := gogc()
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		tu := gctune.Start(64<<20, func(k string) string {
			if k == name {
				return "150"
			}
			return ""
		})
		if tu != nil {
			tu.Stop()
			t.Fatalf("the tuner started with %s set", name)
		}
		if g := gogc(); g != before {
			t.Fatalf("with %s set GOGC became %d", name, g)
		}
	}
	if gctune.Start(0, func(string) string { return "" }) != nil {
		t.Fatal("the tuner started with no target")
	}
}
