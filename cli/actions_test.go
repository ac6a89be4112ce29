package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// serve refuses a choice of --actions it cannot honour, before it listens: acting on behalf of
// callers needs their tokens, acting as the app needs its tenant and credentials.
func TestServeChecksTheActionsFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--actions", "delegated"}, "needs the caller's token: use it with --auth jwt"},
		{[]string{"--actions", "application"}, "--tenant-id"},
		{[]string{"--actions", "application", "--tenant-id", "aaaaaaaa-0000-4000-8000-00000000000a"}, "no client id"},
		{[]string{"--actions", "application", "--action-permissions", "LifecycleWorkflows.Read.All"}, "is a read permission"},
	} {
		args := append([]string{"serve", "--db", filepath.Join(t.TempDir(), "lcw.db"), "--seed", "none", "--addr", "127.0.0.1:0"}, c.args...)
		err := Run(context.Background(), slog.New(slog.DiscardHandler), args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: %v; want an error saying %q", c.args, err, c.want)
		}
	}
}
