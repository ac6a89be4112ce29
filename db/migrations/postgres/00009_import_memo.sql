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
  generation BIGINT NOT NULL,
  feed_seq BIGINT NOT NULL
);
CREATE TABLE import_pages (
  tenant_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  generation BIGINT NOT NULL,
  records BIGINT NOT NULL,
  stored_rows BIGINT NOT NULL,
  subjects TEXT NOT NULL,
  tasks TEXT NOT NULL,
  PRIMARY KEY (tenant_id, digest)
);
-- The change feed records inserts and updates, not deletes (pruning with --retain): deleting a
-- result voids the tenant's memo in the deleting transaction, whatever deletes it. It takes the
-- change feed's lock first, as a writer that records entries does, so a delete and an import that
-- uses or writes the memo never overlap.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION import_memo_void() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7436291105);
  DELETE FROM import_memo WHERE tenant_id IN (SELECT DISTINCT tenant_id FROM old_rows);
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER import_memo_delete AFTER DELETE ON task_processing_results REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION import_memo_void();
CREATE TRIGGER import_memo_delete AFTER DELETE ON user_processing_results REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION import_memo_void();

-- +goose Down
DROP TRIGGER import_memo_delete ON user_processing_results;
DROP TRIGGER import_memo_delete ON task_processing_results;
DROP FUNCTION import_memo_void();
DROP TABLE import_pages;
DROP TABLE import_memo;
