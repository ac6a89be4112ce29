-- +goose Up
-- What an import remembers of the pages of results it stored, so that importing the same folder
-- again skips a page it finds unchanged instead of decoding it and reading its rows back
-- (db/importmemo.go, msgraph/memo.go). import_pages: per tenant, a digest of a page (its bytes and
-- the report or run it was listed under) with what the walker got from it: how many records and
-- distinct rows, the subjects it named, its inline tasks (as Graph wrote them). import_memo: the
-- tenant's memo, valid while nothing else has written the tenant's results since: generation
-- names the pages of the last import, feed_seq is the change feed's sequence when it committed (any
-- later entry of the tenant, or pruned entries past it, make the memo void).
CREATE TABLE import_memo (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  generation INTEGER NOT NULL,
  feed_seq INTEGER NOT NULL
);
CREATE TABLE import_pages (
  tenant_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  generation INTEGER NOT NULL,
  records INTEGER NOT NULL,
  stored_rows INTEGER NOT NULL,
  subjects TEXT NOT NULL,
  tasks TEXT NOT NULL,
  PRIMARY KEY (tenant_id, digest)
);
-- The change feed records inserts and updates, not deletes (pruning with --retain): deleting a
-- result voids the tenant's memo in the deleting transaction, whatever deletes it.
-- +goose StatementBegin
CREATE TRIGGER import_memo_task_processing_results_delete AFTER DELETE ON task_processing_results
BEGIN
  DELETE FROM import_memo WHERE tenant_id = OLD.tenant_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER import_memo_user_processing_results_delete AFTER DELETE ON user_processing_results
BEGIN
  DELETE FROM import_memo WHERE tenant_id = OLD.tenant_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER import_memo_user_processing_results_delete;
DROP TRIGGER import_memo_task_processing_results_delete;
DROP TABLE import_pages;
DROP TABLE import_memo;
