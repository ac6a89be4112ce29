package cli

import "lcw-gateway/syncer"

type syncCmd struct {
	Graph syncer.Flags `embed:""`
	Full  bool         `name:"full" env:"LCW_SYNC_FULL" help:"Read every run again, ignoring the watermark and the checkpoints."`
}

// Run makes one pass. Workflows that fail are named in the error; what was committed stays, and
// the next run resumes from the checkpoints.
func (c *syncCmd) Run(env *runEnv) error {
	store, err := env.open()
	if err != nil {
		return err
	}
	defer store.Close()
	s, err := syncer.New(env.logger, c.Graph, store)
	if err != nil {
		return err
	}
	progress := newProgress(env.logger, "syncing", "records")
	report, err := s.Pass(env.ctx, c.Full, progress.Add)
	progress.Finish()
	s.Summarize(env.ctx, report, err)
	return err
}
