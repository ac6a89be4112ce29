// Package gctune sets how often the garbage collector runs in the gateway's server. A request
// to the gateway allocates much and keeps little, so at the runtime's default (GOGC=100, a heap
// goal twice the live heap) the collector ran a seventh of a small lookup's CPU
// (docs/performance.md). GOGC=200 cuts that, but alone it would let the dashboard at 50
// connections grow the process past its memory budget. So the heap may grow to three times the
// live heap under a soft memory limit (the target, debug.SetMemoryLimit), and only while twice
// the live heap fits in that limit: when it does not, the limit is lifted and GOGC is the
// runtime's 100 again, so the collector never has to run more often than at the runtime's
// default to honour the target. The tuner decides again after every collection.
package gctune

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

const (
	// DefaultPercent is the runtime's GOGC, in force when the live heap is too large for the target.
	DefaultPercent = 100
	// RoomyPercent is GOGC while the live heap is small beside the target.
	RoomyPercent = 200
)

// Tuner adjusts GOGC and the memory limit after every garbage collection until Stop.
type Tuner struct {
	target   int64
	sample   []metrics.Sample
	mu       sync.Mutex // Stop and adjust: nothing is set after Stop restored the old settings
	stopped  bool
	roomy    atomic.Bool
	cycles   atomic.Int64
	oldGC    int
	oldLimit int64
}

// Start tunes the collector for a soft memory target of target bytes. It does nothing (nil)
// when target <= 0 or when the operator set GOGC or GOMEMLIMIT in the environment (getenv):
// their settings are the runtime's and stay as they are.
func Start(target int64, getenv func(string) string) *Tuner {
	if target <= 0 || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return nil
	}
	t := &Tuner{target: target, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.oldGC = debug.SetGCPercent(DefaultPercent)
	t.oldLimit = debug.SetMemoryLimit(-1)
	t.adjust()
	t.arm()
	return t
}

// Stop ends the tuning and gives the runtime back the GOGC and memory limit it had before Start.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.oldGC)
		debug.SetMemoryLimit(t.oldLimit)
	}
}

// Roomy tells whether the tuner last chose GOGC=200 under the memory limit.
func (t *Tuner) Roomy() bool { return t.roomy.Load() }

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

// adjust chooses for the live heap the last collection left; false once stopped.
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
	roomy := Roomy(t.sample[0].Value.Uint64(), t.target)
	if roomy == t.roomy.Load() && t.cycles.Load() > 0 {
		return true
	}
	t.roomy.Store(roomy)
	if roomy {
		debug.SetMemoryLimit(t.target)
		debug.SetGCPercent(RoomyPercent)
	} else {
		debug.SetGCPercent(DefaultPercent)
		debug.SetMemoryLimit(math.MaxInt64)
	}
	return true
}

// Roomy tells whether a live heap of live bytes leaves room under target for GOGC=200: whether
// the runtime's default goal, twice the live heap, fits in it.
func Roomy(live uint64, target int64) bool {
	return target > 0 && live < uint64(target)/2
}
