package db

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

type tenantKey struct{}

// WithTenant scopes every store call made with the returned context to one tenant.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenantID)
}

// TenantFrom is the tenant a context is scoped to; DefaultTenant when none was set.
func TenantFrom(ctx context.Context) string {
	if t, ok := ctx.Value(tenantKey{}).(string); ok && t != "" {
		return t
	}
	return DefaultTenant
}

// NormalizeID gives the stored form of a Graph id: Graph compares ids case-insensitively and
// its docs print some in upper case.
func NormalizeID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// scoped is the one place that restricts a read to the caller's tenant. Every query starts here,
// so no field can forget the filter.
func (s *Store) scoped(ctx context.Context, table string) *gorm.DB {
	return s.db.WithContext(ctx).Table(table).Where(table+".tenant_id = ?", TenantFrom(ctx))
}
