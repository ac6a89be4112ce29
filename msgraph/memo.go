package msgraph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"lcw-gateway/db"
)

// memoFormat is part of every page digest. Bump it when a conversion of results or user
// processing results (wire.go) changes what a page stores: pages remembered by an older gateway
// are then read again. TestMemoFormatCoversConversions pins the conversions' output.
const memoFormat = "lcw-import-memo/1"

// PageMemo lets a walk skip a page of results that an earlier import stored and that is still
// what the store holds (db.ImportMemo says when): the walk neither decodes it nor reads its rows
// back, and hands on what the page gave last time (its counts, subjects and inline tasks).
type PageMemo interface {
	// Recall finds a remembered page by kind (db.MemoResults, db.MemoUserResults), the report
	// or run it is listed under, and digest.
	Recall(ctx context.Context, kind, parent, digest string) (db.ImportPage, bool, error)
	// Remember records a page the walk decoded and wrote.
	Remember(p db.ImportPage)
	// Skipped counts the rows of a recalled page: unchanged, as a write would have found them.
	Skipped(st db.WriteStats)
}

// RawSource is a Source that hands over a collection's response undecoded (DirSource).
type RawSource interface {
	Raw(ctx context.Context, req Request) (where string, b []byte, err error)
}

// pageDigest names a page's content and where it was listed (the ids its rows take from the
// path), for this gateway's conversions.
func pageDigest(kind string, key []string, b []byte) string {
	h := sha256.New()
	for _, s := range append([]string{memoFormat, kind}, key...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// eachRemembered calls fn for the page of req (an optional collection, one page: a folder's
// file) unless the memo holds it, in which case it calls hit instead. fn returns what the memo
// is to remember of the page. Without a memo, or a source that reads raw pages, it is each.
func (w *walker) eachRemembered(ctx context.Context, req Request, kind, parent string, key []string,
	hit func(db.ImportPage) error, fn func(context.Context, *Page) (db.ImportPage, error)) error {
	raw, ok := w.src.(RawSource)
	if w.opts.Memo == nil || !ok {
		return w.each(ctx, req, true, func(ctx context.Context, p *Page) error {
			_, err := fn(ctx, p)
			return err
		})
	}
	where, b, err := raw.Raw(ctx, req)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	digest := pageDigest(kind, key, b)
	remembered, ok, err := w.opts.Memo.Recall(ctx, kind, parent, digest)
	if err != nil {
		return err
	}
	if ok {
		return hit(remembered)
	}
	page, err := decodePage(where, b)
	if err != nil {
		return err
	}
	if len(page.Value) == 0 {
		return nil
	}
	got, err := fn(ctx, page)
	if err != nil {
		return err
	}
	got.Digest, got.Kind, got.Parent = digest, kind, parent
	w.opts.Memo.Remember(got)
	return nil
}

// inlineTask is a result's inline task, as converted and as Graph wrote it.
type inlineTask struct {
	model db.Task
	wire  *wireTask
}

// rememberTasks keeps, of a page's inline tasks, the ones unsentTasks would consider (the last of
// each id, in dedupe's order), as Graph wrote them.
func rememberTasks(tasks []inlineTask) (json.RawMessage, error) {
	kept := dedupe(tasks, func(t inlineTask) string { return t.model.ID })
	wire := make([]*wireTask, len(kept))
	for i, t := range kept {
		wire[i] = t.wire
	}
	return json.Marshal(wire)
}

// recalledTasks converts a remembered page's inline tasks again, as decoding the page would.
func recalledTasks(raw json.RawMessage, workflowID string) ([]db.Task, error) {
	var wire []*wireTask
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, err
	}
	out := make([]db.Task, 0, len(wire))
	for _, t := range wire {
		m, err := t.model(workflowID)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// distinctIDs returns the distinct ids in order of first appearance.
func distinctIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
