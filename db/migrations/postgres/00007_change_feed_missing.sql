-- +goose Up
-- SQLite's 00007 recreates its update triggers to compare missing_since_date_time (added in 00006).
-- PostgreSQL's change_feed_record (00003) compares whole rows, so it records a mark already:
-- nothing to change here; the version exists so that both trees keep the same numbering.
SELECT 1;

-- +goose Down
SELECT 1;
