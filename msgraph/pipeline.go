package msgraph

import (
	"context"
	"sync"

	"lcw-gateway/db"
)

// pipeline is a Sink that gathers the batches of consecutive pages and hands them, once they
// hold at least rows rows, to next on a goroutine of its own: decoding the next pages goes on
// while the store writes, and the store gets few, large writes. Page-sized writes cost a store
// most of its time: each rewrites every index page its rows land on, and results land all
// over each index. Memory stays bounded: one batch being gathered, one queued, one being written.
type pipeline struct {
	next  Sink
	rows  int
	queue chan db.Batch
	done  chan struct{}

	mu      sync.Mutex
	pending db.Batch
	written db.WriteStats
	err     error // the first write error; later batches are dropped
}

func newPipeline(ctx context.Context, next Sink, rows int) *pipeline {
	p := &pipeline{next: next, rows: rows, queue: make(chan db.Batch, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for b := range p.queue {
			if p.failed() != nil {
				continue
			}
			st, err := next.Write(ctx, b)
			p.mu.Lock()
			p.written = p.written.Add(st)
			if err != nil && p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write gathers b; it reports the error of an earlier write, so a walk stops at the first one.
// What it wrote is counted by Close.
func (p *pipeline) Write(_ context.Context, b db.Batch) (db.WriteStats, error) {
	if err := p.failed(); err != nil {
		return db.WriteStats{}, err
	}
	p.mu.Lock()
	p.pending = p.pending.Append(b)
	var full db.Batch
	if p.pending.Len() >= p.rows {
		full, p.pending = p.pending, db.Batch{}
	}
	p.mu.Unlock()
	if full.Len() > 0 {
		p.queue <- full
	}
	return db.WriteStats{}, nil
}

func (p *pipeline) BulkLoad(ctx context.Context, opts db.LoadOptions, fn func(context.Context) error) error {
	return p.next.BulkLoad(ctx, opts, fn)
}

// Close writes what is gathered (unless flush is false: the walk failed and its writes are to be
// rolled back), waits for the writes, and returns what they did.
func (p *pipeline) Close(flush bool) (db.WriteStats, error) {
	p.mu.Lock()
	last := p.pending
	p.pending = db.Batch{}
	p.mu.Unlock()
	if flush && last.Len() > 0 {
		p.queue <- last
	}
	close(p.queue)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written, p.err
}
