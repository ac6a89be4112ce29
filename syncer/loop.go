package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// BackgroundFlags are serve's --sync-interval: the sync command's flags, and how often to pass.
type BackgroundFlags struct {
	SyncInterval time.Duration `name:"sync-interval" env:"LCW_SYNC_INTERVAL" default:"0" help:"Sync from Microsoft Graph in the background this often, e.g. 5m (0: never); takes the sync command's flags."`
	Graph        Flags         `embed:""`
}

// Enabled says whether serve syncs in the background.
func (b *BackgroundFlags) Enabled() bool { return b.SyncInterval > 0 }

// Loop syncs while the gateway serves. A failed pass is logged and retried at the next tick;
// the data already stored keeps being served.
type Loop struct {
	s        *Syncer
	interval time.Duration
	started  time.Time
	cancel   context.CancelFunc
	done     chan struct{}
	records  *prometheus.CounterVec
	metrics  []prometheus.Collector

	// Workflows an action asked to sync again, and the signal that some are due.
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

// Start begins the loop when an interval is set; it returns nil otherwise, and a nil loop serves
// nothing and stops at once. The loop ends with ctx or Stop.
func (b *BackgroundFlags) Start(ctx context.Context, logger *slog.Logger, store *db.Store) (*Loop, error) {
	if !b.Enabled() {
		return nil, nil
	}
	s, err := New(logger, b.Graph, store)
	if err != nil {
		return nil, err
	}
	// The lag survives a restart: it counts from the last success any process recorded.
	if last, ok, err := store.LastSync(tenant.WithTenant(ctx, s.tenant)); err == nil && ok && last.LastSuccessAt != nil {
		s.lastSuccess = *last.LastSuccessAt
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Loop{s: s, interval: b.SyncInterval, started: time.Now(), cancel: cancel, done: make(chan struct{}),
		pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	l.metrics = l.newMetrics()
	logger.Info("syncing from Microsoft Graph in the background", "every", b.SyncInterval, "graph", b.Graph.GraphURL, "tenant", s.tenant)
	go l.run(ctx)
	return l, nil
}

func (l *Loop) run(ctx context.Context) {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		// A pass that outlasts the interval is followed by the next at once, not by a pile-up.
		report, err := l.s.Pass(ctx, false, l.count)
		l.s.Summarize(ctx, report, err)
		for wait := true; wait; {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				wait = false
			case <-l.wake:
				l.resyncPending(ctx)
			}
		}
	}
}

// Resync syncs a workflow of the loop's tenant again after delay (an action has just started a
// run of it), without waiting for the next interval; other tenants' workflows are not the loop's.
// Requests that arrive before the pass are synced together.
func (l *Loop) Resync(tenantID, workflowID string, delay time.Duration) bool {
	if l == nil || tenantID != l.s.tenant {
		return false
	}
	if ws := l.s.flags.Workflows; len(ws) > 0 && !slices.Contains(ws, workflowID) {
		return false
	}
	time.AfterFunc(delay, func() {
		l.mu.Lock()
		l.pending[workflowID] = true
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default: // a wake-up is already due; it takes this workflow too
		}
	})
	return true
}

func (l *Loop) resyncPending(ctx context.Context) {
	l.mu.Lock()
	ids := slices.Sorted(maps.Keys(l.pending))
	clear(l.pending)
	l.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	report, err := l.s.pass(ctx, false, ids, l.count)
	attrs := append([]any{"tenant", l.s.tenant, "workflows", ids, "duration", report.Duration.Round(time.Millisecond)}, report.Stats.WrittenAttrs()...)
	if err != nil {
		l.s.logger.Warn("re-sync after an action failed; the next pass retries", append(attrs, "error", err.Error())...)
		return
	}
	l.s.logger.Info("re-synced after an action", attrs...)
}

// Stop ends the loop, interrupting a pass (its checkpoints let the next process resume), and
// waits for it.
func (l *Loop) Stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}

// Collectors are the loop's metrics.
func (l *Loop) Collectors() []prometheus.Collector { return l.metrics }

// records counts what the passes stored, by collection.
func (l *Loop) count(collection string, n int) {
	l.records.WithLabelValues(collection).Add(float64(n))
}

func (l *Loop) newMetrics() []prometheus.Collector {
	state := func(read func(s *Syncer) float64) func() float64 {
		return func() float64 {
			l.s.mu.Lock()
			defer l.s.mu.Unlock()
			return read(l.s)
		}
	}
	unix := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}
	l.records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lcw_sync_records_total",
		Help: "Records the background sync stored, by Graph collection.",
	}, []string{"collection"})
	return []prometheus.Collector{
		l.records,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lcw_sync_last_success_timestamp_seconds",
			Help: "When the last successful sync pass started (Unix time; 0: none yet).",
		}, state(func(s *Syncer) float64 { return unix(s.lastSuccess) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lcw_sync_last_attempt_timestamp_seconds",
			Help: "When the last sync pass started, successful or not (Unix time; 0: none yet).",
		}, state(func(s *Syncer) float64 { return unix(s.lastAttempt) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lcw_sync_lag_seconds",
			Help: "How old the synced data may be: seconds since the last successful pass started (since the gateway started, before the first).",
		}, state(func(s *Syncer) float64 {
			since := s.lastSuccess
			if since.IsZero() {
				since = l.started
			}
			return time.Since(since).Seconds()
		})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lcw_sync_running",
			Help: "1 while a sync pass runs.",
		}, state(func(s *Syncer) float64 {
			if s.running {
				return 1
			}
			return 0
		})),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lcw_sync_graph_requests_total",
			Help: "Requests the sync sent to Microsoft Graph, retries included.",
		}, func() float64 { return float64(l.s.client.Stats().Requests) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lcw_sync_graph_retries_total",
			Help: "Graph requests the sync sent again after a throttling answer, a transient fault or an expired token.",
		}, func() float64 { return float64(l.s.client.Stats().Retries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lcw_sync_graph_throttled_total",
			Help: "Answers 429 or 503 from Microsoft Graph.",
		}, func() float64 { return float64(l.s.client.Stats().Throttled) }),
	}
}

// Readiness is the loop's line on /readyz. A stale sync does not make the gateway unready: what
// it stored can still be served; alert on lcw_sync_lag_seconds instead.
func (l *Loop) Readiness() string {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	line := fmt.Sprintf("sync: every %s", l.interval)
	if l.s.lastSuccess.IsZero() {
		line += ", no successful pass yet"
	} else {
		line += fmt.Sprintf(", last success %s (lag %s)", l.s.lastSuccess.UTC().Format(time.RFC3339),
			time.Since(l.s.lastSuccess).Round(time.Second))
	}
	if l.s.running {
		line += ", a pass is running"
	}
	if l.s.lastError != "" {
		// One line: a pass with several failed workflows joins their errors with newlines.
		first, rest, more := strings.Cut(l.s.lastError, "\n")
		line += "; last pass failed: " + first
		if more {
			line += fmt.Sprintf(" (and %d more)", strings.Count(rest, "\n")+1)
		}
	}
	return line
}
