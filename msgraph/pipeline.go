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
//
// With an import memo it is the walk's PageMemo too: the memo's reads and writes go through the
// same goroutine, in order with the rows, so the transaction has one user at a time.
type pipeline struct {
	next  Sink
	rows  int
	memo  *db.ImportMemo // nil: none
	queue chan pipelineItem
	done  chan struct{}

	mu      sync.Mutex
	pending db.Batch
	memos   []db.ImportPage // of the pages in pending, remembered after their rows are written
	written db.WriteStats
	err     error // the first write error; later batches are dropped
}

// pipelineItem is a batch to write and the pages to remember after it, or a memo read (run, then
// done closed).
type pipelineItem struct {
	batch db.Batch
	memos []db.ImportPage
	run   func(ctx context.Context) error
	done  chan struct{}
}

func newPipeline(ctx context.Context, next Sink, rows int, memo *db.ImportMemo) *pipeline {
	p := &pipeline{next: next, rows: rows, memo: memo, queue: make(chan pipelineItem, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for it := range p.queue {
			if p.failed() == nil {
				p.fail(p.handle(ctx, it))
			}
			if it.done != nil {
				close(it.done)
			}
		}
	}()
	return p
}

func (p *pipeline) handle(ctx context.Context, it pipelineItem) error {
	if it.run != nil {
		return it.run(ctx)
	}
	if it.batch.Len() > 0 {
		if p.memo != nil && len(it.batch.TaskProcessingResults)+len(it.batch.UserProcessingResults) > 0 {
			p.memo.ResultsWritten()
		}
		st, err := p.next.Write(ctx, it.batch)
		p.mu.Lock()
		p.written = p.written.Add(st)
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
	for _, m := range it.memos {
		if err := p.memo.Remember(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (p *pipeline) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil && p.err == nil {
		p.err = err
	}
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
	var full pipelineItem
	if p.pending.Len() >= p.rows {
		full = p.take()
	}
	p.mu.Unlock()
	if full.batch.Len() > 0 {
		p.queue <- full
	}
	return db.WriteStats{}, nil
}

// take empties what is gathered into an item (p.mu held).
func (p *pipeline) take() pipelineItem {
	it := pipelineItem{batch: p.pending, memos: p.memos}
	p.pending, p.memos = db.Batch{}, nil
	return it
}

func (p *pipeline) BulkLoad(ctx context.Context, opts db.LoadOptions, fn func(context.Context) error) error {
	return p.next.BulkLoad(ctx, opts, fn)
}

// Recall looks a page up in the memo. Results gathered but not written yet are written first:
// a row they move from one report to another changes what the memo's check counts.
func (p *pipeline) Recall(ctx context.Context, kind, parent, digest string) (db.ImportPage, bool, error) {
	if p.memo == nil || !p.memo.Valid() {
		return db.ImportPage{}, false, nil
	}
	p.mu.Lock()
	var earlier pipelineItem
	if len(p.pending.TaskProcessingResults)+len(p.pending.UserProcessingResults) > 0 {
		earlier = p.take()
	}
	p.mu.Unlock()
	if earlier.batch.Len() > 0 {
		p.queue <- earlier
	}
	var page db.ImportPage
	var ok bool
	done := make(chan struct{})
	p.queue <- pipelineItem{done: done, run: func(ctx context.Context) error {
		var err error
		if page, ok, err = p.memo.Recall(ctx, kind, parent, digest); ok {
			p.memo.Used(digest)
		}
		return err
	}}
	<-done
	if err := p.failed(); err != nil {
		return db.ImportPage{}, false, err
	}
	return page, ok, nil
}

// Remember records a page once the rows gathered with it are written.
func (p *pipeline) Remember(page db.ImportPage) {
	p.mu.Lock()
	p.memos = append(p.memos, page)
	p.mu.Unlock()
}

// Skipped counts the rows of a recalled page.
func (p *pipeline) Skipped(st db.WriteStats) {
	p.mu.Lock()
	p.written = p.written.Add(st)
	p.mu.Unlock()
}

// Close writes what is gathered (unless flush is false: the walk failed and its writes are to be
// rolled back), waits for the writes, and returns what they did.
func (p *pipeline) Close(flush bool) (db.WriteStats, error) {
	p.mu.Lock()
	last := p.take()
	p.mu.Unlock()
	if flush && (last.batch.Len() > 0 || len(last.memos) > 0) {
		p.queue <- last
	}
	close(p.queue)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written, p.err
}
