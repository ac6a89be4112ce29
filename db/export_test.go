package db

import (
	"context"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// ReadBothWays reads every row of table (model T) of the context's tenant, with joins, through
// database/sql and through pgx's own scan, for the test that holds the two together.
func ReadBothWays[T any](ctx context.Context, s *Store, table string, joins []Join) (viaSQL, viaPgx []*T, joinedSQL, joinedPgx map[Join]Joined, err error) {
	plans, err := planJoins[T](s, table, joins)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	w, err := newWindow(new(T), table, PageArgs{}, orderByID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	w.limit = MaxPageSize
	read := func() *gorm.DB {
		q := w.pageQuery(s.scoped(ctx, table))
		if len(plans) > 0 {
			q = s.withJoins(ctx, "?", []any{q}, "lcw_page", w, plans)
		}
		return q
	}
	js := newJoinScan(plans)
	if viaSQL, err = scanSQL[T](read(), js); err != nil {
		return nil, nil, nil, nil, err
	}
	joinedSQL = js.result()
	js = newJoinScan(plans)
	if viaPgx, err = scanPgx[T](s, read(), js); err != nil {
		return nil, nil, nil, nil, err
	}
	return viaSQL, viaPgx, joinedSQL, js.result(), nil
}

// ReadCanceledJoined reads (as task reports joined to their tasks) a statement whose request was
// canceled after its connection was taken: pgx's rows then describe no columns and carry the
// error.
func ReadCanceledJoined(s *Store) error {
	plans, err := planJoins[TaskReport](s, tableTaskReports, []Join{JoinTo[Task]("task_id")})
	if err != nil {
		return err
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		// Once with a live context, so that pgx has the statement in its cache: the canceled run
		// then fails inside the rows, not in Query.
		rows, err := c.Query(context.Background(), "SELECT 1")
		if err != nil {
			return err
		}
		rows.Close()
		rows, err = c.Query(ctx, "SELECT 1")
		if err != nil {
			return err
		}
		_, err = readPgx[TaskReport](rows, newJoinScan(plans))
		return err
	})
}
