// Package integration_test drives the gateway as users do: through the exported server and the
// command line, over a real SQLite file and (with LCW_TEST_POSTGRES) a real PostgreSQL.
package integration_test

import (
	"lcw-gateway/endpoint"
	"lcw-gateway/server"
)

// withoutLimits serves with every limit of endpoint.Policy off, for tests that fetch a whole
// database in one request on purpose.
func withoutLimits() server.Option {
	p := endpoint.DefaultPolicy()
	p.MaxBodyBytes, p.MaxTokens, p.MaxDepth, p.MaxAliases, p.MaxRootFields, p.MaxCost, p.RequestTimeout = 0, 0, 0, 0, 0, 0, 0
	return server.WithPolicy(p)
}
