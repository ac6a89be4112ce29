package live

import (
	"context"
	"log/slog"
	"time"

	"lcw-gateway/db"
)

// pruneBatch bounds one DELETE, so pruning never holds the write lock for long.
const pruneBatch = 5000

// Prune deletes change feed entries older than retention in the background until ctx ends: a
// pass every few minutes, in bounded batches.
func Prune(ctx context.Context, store *db.Store, retention time.Duration, logger *slog.Logger) {
	if retention <= 0 {
		return
	}
	every := min(retention/4, 5*time.Minute)
	for {
		var total int64
		for ctx.Err() == nil {
			n, err := store.PruneChanges(ctx, retention, pruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					logger.Warn("cannot prune the change feed", "error", err)
				}
				break
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
		if total > 0 {
			logger.Info("change feed pruned", "entries", total, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
