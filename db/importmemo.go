package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	gojson "github.com/goccy/go-json"

	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// The import memo (migration 00009): what an import remembers of the pages of results it stored,
// so that importing the same folder again skips an unchanged page whole, neither decoding it nor
// reading its rows back (that was most of a repeated import). A page is remembered by a digest of
// its bytes and of where it was listed; the memo trusts that the stored rows are still the ones
// the page produced, which holds while nothing else has written the tenant's results since the
// import that remembered it:
//
//   - inserts and updates of results write change-feed entries (triggers, every write path):
//     an entry of the tenant after the memo's feed_seq voids the memo, and so does pruning of
//     the feed past it (entries the check could not see);
//   - deletes of results (pruning with --retain, any other) void it by trigger (00009);
//   - a remembered page is used only when the tenant still stores as many rows under its report
//     (or run) as it had: a result id listed under two reports (a later page moved the row) is
//     read again.
//
// The memo is read and written in the import's transaction: on SQLite writers take turns
// (BEGIN IMMEDIATE); on PostgreSQL the import takes the change feed's lock (the one every
// transaction that records entries, or deletes results, takes), so no other writer's entries can
// appear between the check and the commit.

const (
	tableImportMemo  = "import_memo"
	tableImportPages = "import_pages"
	// feedLock is the advisory lock of the change feed's triggers (00003, 00009).
	feedLock = 7436291105
)

// What a remembered page holds rows of.
const (
	MemoResults     = "taskProcessingResults" // keyed by its report
	MemoUserResults = "userProcessingResults" // keyed by its run
)

// ImportPage is what the walker got from one page of results.
type ImportPage struct {
	Digest string
	// Kind is MemoResults or MemoUserResults; Parent the report (or run) id the rows are under.
	Kind, Parent string
	// Records is how many records the page held, Rows how many distinct ids.
	Records, Rows int
	// Subjects are the distinct subject ids the page named, in order.
	Subjects []string
	// Tasks are the page's inline tasks as Graph wrote them (JSON), for the walker to convert
	// again: a remembered page sends them as decoding it would have.
	Tasks json.RawMessage
}

// ImportMemo is a tenant's memo as one import sees it.
type ImportMemo struct {
	s     *Store
	valid bool  // the remembered pages can be trusted
	gen   int64 // the generation this import writes
	used  []string
	// pages are the remembered pages' counts by digest, read once when the memo opens valid:
	// a page that is not remembered costs no statement. Their subjects and tasks are read per
	// page recalled (they are most of the memo's size).
	pages map[string]memoPage
	// stored are the tenant's rows per report (MemoResults) and per run (MemoUserResults) when
	// the memo opened, counted once; nil when the tenant stores far more rows than the memo
	// remembers, and once the import has written results (ResultsWritten), which may have moved
	// rows between parents: holds then counts per page.
	stored map[string]map[string]int
}

// memoPage is what OpenImportMemo reads of a remembered page.
type memoPage struct{ records, rows int }

// OpenImportMemo reads the tenant's memo in the caller's transaction (inside BulkLoad or Atomic)
// and tells whether it can be trusted.
func (s *Store) OpenImportMemo(ctx context.Context) (*ImportMemo, error) {
	tx, ok := ctx.Value(txKey{s}).(*gorm.DB)
	if !ok {
		return nil, errors.New("import memo: needs the import's transaction")
	}
	tx = tx.WithContext(ctx)
	if s.postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", feedLock).Error; err != nil {
			return nil, fmt.Errorf("import memo: %w", err)
		}
	}
	var state []struct {
		Generation int64
		FeedSeq    int64
	}
	err := tx.Raw("SELECT generation, feed_seq FROM "+tableImportMemo+" WHERE tenant_id = ?", tenant.From(ctx)).Scan(&state).Error
	if err != nil {
		return nil, fmt.Errorf("import memo: %w", err)
	}
	m := &ImportMemo{s: s, gen: 1}
	if len(state) == 0 {
		// Voided (or never written): pages of an older memo must not count as this one's.
		if err := tx.Exec("DELETE FROM "+tableImportPages+" WHERE tenant_id = ?", tenant.From(ctx)).Error; err != nil {
			return nil, fmt.Errorf("import memo: %w", err)
		}
		return m, nil
	}
	m.gen = state[0].Generation + 1
	var feed struct{ Newest, Oldest, Later int64 }
	err = tx.Raw(`SELECT COALESCE(MAX(seq), 0) AS newest, COALESCE(MIN(seq), 0) AS oldest,
		(SELECT COUNT(*) FROM (SELECT 1 FROM change_feed WHERE seq > ? AND tenant_id = ? LIMIT 1) AS l) AS later
		FROM change_feed`, state[0].FeedSeq, tenant.From(ctx)).Scan(&feed).Error
	if err != nil {
		return nil, fmt.Errorf("import memo: %w", err)
	}
	// No entry since; or none of this tenant, with the feed still holding its entries from
	// before the memo (pruning goes oldest first and always keeps the newest entry).
	m.valid = feed.Newest == state[0].FeedSeq ||
		feed.Later == 0 && feed.Oldest > 0 && feed.Oldest <= state[0].FeedSeq
	if m.valid {
		if err := m.load(tx, tenant.From(ctx)); err != nil {
			return nil, fmt.Errorf("import memo: %w", err)
		}
	}
	return m, nil
}

// load reads the remembered pages' digests and counts, and counts the tenant's stored rows per
// report and per run: a few statements per import instead of two per page.
func (m *ImportMemo) load(tx *gorm.DB, tenantID string) error {
	var pages []struct {
		Digest              string
		Records, StoredRows int
	}
	err := tx.Raw("SELECT digest, records, stored_rows FROM "+tableImportPages+" WHERE tenant_id = ? AND generation = ?",
		tenantID, m.gen-1).Scan(&pages).Error
	if err != nil {
		return err
	}
	m.pages = make(map[string]memoPage, len(pages))
	remembered := 0
	for _, p := range pages {
		m.pages[p.Digest] = memoPage{records: p.Records, rows: p.StoredRows}
		remembered += p.StoredRows
	}
	stored := map[string]map[string]int{}
	for kind, parent := range map[string]string{MemoResults: "task_report_id", MemoUserResults: "run_id"} {
		table := tableResults
		if kind == MemoUserResults {
			table = tableUserResults
		}
		// Counting every row of a tenant that stores far more than the memo remembers (an
		// earlier, larger import) would cost more than counting per page: then holds counts
		// per page, as before. The probe reads at most twice the remembered rows.
		var some int
		err := tx.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM "+table+" WHERE tenant_id = ? LIMIT ?) AS probe", tenantID, 2*remembered+1).Scan(&some).Error
		if err != nil {
			return err
		}
		if some > 2*remembered {
			return nil
		}
		var counts []struct {
			Parent string
			N      int
		}
		err = tx.Raw("SELECT "+parent+" AS parent, COUNT(*) AS n FROM "+table+" WHERE tenant_id = ? GROUP BY "+parent, tenantID).Scan(&counts).Error
		if err != nil {
			return err
		}
		stored[kind] = make(map[string]int, len(counts))
		for _, c := range counts {
			stored[kind][c.Parent] = c.N
		}
	}
	m.stored = stored
	return nil
}

// ResultsWritten tells the memo that the import has written results (or user processing
// results): the rows it counted when it opened may have moved between parents since.
func (m *ImportMemo) ResultsWritten() { m.stored = nil }

// Valid tells whether remembered pages may be used.
func (m *ImportMemo) Valid() bool { return m.valid }

// Recall finds the page with this digest, when the memo is valid and the tenant still stores as
// many rows under the page's parent as the page had. The rows of pages written earlier in this
// import must be written first: they may have moved rows between parents.
func (m *ImportMemo) Recall(ctx context.Context, kind, parent, digest string) (ImportPage, bool, error) {
	if !m.valid {
		return ImportPage{}, false, nil
	}
	remembered, ok := m.pages[digest]
	if !ok {
		return ImportPage{}, false, nil
	}
	if ok, err := m.holds(ctx, kind, parent, remembered.rows); !ok || err != nil {
		return ImportPage{}, false, err
	}
	tx := ctx.Value(txKey{m.s}).(*gorm.DB).WithContext(ctx)
	var subjects, tasks string
	err := tx.Raw("SELECT subjects, tasks FROM "+tableImportPages+" WHERE tenant_id = ? AND digest = ? AND generation = ?",
		tenant.From(ctx), digest, m.gen-1).Row().Scan(&subjects, &tasks)
	if errors.Is(err, sql.ErrNoRows) {
		return ImportPage{}, false, nil
	}
	if err != nil {
		return ImportPage{}, false, err
	}
	p := ImportPage{Digest: digest, Kind: kind, Parent: parent, Records: remembered.records, Rows: remembered.rows, Tasks: json.RawMessage(tasks)}
	// The memo wrote the list with encoding/json: goccy decodes it several times faster.
	if err := gojson.Unmarshal([]byte(subjects), &p.Subjects); err != nil {
		return ImportPage{}, false, nil // not one we wrote: read the page
	}
	return p, true, nil
}

// holds tells whether the tenant stores exactly rows rows of kind under parent.
func (m *ImportMemo) holds(ctx context.Context, kind, parent string, rows int) (bool, error) {
	if m.stored != nil {
		return m.stored[kind][parent] == rows, nil
	}
	table, col := tableResults, "task_report_id"
	if kind == MemoUserResults {
		table, col = tableUserResults, "run_id"
	}
	var n int64
	err := m.s.scopedIn(ctx.Value(txKey{m.s}).(*gorm.DB).WithContext(ctx), ctx, table).Where(col+" = ?", parent).Count(&n).Error
	return err == nil && n == int64(rows), err
}

// Used keeps a recalled page in the memo this import leaves.
func (m *ImportMemo) Used(digest string) { m.used = append(m.used, digest) }

// Remember records a page this import stored (in its transaction, after the page's rows).
func (m *ImportMemo) Remember(ctx context.Context, p ImportPage) error {
	subjects, err := json.Marshal(p.Subjects)
	if err != nil {
		return err
	}
	tasks := p.Tasks
	if len(tasks) == 0 {
		tasks = json.RawMessage("[]")
	}
	tx := ctx.Value(txKey{m.s}).(*gorm.DB).WithContext(ctx)
	err = tx.Exec("INSERT INTO "+tableImportPages+" (tenant_id, digest, generation, records, stored_rows, subjects, tasks) VALUES (?, ?, ?, ?, ?, ?, ?)"+
		" ON CONFLICT (tenant_id, digest) DO UPDATE SET generation = excluded.generation, records = excluded.records,"+
		" stored_rows = excluded.stored_rows, subjects = excluded.subjects, tasks = excluded.tasks",
		tenant.From(ctx), p.Digest, m.gen, p.Records, p.Rows, string(subjects), string(tasks)).Error
	if err != nil {
		return fmt.Errorf("import memo: %w", err)
	}
	return nil
}

// Finish leaves the memo of this import, in its transaction after all its writes: the pages it
// recalled or remembered, and the change feed's position now.
func (m *ImportMemo) Finish(ctx context.Context) error {
	tx := ctx.Value(txKey{m.s}).(*gorm.DB).WithContext(ctx)
	tenantID := tenant.From(ctx)
	for i := 0; i < len(m.used); i += maxStatementRows {
		chunk := m.used[i:min(i+maxStatementRows, len(m.used))]
		err := tx.Exec("UPDATE "+tableImportPages+" SET generation = ? WHERE tenant_id = ? AND digest IN ?", m.gen, tenantID, chunk).Error
		if err != nil {
			return fmt.Errorf("import memo: %w", err)
		}
	}
	if err := tx.Exec("DELETE FROM "+tableImportPages+" WHERE tenant_id = ? AND generation <> ?", tenantID, m.gen).Error; err != nil {
		return fmt.Errorf("import memo: %w", err)
	}
	// On PostgreSQL the import holds the feed's lock (OpenImportMemo): no other writer's
	// entries are pending, so the newest entry is the feed's position at the commit.
	err := tx.Exec("INSERT INTO "+tableImportMemo+" (tenant_id, generation, feed_seq) SELECT ?, ?, COALESCE(MAX(seq), 0) FROM change_feed WHERE true"+
		" ON CONFLICT (tenant_id) DO UPDATE SET generation = excluded.generation, feed_seq = excluded.feed_seq", tenantID, m.gen).Error
	if err != nil {
		return fmt.Errorf("import memo: %w", err)
	}
	return nil
}
