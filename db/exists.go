package db

import (
	"context"
	"fmt"
)

// HasWorkflows tells whether the caller's tenant holds any workflow. The server seeds demo data
// only into a tenant that holds none, so it never mixes demo rows into real ones; a seed writes
// everything in one transaction, so an interrupted seed leaves no workflow behind and is retried
// on the next start.
func (s *Store) HasWorkflows(ctx context.Context) (bool, error) {
	var ids []string
	err := s.scoped(ctx, "workflows").Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("look for workflows: %w", err)
	}
	return len(ids) > 0, nil
}
