package db

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lcw-gateway/tenant"
)

// scoped is the one place that restricts a read to the caller's tenant. Every query starts here,
// so no field can forget the filter; TestEveryReadIsScoped fails on a statement that reads a
// tenant's table without it.
func (s *Store) scoped(ctx context.Context, table string) *gorm.DB {
	return s.db.WithContext(ctx).Table(table).Where(clause.Eq{
		Column: clause.Column{Table: table, Name: "tenant_id"},
		Value:  tenant.From(ctx),
	})
}

// sameTenant ties a joined or correlated table (by its alias) to a scoped one: the only other
// tenant predicate a read may carry.
func sameTenant(alias, scopedTable string) string {
	return alias + ".tenant_id = " + scopedTable + ".tenant_id"
}
