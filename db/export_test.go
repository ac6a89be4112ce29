package db

import (
	"context"

	"github.com/jackc/pgx/v5/stdlib"
)

// ReadBothWays reads every row of table (model T) of the context's tenant through database/sql
// and through pgx's own scan, for the test that holds the two together.
func ReadBothWays[T any](ctx context.Context, s *Store, table string) (viaSQL, viaPgx []*T, err error) {
	w, err := newWindow(new(T), table, PageArgs{}, orderByID)
	if err != nil {
		return nil, nil, err
	}
	w.limit = MaxPageSize
	if viaSQL, err = scanSQL[T](w.pageQuery(s.scoped(ctx, table))); err != nil {
		return nil, nil, err
	}
	viaPgx, err = scanPgx[T](s, w.pageQuery(s.scoped(ctx, table)), nil)
	return viaSQL, viaPgx, err
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
