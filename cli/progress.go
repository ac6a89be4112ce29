package cli

import (
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows long work: a bar on a terminal, a plain log line every few seconds otherwise
// (logs are read by machines and people who were not watching). Work of known size reports
// done/total; work of unknown size (a sync pass) adds records per collection.
type progress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	logger *slog.Logger
	what   string
	last   time.Time
	counts map[string]int
}

// newProgress shows the work `what`, counting in unit ("rows", "records").
func newProgress(logger *slog.Logger, what, unit string) *progress {
	p := &progress{logger: logger, what: what, last: time.Now(), counts: map[string]int{}}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetDescription(what), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

// Report is called with the rows done so far and the total expected.
func (p *progress) Report(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.ChangeMax64(total)
		_ = p.bar.Set64(done)
		return
	}
	if p.due() || done == total {
		p.logger.Info(p.what, "done", done, "total", total)
	}
}

// Add counts records stored in a collection, for work whose size is not known ahead.
func (p *progress) Add(collection string, records int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[collection] += records
	if p.bar != nil {
		p.bar.Describe(p.what + " " + collection)
		_ = p.bar.Add(records)
		return
	}
	if p.due() {
		attrs := []any{}
		for _, k := range slices.Sorted(maps.Keys(p.counts)) {
			attrs = append(attrs, k, p.counts[k])
		}
		p.logger.Info(p.what, attrs...)
	}
}

// due says whether a log line is due, and if so starts the next interval.
func (p *progress) due() bool {
	if time.Since(p.last) < 5*time.Second {
		return false
	}
	p.last = time.Now()
	return true
}

// Finish clears the bar's line for the closing log line: a bar of unknown length does not clear
// itself.
func (p *progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
