// Command convert copies a tenant's rows from a gateway database on PostgreSQL (the bench's
// database, after ../shared/bench/peer-lcw/gateway/load.sql) into a new gateway SQLite file,
// through the store's own write path as an import takes it (one BulkLoad with the secondary
// indexes of the empty tables built once at the end, Write for every group of rows), so the
// SQLite figures of the bench are measured on the same rows as the PostgreSQL ones, in the file
// an import of them would have written.
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

	"golang.org/x/sync/errgroup"

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
	batch := flag.Int("batch", 5000, "rows per write (the import writes groups of about 2,000)")
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
	// One transaction, as an import: the tables are empty, so BulkLoad drops their secondary
	// indexes and builds each once from the sorted rows before the commit, and the upserts skip
	// reading stored copies and run as statements prepared once. Written table by table, one
	// batch at a time (Write, as the import's writer does), while the next batch is read.
	err = dst.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true}, func(ctx context.Context) error {
		for _, step := range []func() (string, int, error){
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskDefinition) { b.TaskDefinitions = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Workflow) { b.Workflows = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.WorkflowVersion) { b.WorkflowVersions = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Task) { b.Tasks = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.User) { b.Users = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.Run) { b.Runs = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskReport) { b.TaskReports = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.TaskProcessingResult) { b.TaskProcessingResults = rows })),
			copyRows(ctx, src, tenantID, batch, writeAs(dst, func(b *db.Batch, rows []db.UserProcessingResult) { b.UserProcessingResults = rows })),
		} {
			t0 := time.Now()
			table, n, err := step()
			if err != nil {
				return err
			}
			log.Printf("%s: %d rows in %.1f s", table, n, time.Since(t0).Seconds())
		}
		log.Printf("rows written in %.1f s; building the indexes and committing", time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return err
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

// copyRows streams one model's rows of tenantID from src in id order, batch rows at a time, and
// hands each batch to write while the next one is read: reading (GORM scans) and writing
// (SQLite) each take about a core. At most two batches are held, so memory stays bounded
// whatever the table's size.
func copyRows[T any](ctx context.Context, src *gorm.DB, tenantID string, batch int, write func(context.Context, []T) error) func() (string, int, error) {
	return func() (string, int, error) {
		var model T
		stmt := &gorm.Statement{DB: src}
		if err := stmt.Parse(&model); err != nil {
			return "", 0, err
		}
		table := stmt.Schema.Table
		batches := make(chan []T)
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			defer close(batches)
			rows, err := src.WithContext(gctx).Model(&model).Where("tenant_id = ?", tenantID).Order("id").Rows()
			if err != nil {
				return fmt.Errorf("read %s: %w", table, err)
			}
			defer rows.Close()
			buf := make([]T, 0, batch)
			send := func() error {
				select {
				case batches <- buf:
					buf = make([]T, 0, batch)
					return nil
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			for rows.Next() {
				var row T
				if err := src.ScanRows(rows, &row); err != nil {
					return fmt.Errorf("read %s: %w", table, err)
				}
				if buf = append(buf, row); len(buf) == batch {
					if err := send(); err != nil {
						return err
					}
				}
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read %s: %w", table, err)
			}
			if len(buf) == 0 {
				return nil
			}
			return send()
		})
		n := 0
		g.Go(func() error {
			for rows := range batches {
				if err := write(ctx, rows); err != nil {
					return err
				}
				n += len(rows)
			}
			return nil
		})
		// A failed write cancels the read; a failed read closes batches after what it sent.
		err := g.Wait()
		return table, n, err
	}
}
