package cli

import (
	"fmt"
	"time"

	"lcw-gateway/msgraph"
	"lcw-gateway/tenant"
)

type importCmd struct {
	Dir      string `arg:"" type:"existingdir" help:"Folder of saved Graph responses, laid out by URL path (see testdata/fixtures/README.md)."`
	TenantID string `name:"tenant-id" env:"LCW_TENANT_ID" default:"default" help:"Tenant the imported records belong to (an Entra tenant id, or 'default'); serve with --auth none answers from the same --tenant-id."`
}

// Run imports the folder in one transaction, so a bad file leaves the database as it was; its
// closing line says what was created, updated and left unchanged.
func (c *importCmd) Run(env *runEnv) error {
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	ctx := tenant.WithTenant(env.ctx, tenant.StoredID(c.TenantID))
	progress := newProgress(env.logger, "importing", "rows")
	stats, err := msgraph.ImportDir(ctx, store, c.Dir, progress.Report)
	progress.Finish()
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing of the folder was written)", c.Dir, err)
	}
	attrs := append([]any{"dir", c.Dir, "tenant", tenant.StoredID(c.TenantID), "duration", time.Since(start).Round(time.Millisecond)},
		stats.RecordAttrs()...)
	env.logger.Info("imported", append(attrs, stats.WrittenAttrs()...)...)
	return nil
}
