package msgraph

import (
	"context"
	"fmt"
	"os"

	"lcw-gateway/db"
)

// ImportDir loads a folder of saved Graph responses (laid out as in fixtures/README.md) into
// sink, normally a *db.Store. It reads the whole folder once without writing, so a bad file
// anywhere leaves the store as it was, then again writing one transaction per file. Records
// are upserted by id, so importing the same folder twice changes nothing.
func ImportDir(ctx context.Context, sink Sink, dir string) (Stats, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	if !info.IsDir() {
		return Stats{}, fmt.Errorf("import: %s is not a folder", dir)
	}
	src := DirSource{Dir: dir}
	if _, err := Walk(ctx, src, Discard{}); err != nil {
		return Stats{}, fmt.Errorf("import: nothing written: %w", err)
	}
	stats, err := Walk(ctx, src, sink)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	return stats, nil
}

// The store is the sink that writes.
var _ Sink = (*db.Store)(nil)
