package db

import (
	"context"
	"fmt"
	"lcw-gateway/tenant"
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

// HasWorkflow tells whether the caller's tenant holds the workflow with this id.
func (s *Store) HasWorkflow(ctx context.Context, id string) (bool, error) {
	var ids []string
	err := s.scoped(ctx, tableWorkflows).Where("id = ?", tenant.NormalizeID(id)).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("look for workflow %s: %w", id, err)
	}
	return len(ids) > 0, nil
}
