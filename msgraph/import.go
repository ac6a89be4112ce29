package msgraph

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"lcw-gateway/db"
)

// ImportDir loads a folder of saved Graph responses (laid out as in fixtures/README.md) into
// sink, normally a *db.Store. It reads the whole folder once without writing, so a bad file
// anywhere leaves the store as it was, then again writing one transaction per file. Records
// are upserted by id, so importing the same folder twice changes nothing.
func ImportDir(ctx context.Context, sink Sink, dir string, progress ...func(done, total int64)) (Stats, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	if !info.IsDir() {
		return Stats{}, fmt.Errorf("import: %s is not a folder", dir)
	}
	src := DirSource{Dir: dir}
	// The validating pass also counts the records, so the writing pass can show its progress.
	var total, done atomic.Int64
	count := func(_ string, n int) { total.Add(int64(n)) }
	if _, err := WalkWith(ctx, src, Discard{}, WalkOptions{Progress: count}); err != nil {
		return Stats{}, fmt.Errorf("import: nothing written: %w", err)
	}
	report := func(_ string, n int) {
		d := done.Add(int64(n))
		for _, p := range progress {
			p(d, total.Load())
		}
	}
	stats, err := WalkWith(ctx, src, sink, WalkOptions{Progress: report})
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	return stats, nil
}

// The store is the sink that writes.
var _ Sink = (*db.Store)(nil)
