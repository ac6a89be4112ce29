package db

// StoredTenantID gives the stored form of a tenant named on the command line: an Entra tenant
// id, or DefaultTenant when none is named.
func StoredTenantID(flag string) string {
	if flag == "" || flag == DefaultTenant {
		return DefaultTenant
	}
	return NormalizeID(flag)
}
