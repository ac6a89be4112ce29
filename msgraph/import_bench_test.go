package msgraph_test

import (
	"context"
	"os"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
)

// EnvBenchFolder names a folder of saved Graph responses for the import benchmarks, e.g. one
// made by ../shared/bench/make-graph-folder.py 4 25 5 200 DIR (100,000 results). The engine is
// LCW_BENCH_DB: sqlite (the default) or postgres, on the LCW_TEST_POSTGRES server.
const EnvBenchFolder = "LCW_BENCH_GRAPH_FOLDER"

func benchFolder(b *testing.B) (string, func(testing.TB) string) {
	dir := os.Getenv(EnvBenchFolder)
	if dir == "" {
		b.Skipf("set %s to a folder of saved Graph responses", EnvBenchFolder)
	}
	dsn := dbtest.SQLiteDSN
	if os.Getenv("LCW_BENCH_DB") == "postgres" {
		dsn = dbtest.PostgresDSN
	}
	return dir, dsn
}

// BenchmarkImportFirst imports the folder into a fresh database: every row is created.
func BenchmarkImportFirst(b *testing.B) {
	dir, dsn := benchFolder(b)
	ctx := context.Background()
	var results int
	for b.Loop() {
		b.StopTimer()
		store := dbtest.Open(b, dsn(b))
		b.StartTimer()
		stats, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			b.Fatal(err)
		}
		results = stats.TaskProcessingResults
		b.StopTimer()
		_ = store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(results)*float64(b.N)/b.Elapsed().Seconds(), "results/s")
}

// BenchmarkImportAgain imports the folder into a database that holds it already: nothing changes.
func BenchmarkImportAgain(b *testing.B) {
	dir, dsn := benchFolder(b)
	ctx := context.Background()
	store := dbtest.Open(b, dsn(b))
	if _, err := msgraph.ImportDir(ctx, store, dir); err != nil {
		b.Fatal(err)
	}
	var results int
	for b.Loop() {
		stats, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			b.Fatal(err)
		}
		results = stats.TaskProcessingResults
	}
	b.ReportMetric(float64(results)*float64(b.N)/b.Elapsed().Seconds(), "results/s")
}
