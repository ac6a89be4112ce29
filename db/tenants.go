package db

import (
	"context"
	"fmt"
)

// TenantWorkflows is how many workflows one tenant holds.
type TenantWorkflows struct {
	TenantID  string
	Workflows int64
}

// TenantsWithWorkflows lists the tenants that hold workflows, the most first (then by tenant id).
// It looks across tenants, so it serves the command line (which tenant did sync or import
// fill?), never a request.
func (s *Store) TenantsWithWorkflows(ctx context.Context) ([]TenantWorkflows, error) {
	var out []TenantWorkflows
	err := s.db.WithContext(ctx).Table(tableWorkflows).Select("tenant_id, count(*) AS workflows").
		Group("tenant_id").Order("workflows DESC, tenant_id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count workflows by tenant: %w", err)
	}
	return out, nil
}

// HasDemoDataSet tells whether the caller's tenant holds the demo data set that SeedDemo makes
// with DemoOptions.Seed seed (its first workflow is there), so that a second seed can pick a seed
// of its own instead of colliding with the first.
func (s *Store) HasDemoDataSet(ctx context.Context, seed int64) (bool, error) {
	var ids []string
	err := s.scoped(ctx, tableWorkflows).Where("id = ?", demoID(uint64(seed), 'w', 0)).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("look for demo data set %d: %w", seed, err)
	}
	return len(ids) > 0, nil
}
