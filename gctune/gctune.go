// Package gctune sets how often the garbage collector runs in the gateway's server. A request
// to the gateway allocates much and keeps little, so at the runtime's default (GOGC=100, a heap
// goal twice the live heap) the collector ran a seventh of a small lookup's CPU
// (docs/performance.md). GOGC=200 cuts that, but a heap goal three times the live heap would let
// the dashboard at 50 connections grow the process past its memory budget. So the tuner lets the
// goal grow to three times the live heap only while that stays under a soft target, and never
// makes the collector run more often than the runtime's default: after each collection it sets
// GOGC to the largest value in [100, 200] whose goal fits the target (100 when none does).
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

const (
	// MinPercent is the runtime's default GOGC: the tuner never collects more often than it.
	MinPercent = 100
	// MaxPercent is the most the tuner lets the heap grow between collections.
	MaxPercent = 200
)

// Tuner adjusts GOGC after every garbage collection until Stop.
type Tuner struct {
	target  uint64
	sample  []metrics.Sample
	mu      sync.Mutex // Stop and adjust: no GOGC is set after Stop restored the old one
	stopped bool
	percent atomic.Int64
	cycles  atomic.Int64
	old     int
}

// Start tunes GOGC for a soft heap target of target bytes. It does nothing (nil) when
// target <= 0 or when the operator set GOGC or GOMEMLIMIT in the environment (getenv): their
// settings are the runtime's and stay as they are.
func Start(target int64, getenv func(string) string) *Tuner {
	if target <= 0 || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return nil
	}
	t := &Tuner{target: uint64(target), sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.percent.Store(MaxPercent)
	t.old = debug.SetGCPercent(MaxPercent) // nothing is live yet: the largest goal fits
	t.adjust()
	t.arm()
	return t
}

// Stop ends the tuning and gives the runtime back the GOGC it had before Start.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.old)
	}
}

// Percent is the GOGC the tuner set last.
func (t *Tuner) Percent() int { return int(t.percent.Load()) }

// Cycles is how many collections the tuner has seen.
func (t *Tuner) Cycles() int64 { return t.cycles.Load() }

// sentinel is an object nothing refers to: its finalizer runs once after the next collection.
// It holds a pointer so it is never one of the tiny allocations a finalizer may not run for.
type sentinel struct{ _ *int }

func (t *Tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.adjust() {
			t.cycles.Add(1)
			t.arm()
		}
	})
}

// adjust sets GOGC for the live heap the last collection left: the largest percent in
// [MinPercent, MaxPercent] whose goal, live × (1 + percent/100), stays under the target; false
// once stopped.
func (t *Tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	if p := Percent(t.sample[0].Value.Uint64(), t.target); int64(p) != t.percent.Load() {
		t.percent.Store(int64(p))
		debug.SetGCPercent(p)
	}
	return true
}

// Percent is the GOGC the tuner chooses for a live heap of live bytes and a target of target.
func Percent(live, target uint64) int {
	if live == 0 {
		return MaxPercent
	}
	if target <= live {
		return MinPercent
	}
	p := (target - live) * 100 / live
	return int(min(max(p, MinPercent), MaxPercent))
}
