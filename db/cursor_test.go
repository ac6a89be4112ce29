package db_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

// cursorReads are connections in orders over every kind of sort key: text, time with nulls,
// an enum, a number.
func cursorReads(ctx context.Context, s *db.Store) (map[string][]string, error) {
	out := map[string][]string{}
	wf := "w1"
	for name, order := range map[string][]db.OrderKey{
		"reports by id":            nil,
		"reports by started":       {{Field: "startedDateTime"}},
		"reports by status desc":   {{Field: "processingStatus", Desc: true}},
		"reports by failed, total": {{Field: "failedUsersCount"}, {Field: "totalUsersCount", Desc: true}},
	} {
		p, _, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, db.PageArgs{OrderBy: order})
		if err != nil {
			return nil, err
		}
		out[name] = p.Cursors()
	}
	p, _, err := s.Workflows(ctx, db.PageArgs{}, false)
	if err != nil {
		return nil, err
	}
	out["workflows"] = p.Cursors()
	return out, nil
}

// Cursors name no table or column, are the same on both engines for the same data, and any
// change to one is refused as ErrInvalidCursor without parser text.
func TestCursorsAreOpaqueStableAndSealed(t *testing.T) {
	byEngine := map[string]map[string][]string{}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		seedReads(t, s, storeTenant)
		ctx := tenant.WithTenant(context.Background(), storeTenant)
		cursors, err := cursorReads(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		byEngine[e.Name] = cursors
		for name, list := range cursors {
			if len(list) == 0 {
				t.Fatalf("%s: no cursors", name)
			}
			for _, c := range list {
				raw, err := base64.RawURLEncoding.DecodeString(c)
				if err != nil {
					t.Fatalf("%s: cursor %q is not base64url: %v", name, c, err)
				}
				for _, word := range append(tenantTables(), "tenant", "started_date_time", "processing_status", "failed_users_count", "display_name", "asc", "desc") {
					if strings.Contains(string(raw), word) {
						t.Errorf("%s: cursor names %q: %q", name, word, raw)
					}
				}
			}
		}
		cursor := cursors["reports by started"][0]
		tampered := map[string]string{
			"truncated": cursor[:len(cursor)-2], "extended": cursor + "AA", "empty": "", "not base64": "!!" + cursor,
			"huge": strings.Repeat("A", 10000),
		}
		for i := 0; i < len(cursor); i++ {
			b := []byte(cursor)
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			tampered["byte "+string(rune('0'+i%10))+"@"+strings.Repeat("·", i/10)] = string(b)
		}
		order := []db.OrderKey{{Field: "startedDateTime"}}
		for name, c := range tampered {
			_, _, err := s.TaskReports(ctx, db.TaskReportFilter{}, db.PageArgs{After: &c, OrderBy: order})
			var input *db.InputError
			if !errors.As(err, &input) || !errors.Is(err, db.ErrInvalidCursor) || input.Argument != "after" {
				t.Errorf("%s: err = %v, want an InputError on after wrapping ErrInvalidCursor", name, err)
				continue
			}
			if strings.Contains(err.Error(), "strconv") || strings.Contains(err.Error(), "invalid syntax") || strings.Contains(err.Error(), "illegal base64") {
				t.Errorf("%s: the message shows parser text: %q", name, err)
			}
		}
		// A cursor of another order or list is refused too.
		for _, other := range []db.PageArgs{{After: &cursor}, {After: &cursor, OrderBy: []db.OrderKey{{Field: "startedDateTime", Desc: true}}}} {
			if _, _, err := s.TaskReports(ctx, db.TaskReportFilter{}, other); !errors.Is(err, db.ErrInvalidCursor) {
				t.Errorf("a cursor of another order: err = %v", err)
			}
		}
		if _, _, err := s.Workflows(ctx, db.PageArgs{After: &cursor}, false); !errors.Is(err, db.ErrInvalidCursor) {
			t.Errorf("a cursor of another list: err = %v", err)
		}
	})
	if len(byEngine) == 2 && !reflect.DeepEqual(byEngine["sqlite"], byEngine["postgres"]) {
		t.Errorf("cursors differ between engines:\n sqlite   %v\n postgres %v", byEngine["sqlite"], byEngine["postgres"])
	}
}
