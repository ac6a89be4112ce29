package main

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressReporter shows long work: a bar on a terminal, a plain log line every few seconds
// otherwise (logs are read by machines and people who were not watching).
type progressReporter struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	logger *slog.Logger
	what   string
	last   time.Time
}

func newProgress(logger *slog.Logger, what string) *progressReporter {
	p := &progressReporter{logger: logger, what: what, last: time.Now()}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetDescription(what), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

// Report is called with the rows done so far and the total expected.
func (p *progressReporter) Report(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.ChangeMax64(total)
		_ = p.bar.Set64(done)
		return
	}
	if time.Since(p.last) >= 5*time.Second || done == total {
		p.last = time.Now()
		p.logger.Info(p.what, "done", done, "total", total)
	}
}

// Finish removes the bar.
func (p *progressReporter) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
