package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

func ptr[T any](v T) *T { return &v }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func report(id string, successful int) db.TaskReport {
	return db.TaskReport{
		ID: id, WorkflowID: "w1", RunID: "r1", TaskID: "t1", TaskDefinitionID: "d1",
		ProcessingStatus: db.StatusCompleted, SuccessfulUsersCount: successful, TotalUsersCount: successful,
		StartedDateTime: ptr(at("2022-08-24T23:28:04.5785337Z")), LastUpdatedDateTime: at("2022-08-24T23:33:09.1980352Z"),
	}
}

func result(id string) db.TaskProcessingResult {
	return db.TaskProcessingResult{
		ID: id, WorkflowID: "w1", RunID: "r1", TaskReportID: "rep1", TaskID: "t1", SubjectID: "u1",
		CreatedDateTime: at("2022-08-24T23:28:04.5871280Z"), ProcessingStatus: db.StatusCompleted,
	}
}

// open gives a fresh store and its DSN, for dumps through a second connection.
func open(t *testing.T, e dbtest.Engine) (*db.Store, string) {
	dsn := e.DSN(t)
	return dbtest.Open(t, dsn), dsn
}

// write is Store.Write for tests that check the rows rather than the counts.
func write(ctx context.Context, s *db.Store, b db.Batch) error {
	_, err := s.Write(ctx, b)
	return err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestUpsertInsertsThenOverwritesEveryColumn(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1), report("b", 2)}}))

		changed := report("a", 5)
		changed.ProcessingStatus = "paused" // unknown to us: stored as Graph sent it
		changed.StartedDateTime = nil
		changed.RunID = "r2"
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{changed}}))

		rows := dbtest.Dump(t, dsn)["task_reports"]
		if len(rows) != 2 {
			t.Fatalf("rows = %d, want 2", len(rows))
		}
		a := rows[0]
		want := dbtest.Row{
			"tenant_id": tenant.Default, "id": "a", "workflow_id": "w1", "run_id": "r2", "task_id": "t1",
			"task_definition_id": "d1", "processing_status": "paused", "successful_users_count": int64(5),
			"failed_users_count": int64(0), "unprocessed_users_count": int64(0), "total_users_count": int64(5),
			"started_date_time": nil, "completed_date_time": nil, "last_updated_date_time": "2022-08-24T23:33:09.198035Z",
		}
		if !reflect.DeepEqual(a, want) {
			t.Errorf("report a:\n got %v\nwant %v", a, want)
		}
		if rows[1]["successful_users_count"] != int64(2) || rows[1]["started_date_time"] != "2022-08-24T23:28:04.578533Z" {
			t.Errorf("report b changed: %v", rows[1])
		}
	})
}

func TestUpsertStaysInItsTenant(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		a := tenant.WithTenant(context.Background(), "tenant-a")
		b := tenant.WithTenant(context.Background(), "tenant-b")
		must(t, write(a, s, db.Batch{Workflows: []db.Workflow{{ID: "w1", DisplayName: "A", Category: db.WorkflowJoiner}}}))
		must(t, write(b, s, db.Batch{Workflows: []db.Workflow{{ID: "w1", DisplayName: "B", Category: db.WorkflowLeaver}}}))
		must(t, write(a, s, db.Batch{Workflows: []db.Workflow{{ID: "w1", DisplayName: "A2", Category: db.WorkflowJoiner}}}))

		rows := dbtest.Dump(t, dsn)["workflows"]
		got := make([]string, len(rows))
		for i, r := range rows {
			got[i] = fmt.Sprintf("%s/%s=%s", r["tenant_id"], r["id"], r["display_name"])
		}
		if want := []string{"tenant-a/w1=A2", "tenant-b/w1=B"}; !reflect.DeepEqual(got, want) {
			t.Errorf("workflows = %v, want %v", got, want)
		}
	})
}

func TestEnsureUsersKeepsKnownUsers(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		must(t, write(ctx, s, db.Batch{Users: []db.User{{ID: "u1", DisplayName: ptr("Adele Vance"), UserPrincipalName: ptr("adele@contoso.example"), Mail: ptr("adele@contoso.example")}}}))
		must(t, write(ctx, s, db.Batch{Subjects: []db.User{{ID: "u1"}, {ID: "u2"}}}))
		must(t, write(ctx, s, db.Batch{Subjects: []db.User{{ID: "u2"}}})) // twice: still one row

		rows := dbtest.Dump(t, dsn)["users"]
		want := []dbtest.Row{
			{"tenant_id": tenant.Default, "id": "u1", "display_name": "Adele Vance", "user_principal_name": "adele@contoso.example", "mail": "adele@contoso.example"},
			{"tenant_id": tenant.Default, "id": "u2", "display_name": nil, "user_principal_name": nil, "mail": nil},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("users:\n got %v\nwant %v", rows, want)
		}
	})
}

// More rows than one statement may bind (13 columns × 5000 > 32766 variables).
func TestUpsertSplitsLargeBatches(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		rows := make([]db.TaskProcessingResult, 5000)
		for i := range rows {
			rows[i] = result(fmt.Sprintf("r%05d", i))
		}
		must(t, write(ctx, s, db.Batch{TaskProcessingResults: rows}))
		must(t, write(ctx, s, db.Batch{TaskProcessingResults: rows}))
		if n := len(dbtest.Dump(t, dsn)["task_processing_results"]); n != len(rows) {
			t.Errorf("stored %d results, want %d", n, len(rows))
		}
	})
}

func TestAtomicRollsBackEveryWrite(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 1)}}))
		before := dbtest.Dump(t, dsn)

		boom := errors.New("boom")
		err := s.Atomic(ctx, func(ctx context.Context) error {
			must(t, write(ctx, s, db.Batch{TaskReports: []db.TaskReport{report("a", 9), report("b", 2)}}))
			// A nested scope joins the outer transaction rather than committing on its own.
			must(t, s.Atomic(ctx, func(ctx context.Context) error {
				return write(ctx, s, db.Batch{Subjects: []db.User{{ID: "u1"}}})
			}))
			rows := make([]db.TaskProcessingResult, 3000) // several statements
			for i := range rows {
				rows[i] = result(fmt.Sprintf("r%05d", i))
			}
			must(t, write(ctx, s, db.Batch{TaskProcessingResults: rows}))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Atomic = %v, want %v", err, boom)
		}
		if after := dbtest.Dump(t, dsn); !reflect.DeepEqual(after, before) {
			t.Errorf("a failed Atomic left writes behind:\n got %v\nwant %v", after, before)
		}
	})
}

func TestUpsertNormalizesWithoutTouchingTheCaller(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := tenant.WithTenant(context.Background(), "t1")
		started := at("2022-08-25T04:28:04.578533789+05:00")
		first, last := report("a", 1), report("a", 2)
		first.StartedDateTime = &started
		last.StartedDateTime = &started
		rows := []db.TaskReport{first, last}
		// The same id twice in one call: the last wins (PostgreSQL would refuse to update a row twice).
		must(t, write(ctx, s, db.Batch{TaskReports: rows}))

		got := dbtest.Dump(t, dsn)["task_reports"]
		if len(got) != 1 || got[0]["successful_users_count"] != int64(2) || got[0]["tenant_id"] != "t1" ||
			got[0]["started_date_time"] != "2022-08-24T23:28:04.578533Z" {
			t.Errorf("stored %v", got)
		}
		if rows[0].TenantID != "" || rows[0].StartedDateTime != &started || !started.Equal(at("2022-08-25T04:28:04.578533789+05:00")) ||
			started.Location() == time.UTC {
			t.Errorf("the caller's rows were modified: %+v", rows[0])
		}
	})
}

func TestUpsertRefusesRowsWithoutID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		_, err := s.Write(context.Background(), db.Batch{Runs: []db.Run{{ID: "r1"}, {}}})
		if err == nil || err.Error() != "write Run: row 1 has no id" {
			t.Errorf("err = %v", err)
		}
		if n := len(dbtest.Dump(t, dsn)["runs"]); n != 0 {
			t.Errorf("stored %d runs", n)
		}
	})
}

// Each write says per entity how many rows it created, updated and left as they were; a row
// written again with the same content is not written at all.
func TestWriteCountsCreatedUpdatedUnchanged(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		named := db.User{ID: "u1", DisplayName: ptr("Adele Vance")}
		first := db.Batch{
			TaskReports: []db.TaskReport{report("a", 1), report("b", 2)},
			Users:       []db.User{named},
			Subjects:    []db.User{{ID: "u1"}, {ID: "u2"}},
		}
		got, err := s.Write(ctx, first)
		must(t, err)
		// Subjects are written before users: u1 and u2 are created as ids, then u1 gets its name.
		want := db.WriteStats{TaskReports: db.Counts{Created: 2}, Users: db.Counts{Created: 2, Updated: 1}}
		if got != want {
			t.Errorf("first write = %+v, want %+v", got, want)
		}
		before := dbtest.Dump(t, dsn)

		got, err = s.Write(ctx, first)
		must(t, err)
		want = db.WriteStats{TaskReports: db.Counts{Unchanged: 2}, Users: db.Counts{Unchanged: 3}}
		if got != want {
			t.Errorf("the same write again = %+v, want %+v", got, want)
		}
		if after := dbtest.Dump(t, dsn); !reflect.DeepEqual(after, before) {
			t.Errorf("an unchanged write changed rows:\n got %v\nwant %v", after, before)
		}

		// A timestamp finer than the stored microseconds is the same content.
		same := report("a", 1)
		fine := same.LastUpdatedDateTime.Add(300 * time.Nanosecond)
		same.LastUpdatedDateTime = fine
		got, err = s.Write(ctx, db.Batch{TaskReports: []db.TaskReport{same, report("b", 3), report("c", 1)}})
		must(t, err)
		want = db.WriteStats{TaskReports: db.Counts{Created: 1, Updated: 1, Unchanged: 1}}
		if got != want {
			t.Errorf("mixed write = %+v, want %+v", got, want)
		}
		if n := dbtest.Dump(t, dsn)["task_reports"][1]["successful_users_count"]; n != int64(3) {
			t.Errorf("report b has %v successful users, want 3", n)
		}
	})
}

// Counts stay exact across statements when a write needs several (5000 results × 13 columns).
func TestWriteCountsLargeBatches(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, _ := open(t, e)
		ctx := context.Background()
		rows := make([]db.TaskProcessingResult, 5000)
		for i := range rows {
			rows[i] = result(fmt.Sprintf("r%05d", i))
		}
		got, err := s.Write(ctx, db.Batch{TaskProcessingResults: rows[:3000]})
		must(t, err)
		if want := (db.Counts{Created: 3000}); got.TaskProcessingResults != want {
			t.Errorf("first = %+v, want %+v", got.TaskProcessingResults, want)
		}
		for i := range rows[:1000] {
			rows[i].ProcessingStatus = db.StatusFailed
		}
		got, err = s.Write(ctx, db.Batch{TaskProcessingResults: rows})
		must(t, err)
		if want := (db.Counts{Created: 2000, Updated: 1000, Unchanged: 2000}); got.TaskProcessingResults != want {
			t.Errorf("second = %+v, want %+v", got.TaskProcessingResults, want)
		}
	})
}

// A write compares the stored copy column by column before it upserts (outside a bulk load and
// inside one, on tables that held rows): a change in any one column, of any type, is written,
// counted and recorded; the same row again is not.
func TestWriteNoticesAChangeInAnyColumn(t *testing.T) {
	base := db.Task{
		ID: "t1", WorkflowID: "w1", Arguments: db.KeyValuePairs{{Name: "a", Value: ptr("1")}},
		Category: db.TaskCategories{"joiner"}, Description: ptr("d"), DisplayName: "Task", ExecutionSequence: 1,
		IsEnabled: true, TaskDefinitionID: "d1",
	}
	edits := map[string]func(*db.Task){
		"workflow_id":        func(t *db.Task) { t.WorkflowID = "w2" },
		"arguments":          func(t *db.Task) { t.Arguments = db.KeyValuePairs{{Name: "a", Value: ptr("2")}} },
		"no arguments":       func(t *db.Task) { t.Arguments = db.KeyValuePairs{} },
		"category":           func(t *db.Task) { t.Category = db.TaskCategories{"joiner", "leaver"} },
		"continue_on_error":  func(t *db.Task) { t.ContinueOnError = true },
		"description":        func(t *db.Task) { t.Description = ptr("e") },
		"no description":     func(t *db.Task) { t.Description = nil },
		"display_name":       func(t *db.Task) { t.DisplayName = "Task 2" },
		"execution_sequence": func(t *db.Task) { t.ExecutionSequence = 2 },
		"is_enabled":         func(t *db.Task) { t.IsEnabled = false },
		"task_definition_id": func(t *db.Task) { t.TaskDefinitionID = "d2" },
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s, dsn := open(t, e)
		ctx := context.Background()
		for name, edit := range edits {
			for _, inLoad := range []bool{false, true} {
				_, err := s.Write(ctx, db.Batch{Tasks: []db.Task{base}})
				must(t, err)
				changed := base
				edit(&changed)
				var got db.WriteStats
				writeBoth := func(ctx context.Context) error {
					for _, task := range []db.Task{changed, changed} { // the second is unchanged
						st, err := s.Write(ctx, db.Batch{Tasks: []db.Task{task}})
						if err != nil {
							return err
						}
						got = got.Add(st)
					}
					return nil
				}
				if inLoad {
					must(t, s.BulkLoad(ctx, db.LoadOptions{DeferIndexes: true}, writeBoth))
				} else {
					must(t, writeBoth(ctx))
				}
				if want := (db.Counts{Updated: 1, Unchanged: 1}); got.Tasks != want {
					t.Errorf("%s (in a bulk load: %v): %+v, want %+v", name, inLoad, got.Tasks, want)
				}
			}
		}
		if n := len(dbtest.Dump(t, dsn)["tasks"]); n != 1 {
			t.Errorf("%d tasks stored, want 1", n)
		}
	})
}

// A stored row the model cannot read back (SQLite keeps text in an INTEGER column) is written
// again rather than failing the write: the comparison only ever saves writes.
func TestWriteRewritesAStoredRowItCannotRead(t *testing.T) {
	dsn := dbtest.SQLiteDSN(t)
	s := dbtest.Open(t, dsn)
	ctx := context.Background()
	rows := []db.TaskReport{report("a", 1), report("b", 1)}
	must(t, write(ctx, s, db.Batch{TaskReports: rows}))
	g, done := dbtest.Connect(t, dsn)
	must(t, g.Exec(`UPDATE task_reports SET successful_users_count = 'many' WHERE id = 'a'`).Error)
	done()
	got, err := s.Write(ctx, db.Batch{TaskReports: rows})
	must(t, err)
	if want := (db.Counts{Updated: 1, Unchanged: 1}); got.TaskReports != want {
		t.Errorf("write = %+v, want %+v", got.TaskReports, want)
	}
	if v := dbtest.Dump(t, dsn)["task_reports"][0]["successful_users_count"]; v != int64(1) {
		t.Errorf("successful_users_count = %v, want 1", v)
	}
}
