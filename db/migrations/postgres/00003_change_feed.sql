-- +goose Up
-- The change feed: one entry per row of workflows, runs, task reports and task processing results
-- whose content changed, written by triggers in the writing transaction itself, so every write
-- path (import, sync, seed, any later one) records it and an upsert that changes nothing records
-- nothing. Subscriptions replay it from a client's cursor; every gateway on the database LISTENs
-- on lcw_change_feed and reads the new entries when notified.
CREATE TABLE change_feed (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
-- No secondary index: every read is a range of seq (the broker's tail, a replay after a cursor,
-- pruning from the oldest), and writes stay one append per change.

-- Statement-level triggers with transition tables: a 1,000-row upsert writes its entries in one
-- INSERT ... SELECT and sends one notification (payload: tenant and last seq). An updated row
-- counts when any column differs (IS DISTINCT FROM over the whole row; tenant_id and id are the
-- join's). Readers go through seq in order, so seq order must be commit order: a transaction that
-- records entries first takes a transaction-scoped advisory lock, which makes writers that change
-- data commit one after the other (from their first change to their commit; readers are never
-- blocked). The trigger's arguments: the entity, and the columns holding its workflow and run.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION change_feed_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed TEXT;
  any_changed BOOLEAN;
  tenant TEXT;
  last_seq BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN
    changed := 'SELECT n.* FROM new_rows n';
  ELSE
    changed := 'SELECT n.* FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id WHERE o IS DISTINCT FROM n';
  END IF;
  EXECUTE 'SELECT EXISTS (' || changed || ')' INTO any_changed;
  IF NOT any_changed THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7436291105);
  EXECUTE format('WITH added AS (INSERT INTO change_feed (tenant_id, entity, id, workflow_id, run_id)
      SELECT c.tenant_id, %L, c.id, c.%I, %s FROM (%s) AS c RETURNING seq, tenant_id)
    SELECT max(seq), min(tenant_id) FROM added',
    TG_ARGV[0], TG_ARGV[1], CASE WHEN TG_ARGV[2] = '' THEN 'NULL' ELSE 'c.' || quote_ident(TG_ARGV[2]) END, changed)
    INTO last_seq, tenant;
  PERFORM pg_notify('lcw_change_feed', tenant || ' ' || last_seq);
  RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER change_feed_insert AFTER INSERT ON workflows REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('Workflow', 'id', '');
CREATE TRIGGER change_feed_update AFTER UPDATE ON workflows REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('Workflow', 'id', '');

CREATE TRIGGER change_feed_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('Run', 'workflow_id', 'id');
CREATE TRIGGER change_feed_update AFTER UPDATE ON runs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('Run', 'workflow_id', 'id');

CREATE TRIGGER change_feed_insert AFTER INSERT ON task_reports REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('TaskReport', 'workflow_id', 'run_id');
CREATE TRIGGER change_feed_update AFTER UPDATE ON task_reports REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('TaskReport', 'workflow_id', 'run_id');

CREATE TRIGGER change_feed_insert AFTER INSERT ON task_processing_results REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('TaskProcessingResult', 'workflow_id', 'run_id');
CREATE TRIGGER change_feed_update AFTER UPDATE ON task_processing_results REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION change_feed_record('TaskProcessingResult', 'workflow_id', 'run_id');

-- +goose Down
DROP TRIGGER change_feed_update ON workflows;
DROP TRIGGER change_feed_insert ON workflows;
DROP TRIGGER change_feed_update ON runs;
DROP TRIGGER change_feed_insert ON runs;
DROP TRIGGER change_feed_update ON task_reports;
DROP TRIGGER change_feed_insert ON task_reports;
DROP TRIGGER change_feed_update ON task_processing_results;
DROP TRIGGER change_feed_insert ON task_processing_results;
DROP FUNCTION change_feed_record();
DROP TABLE change_feed;
