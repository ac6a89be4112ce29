// Package tenant carries the tenant a request or a command works for. Every store call reads
// it from the context, so code between the edge (auth, a command's flag) and the store never
// passes it by hand. It imports nothing of the gateway, so auth, the store and the commands can
// all depend on it.
package tenant

import (
	"context"
	"strings"
)

// Default owns the data of a gateway that serves one tenant.
const Default = "default"

type key struct{}

// WithTenant scopes every store call made with the returned context to one tenant.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, key{}, tenantID)
}

// From is the tenant a context is scoped to; Default when none was set.
func From(ctx context.Context) string {
	if t, ok := ctx.Value(key{}).(string); ok && t != "" {
		return t
	}
	return Default
}

// NormalizeID gives the stored form of a Graph id (tenant ids included): Graph compares ids
// case-insensitively and its docs print some in upper case.
func NormalizeID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// StoredID gives the stored form of a tenant named on the command line: an Entra tenant id, or
// Default when none is named.
func StoredID(flag string) string {
	if flag == "" || flag == Default {
		return Default
	}
	return NormalizeID(flag)
}
