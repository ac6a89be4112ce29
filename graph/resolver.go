package graph

// Resolver holds what every resolver needs; it is built once and shared by all requests.
type Resolver struct{}
