package main

import "lcw-gateway/graph"

// withPolicy serves /graphql (and GraphiQL, or not) as the serve flags of graph.Policy say.
func withPolicy(p graph.Policy) muxOption {
	return func(c *muxConfig) { c.policy = &p }
}

// withoutLimits serves with every limit of graph.Policy off, for tests that fetch a whole
// database in one request on purpose.
func withoutLimits() muxOption {
	p := graph.DefaultPolicy()
	p.MaxBodyBytes, p.MaxTokens, p.MaxDepth, p.MaxAliases, p.MaxRootFields, p.MaxCost, p.RequestTimeout = 0, 0, 0, 0, 0, 0, 0
	return withPolicy(p)
}
