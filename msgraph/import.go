package msgraph

import (
	"context"
	"fmt"
	"io/fs"
	"iter"
	"lcw-gateway/db"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// importGroupRows is how many rows an import hands the store in one write (see pipeline), about
// 10 files of results. Writes are no longer the unit of a transaction (an import is one), so
// a group needs only to fill a few full statements; 5,000 rows held about 20 MB more at once.
const importGroupRows = 2_000

// ImportDir loads a folder of saved Graph responses (laid out as in testdata/fixtures/README.md) into
// sink, normally a *db.Store, in one transaction: a bad file anywhere, a failed write or a
// canceled import leaves the store as it was. Files are read one at a time and their rows
// written in groups of importGroupRows, so memory stays bounded whatever the folder's size.
// Records are upserted by id and unchanged rows are not written again, so importing the same
// folder twice changes nothing and the second time costs little more than reading the files.
//
// progress is called with the records written so far and an estimate of the total, from the
// bytes of records read so far against the folder's size; the last call has the exact total.
func ImportDir(ctx context.Context, sink Sink, dir string, progress ...func(done, total int64)) (Stats, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	if !info.IsDir() {
		return Stats{}, fmt.Errorf("import: %s is not a folder", dir)
	}
	src := &meteredSource{dir: DirSource{Dir: dir}}
	size, err := folderSize(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	var done atomic.Int64
	report := func(_ string, n int) {
		d := done.Add(int64(n))
		total := d
		if read := src.bytes.Load(); read > 0 && read < size {
			total = max(d, d*size/read)
		}
		for _, p := range progress {
			p(d, total)
		}
	}
	var stats Stats
	err = sink.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true, Copy: true}, func(ctx context.Context) error {
		var memo *db.ImportMemo
		if m, ok := sink.(memoStore); ok {
			var err error
			if memo, err = m.OpenImportMemo(ctx); err != nil {
				return err
			}
		}
		pipe := newPipeline(ctx, sink, importGroupRows, memo)
		opts := WalkOptions{Progress: report}
		if memo != nil {
			opts.Memo = pipe
		}
		walked, err := WalkWith(ctx, src, pipe, opts)
		written, werr := pipe.Close(err == nil)
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		if memo != nil {
			if err := memo.Finish(ctx); err != nil {
				return err
			}
		}
		walked.Written = written
		stats = walked
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("import: nothing written: %w", err)
	}
	for _, p := range progress {
		p(done.Load(), done.Load())
	}
	return stats, nil
}

// memoStore is a sink that keeps an import memo (*db.Store): ImportDir then skips the pages of
// results that an earlier import stored and that nothing has changed since (db/importmemo.go).
type memoStore interface {
	OpenImportMemo(ctx context.Context) (*db.ImportMemo, error)
}

// meteredSource counts the bytes of the records its pages hold (of a raw page, its bytes).
type meteredSource struct {
	dir   DirSource
	bytes atomic.Int64
}

func (m *meteredSource) Raw(ctx context.Context, req Request) (string, []byte, error) {
	where, b, err := m.dir.Raw(ctx, req)
	m.bytes.Add(int64(len(b)))
	return where, b, err
}

func (m *meteredSource) Pages(ctx context.Context, req Request) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		for p, err := range m.dir.Pages(ctx, req) {
			if p != nil {
				for _, raw := range p.Value {
					m.bytes.Add(int64(len(raw)))
				}
			}
			if !yield(p, err) {
				return
			}
		}
	}
}

// folderSize is the size of the JSON files under dir.
func folderSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".json") {
			return err
		}
		info, err := d.Info()
		if err == nil {
			size += info.Size()
		}
		return err
	})
	return size, err
}
