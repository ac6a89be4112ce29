package integration_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph/msgraphtest"
)

// closingLine finds the one log line with msg and returns it.
func closingLine(t *testing.T, logs, msg string) string {
	t.Helper()
	var found []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `msg=`+msg+` `) || strings.Contains(line, `msg="`+msg+`" `) {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d lines with msg %q in:\n%s", len(found), msg, logs)
	}
	return found[0]
}

// wantAttrs checks that line holds every key=value of want.
func wantAttrs(t *testing.T, line string, want ...string) {
	t.Helper()
	for _, kv := range want {
		if !regexp.MustCompile(`(^| )` + regexp.QuoteMeta(kv) + `( |$)`).MatchString(line) {
			t.Errorf("closing line lacks %s:\n%s", kv, line)
		}
	}
}

// `import` says in its closing line what it created, updated and left unchanged: everything is
// created the first time (the four subjects are created by id, then named by the users), and a
// second import of the same folder changes nothing.
func TestImportLogsCreatedUpdatedUnchanged(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		var first, second lockedBuffer
		if err := runCLI(t, context.Background(), &first, "import", dir, "--db", dsn); err != nil {
			t.Fatalf("import: %v\n%s", err, first.String())
		}
		wantAttrs(t, closingLine(t, first.String(), "imported"), "taskProcessingResults=8", "created=37", "updated=4", "unchanged=0",
			`written.taskProcessingResults="8 created, 0 updated, 0 unchanged"`, `written.users="4 created, 4 updated, 0 unchanged"`)

		if err := runCLI(t, context.Background(), &second, "import", dir, "--db", dsn); err != nil {
			t.Fatalf("import again: %v\n%s", err, second.String())
		}
		wantAttrs(t, closingLine(t, second.String(), "imported"), "taskProcessingResults=8", "created=0", "updated=0", "unchanged=41",
			`written.taskDefinitions="0 created, 0 updated, 16 unchanged"`, `written.taskProcessingResults="0 created, 0 updated, 8 unchanged"`)
	})
}

// `sync` says the same in its closing line; a second pass over unchanged Graph data creates and
// updates nothing.
func TestSyncLogsCreatedUpdatedUnchanged(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		srv := msgraphtest.New(t, dir)
		secretFile := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(secretFile, []byte(srv.Secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dsn := e.DSN(t)
		args := []string{"sync", "--db", dsn, "--graph-url", srv.GraphURL, "--token-url", srv.TokenURL,
			"--tenant-id", syncTenant, "--client-id", srv.ClientID, "--client-secret-file", secretFile}
		var first, second lockedBuffer
		if err := runCLI(t, context.Background(), &first, args...); err != nil {
			t.Fatalf("sync: %v\n%s", err, first.String())
		}
		wantAttrs(t, closingLine(t, first.String(), "sync finished"), "created=37", "updated=4", "unchanged=0",
			`written.taskReports="4 created, 0 updated, 0 unchanged"`)

		if err := runCLI(t, context.Background(), &second, args...); err != nil {
			t.Fatalf("sync again: %v\n%s", err, second.String())
		}
		line := closingLine(t, second.String(), "sync finished")
		wantAttrs(t, line, "created=0", "updated=0", `written.workflows="0 created, 0 updated, 1 unchanged"`)
		if regexp.MustCompile(` unchanged=0( |$)`).MatchString(line) {
			t.Errorf("the second pass saw nothing unchanged:\n%s", line)
		}
	})
}

// `migrate` names the migrations it applied, and says the database is up to date only when it
// applied none.
func TestMigrateLogsWhatItApplied(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.DSN(t)
		var first, second lockedBuffer
		if err := runCLI(t, context.Background(), &first, "migrate", "--db", dsn); err != nil {
			t.Fatalf("migrate: %v\n%s", err, first.String())
		}
		line := closingLine(t, first.String(), "migrations applied")
		wantAttrs(t, line, "count=4", "migrations=00001_init.sql,00002_sync_state.sql,00003_change_feed.sql,00004_workflow_freshness.sql")
		if strings.Contains(first.String(), "up to date") {
			t.Errorf("a migrate that applied migrations says the database was up to date:\n%s", first.String())
		}

		if err := runCLI(t, context.Background(), &second, "migrate", "--db", dsn); err != nil {
			t.Fatalf("migrate again: %v\n%s", err, second.String())
		}
		closingLine(t, second.String(), "database is up to date")
		if strings.Contains(second.String(), "migrations applied") {
			t.Errorf("a second migrate applied migrations:\n%s", second.String())
		}
	})
}
