package gctune_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"lcw-gateway/gctune"
)

func TestRoomy(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live   uint64
		target int64
		want   bool
	}{
		{0, 64 * mib, true},
		{10 * mib, 64 * mib, true},
		{31 * mib, 64 * mib, true},
		{32 * mib, 64 * mib, false}, // twice the live heap is the target: the runtime's default
		{500 * mib, 64 * mib, false},
		{0, 0, false},
	} {
		if got := gctune.Roomy(c.live, c.target); got != c.want {
			t.Errorf("Roomy(%d MiB, %d MiB) = %v, want %v", c.live/mib, c.target/mib, got, c.want)
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

// The tuner follows the live heap after each collection, and Stop gives the old settings back.
func TestTunerFollowsTheLiveHeap(t *testing.T) {
	beforeGC, beforeLimit := gogc(), debug.SetMemoryLimit(-1)
	tu := gctune.Start(1<<30, func(string) string { return "" })
	if tu == nil {
		t.Fatal("no tuner without GOGC and GOMEMLIMIT in the environment")
	}
	collect(t, tu, 2)
	if g, l := gogc(), debug.SetMemoryLimit(-1); g != gctune.RoomyPercent || l != 1<<30 || !tu.Roomy() {
		t.Fatalf("a small live heap under a 1 GiB target: GOGC %d, limit %d, want %d and 1 GiB", g, l, gctune.RoomyPercent)
	}
	tu.Stop()
	if g, l := gogc(), debug.SetMemoryLimit(-1); g != beforeGC || l != beforeLimit {
		t.Fatalf("after Stop GOGC %d, limit %d, want %d and %d", g, l, beforeGC, beforeLimit)
	}

	// A live heap of 16 MiB under a 24 MiB target: twice it does not fit, so no limit to chase.
	kept = make([][]byte, 16)
	for i := range kept {
		kept[i] = make([]byte, 1<<20)
	}
	defer func() { kept = nil }()
	tu = gctune.Start(24<<20, func(string) string { return "" })
	defer tu.Stop()
	collect(t, tu, 2)
	if g, l := gogc(), debug.SetMemoryLimit(-1); g != gctune.DefaultPercent || l != math.MaxInt64 || tu.Roomy() {
		t.Fatalf("a 16 MiB live heap under a 24 MiB target: GOGC %d, limit %d, want %d and none", g, l, gctune.DefaultPercent)
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
