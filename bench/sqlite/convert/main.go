// Command convert copies a tenant's rows from a gateway database on PostgreSQL (the bench's
// database, after ../shared/bench/peer-lcw/gateway/load.sql) into a new gateway SQLite file,
// through the store's own write path, so the SQLite figures of the bench are measured on the
// same rows as the PostgreSQL ones.
//
//	go run ./bench/sqlite/convert --from postgres://postgres@127.0.0.1:55432/peer?sslmode=disable --to bench.db
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

func main() {
	from := flag.String("from", "", "postgres:// URL of the gateway database to read (migrated and loaded)")
	to := flag.String("to", "", "SQLite file to write; it must not exist yet")
	tenantID := flag.String("tenant", tenant.Default, "tenant whose rows are copied")
	batch := flag.Int("batch", 10000, "rows per write transaction")
	flag.Parse()
	if *from == "" || *to == "" || !db.IsPostgres(*from) || *batch < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := convert(context.Background(), *from, *to, *tenantID, *batch); err != nil {
		log.Fatal(err)
	}
}

func convert(ctx context.Context, from, to, tenantID string, batch int) error {
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("%s exists: convert writes a new file", to)
	}
	// The source is read with GORM and the store's models, not opened as a store: opening one
	// would apply migrations to the bench's database.
	src, err := gorm.Open(postgres.Open(from), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return fmt.Errorf("open %s: %w", from, err)
	}
	if sqlDB, err := src.DB(); err == nil {
		defer sqlDB.Close()
	}
	dst, err := db.Open(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	ctx = tenant.WithTenant(ctx, tenantID)
	src = src.WithContext(ctx)
	start := time.Now()
	for _, step := range []func() (string, int, error){
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskDefinition) { b.TaskDefinitions = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Workflow) { b.Workflows = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Task) { b.Tasks = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.User) { b.Users = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Run) { b.Runs = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskReport) { b.TaskReports = rows })),
		copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskProcessingResult) { b.TaskProcessingResults = rows })),
	} {
		t0 := time.Now()
		table, n, err := step()
		if err != nil {
			return err
		}
		log.Printf("%s: %d rows in %.1f s", table, n, time.Since(t0).Seconds())
	}
	log.Printf("done in %.1f s: %s", time.Since(start).Seconds(), to)
	return nil
}

// writeAs writes rows through the store's one write path, put placing them in a batch.
func writeAs[T any](dst *db.Store, put func(*db.Batch, []T)) func(context.Context, []T) error {
	return func(ctx context.Context, rows []T) error {
		var b db.Batch
		put(&b, rows)
		_, err := dst.Write(ctx, b)
		return err
	}
}

// copyRows streams one model's rows of tenantID from src in id order and writes them with upsert,
// batch rows per transaction, so memory stays bounded whatever the table's size.
func copyRows[T any](ctx context.Context, src *gorm.DB, tenantID string, batch int, upsert func(context.Context, []T) error) func() (string, int, error) {
	return func() (string, int, error) {
		var model T
		stmt := &gorm.Statement{DB: src}
		if err := stmt.Parse(&model); err != nil {
			return "", 0, err
		}
		table := stmt.Schema.Table
		rows, err := src.Model(&model).Where("tenant_id = ?", tenantID).Order("id").Rows()
		if err != nil {
			return table, 0, fmt.Errorf("read %s: %w", table, err)
		}
		defer rows.Close()
		buf := make([]T, 0, batch)
		n := 0
		flush := func() error {
			if err := upsert(ctx, buf); err != nil {
				return err
			}
			n += len(buf)
			buf = buf[:0]
			return nil
		}
		for rows.Next() {
			var row T
			if err := src.ScanRows(rows, &row); err != nil {
				return table, n, fmt.Errorf("read %s: %w", table, err)
			}
			buf = append(buf, row)
			if len(buf) == batch {
				if err := flush(); err != nil {
					return table, n, err
				}
			}
		}
		if err := rows.Err(); err != nil {
			return table, n, fmt.Errorf("read %s: %w", table, err)
		}
		return table, n, flush()
	}
}
