package cli

import (
	"fmt"
	"net/http"
	"slices"

	"lcw-gateway/db"
	tenantctx "lcw-gateway/tenant"
)

// servingTenant answers every request from one tenant, as --auth jwt does from the token's.
func servingTenant(next http.Handler, tenant string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(tenantctx.WithTenant(r.Context(), tenant)))
	})
}

// pointToTheData logs one line when the served tenant holds no workflows: the tenant that does
// (data that sync or import stored elsewhere) and the flag that serves it, or how to fill it.
func pointToTheData(env *runEnv, store *db.Store, tenant string) error {
	tenants, err := store.TenantsWithWorkflows(env.ctx)
	if err != nil || slices.ContainsFunc(tenants, func(t db.TenantWorkflows) bool { return t.TenantID == tenant }) {
		return err
	}
	if len(tenants) == 0 {
		env.logger.Warn(fmt.Sprintf("tenant %s holds no workflows, nor does any other: fill it with sync, import or seed --tenant-id %s", tenant, tenant),
			"tenant", tenant)
		return nil
	}
	other := tenants[0] // the fullest
	env.logger.Warn(fmt.Sprintf("tenant %s holds no workflows, tenant %s holds %d: serve it with --tenant-id %s (or LCW_TENANT_ID=%s)",
		tenant, other.TenantID, other.Workflows, other.TenantID, other.TenantID),
		"tenant", tenant, "tenantWithData", other.TenantID, "tenantsWithData", len(tenants))
	return nil
}
