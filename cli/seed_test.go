package cli

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph/msgraphtest"
)

// run runs a command line as the process would, its log lines into logs.
func run(t *testing.T, logs *bytes.Buffer, args ...string) error {
	t.Helper()
	return Run(context.Background(), slog.New(slog.NewTextHandler(logs, nil)), args...)
}

// A second `seed` adds a second demo data set to the same tenant (the next random seed), and
// says which; a seed already there, or a tenant holding imported data, is refused with what to do.
func TestSeedAddsTheNextDataSet(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		small := []string{"seed", "--db", dsn, "--workflows", "2", "--runs", "1", "--users", "4"}
		for _, randomSeed := range []string{"1", "2"} {
			var logs bytes.Buffer
			if err := run(t, &logs, small...); err != nil {
				t.Fatalf("seed: %v\n%s", err, &logs)
			}
			line := regexp.MustCompile(`msg="demo data ready" tenant=default randomSeed=` + randomSeed + ` duration=\S+ workflows=2 `)
			if !line.MatchString(logs.String()) {
				t.Errorf("seed #%s: no line %s in\n%s", randomSeed, line, &logs)
			}
		}
		store := dbtest.Open(t, dsn)
		if tenants, err := store.TenantsWithWorkflows(context.Background()); err != nil || len(tenants) != 1 || tenants[0].Workflows != 4 {
			t.Errorf("after two seeds: %+v, %v; want 4 workflows in the tenant default", tenants, err)
		}

		var logs bytes.Buffer
		err := run(t, &logs, append(small, "--random-seed", "2")...)
		want := "tenant default already holds the demo data set of --random-seed 2: leave --random-seed out to add the next data set, or give another seed"
		if err == nil || err.Error() != want {
			t.Errorf("seed --random-seed 2 again: %v, want %q", err, want)
		}

		if err := run(t, &logs, "import", "--db", dsn, "--tenant-id", "imported", msgraphtest.DocsExample(t)); err != nil {
			t.Fatal(err)
		}
		err = run(t, &logs, "seed", "--db", dsn, "--tenant-id", "imported")
		if err == nil || !strings.HasPrefix(err.Error(), "tenant imported holds workflows that seed did not make (imported or synced): to keep demo data apart, seed another tenant (--tenant-id demo, then serve it with --tenant-id demo)") {
			t.Errorf("seed into a tenant of imported data: %v", err)
		}
	})
}
