// Package live pushes the store's change feed to subscriptions: one broker per store wakes when
// the feed grows (PostgreSQL's NOTIFY, or a short poll of SQLite's table), reads the new entries
// once and fans them out to the subscribers of their tenant whose filter they match. It also
// keeps the limits of the subscriptions' resources: connections per principal, subscriptions
// per connection, changes waiting for a slow subscriber.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// Config is what serve's flags set; every limit is on by default.
type Config struct {
	Retention                     time.Duration `name:"change-feed-retention" env:"LCW_CHANGE_FEED_RETENTION" default:"168h" help:"Keep change feed entries this long: a subscription can resume from a cursor this old."`
	PollInterval                  time.Duration `name:"change-feed-poll" env:"LCW_CHANGE_FEED_POLL" default:"200ms" help:"How often a SQLite gateway reads the change feed for new entries while someone subscribes (PostgreSQL notifies)."`
	MaxSubscriptionsPerConnection int           `name:"max-subscriptions-per-connection" env:"LCW_MAX_SUBSCRIPTIONS_PER_CONNECTION" default:"20" help:"Most subscriptions one WebSocket connection may run at once."`
	MaxConnectionsPerPrincipal    int           `name:"max-connections-per-principal" env:"LCW_MAX_CONNECTIONS_PER_PRINCIPAL" default:"20" help:"Most WebSocket and SSE connections one principal (token subject, or client address without auth) may hold open."`
	MaxPendingChanges             int           `name:"max-pending-changes" env:"LCW_MAX_PENDING_CHANGES" default:"10000" help:"Changes that may wait for a slow subscriber; beyond that its connection is closed."`
}

// DefaultConfig is the flags' defaults.
func DefaultConfig() Config {
	return Config{Retention: 7 * 24 * time.Hour, PollInterval: 200 * time.Millisecond,
		MaxSubscriptionsPerConnection: 20, MaxConnectionsPerPrincipal: 20, MaxPendingChanges: 10000}
}

// readBatch is how many entries one read of the feed takes; a larger burst takes several reads.
const readBatch = 1000

// postgresSafetyPoll reads the feed now and then on PostgreSQL too, so a notification lost while
// the listening connection reconnects delays changes by this much at most.
const postgresSafetyPoll = 5 * time.Second

// Broker fans the feed out to subscriptions. It reads the database only while someone subscribes.
type Broker struct {
	store  *db.Store
	cfg    Config
	logger *slog.Logger
	m      *metrics

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	conns   map[string]int // open connections per principal
	pos     int64          // the last entry fanned out
	gen     int            // the running loop's generation; a stopped loop must not fan out
	stop    context.CancelFunc
	wake    chan struct{}
	running bool
}

// New makes the broker of store; it starts reading the feed at the first subscription.
func New(store *db.Store, cfg Config, logger *slog.Logger) *Broker {
	return &Broker{store: store, cfg: cfg, logger: logger, m: newMetrics(),
		subs: map[*Subscription]struct{}{}, conns: map[string]int{}, wake: make(chan struct{}, 1)}
}

// Store is the store the broker reads.
func (b *Broker) Store() *db.Store { return b.store }

// Filter says which entries a subscription receives: one kind, and optionally one workflow or run.
type Filter struct {
	Entity            string
	WorkflowID, RunID *string
}

func (f Filter) matches(c *db.Change) bool {
	return c.Entity == f.Entity && (f.WorkflowID == nil || *f.WorkflowID == c.WorkflowID) &&
		(f.RunID == nil || (c.RunID != nil && *f.RunID == *c.RunID))
}

// Subscribe registers a subscription of tenantID's entries that match f, from the next entry the
// broker reads on; Start is the last entry before them. The connection in ctx (if any) must have
// room for one more subscription.
func (b *Broker) Subscribe(ctx context.Context, tenantID string, f Filter) (*Subscription, error) {
	if f.WorkflowID != nil {
		f.WorkflowID = ptr(tenant.NormalizeID(*f.WorkflowID))
	}
	if f.RunID != nil {
		f.RunID = ptr(tenant.NormalizeID(*f.RunID))
	}
	conn := ConnectionFrom(ctx)
	if conn != nil && !conn.reserve(b.cfg.MaxSubscriptionsPerConnection) {
		return nil, limitError("max-subscriptions-per-connection", b.cfg.MaxSubscriptionsPerConnection,
			"this connection runs %d subscriptions already; at most %d are allowed", b.cfg.MaxSubscriptionsPerConnection, b.cfg.MaxSubscriptionsPerConnection)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		pos, err := b.store.LatestChange(ctx)
		if err != nil {
			if conn != nil {
				conn.release()
			}
			return nil, err
		}
		b.pos = pos
		b.start()
	}
	// A group's subscription is not a client's: its members count themselves.
	s := &Subscription{b: b, tenant: tenantID, filter: f, conn: conn, Start: b.pos, ready: make(chan struct{}, 1), counted: GroupFrom(ctx) == nil}
	b.subs[s] = struct{}{}
	if s.counted {
		b.m.active.Inc()
	}
	return s, nil
}

func ptr[T any](v T) *T { return &v }

// start runs the loop that reads the feed; b.mu is held.
func (b *Broker) start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.gen++
	b.stop, b.running = cancel, true
	gen := b.gen
	interval := b.cfg.PollInterval
	if interval <= 0 {
		interval = DefaultConfig().PollInterval
	}
	if b.store.Postgres() {
		interval = postgresSafetyPoll
		go b.listen(ctx)
	}
	go b.loop(ctx, gen, interval)
}

func (b *Broker) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	if s.counted {
		b.m.active.Dec()
	}
	if s.conn != nil {
		s.conn.release()
	}
	if len(b.subs) == 0 && b.running {
		b.stop()
		b.running = false
	}
}

// poke wakes the loop; a wake-up already pending covers this one.
func (b *Broker) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Broker) loop(ctx context.Context, gen int, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-b.wake:
		}
		b.read(ctx, gen)
	}
}

// read takes the entries after the broker's position, in batches, and fans each batch out.
func (b *Broker) read(ctx context.Context, gen int) {
	for {
		b.mu.Lock()
		pos := b.pos
		b.mu.Unlock()
		changes, err := b.store.ChangesAfter(ctx, pos, readBatch)
		if err != nil {
			if ctx.Err() == nil {
				b.logger.Warn("cannot read the change feed", "error", err)
			}
			return
		}
		if len(changes) == 0 {
			return
		}
		b.mu.Lock()
		if b.gen != gen || b.pos != pos {
			b.mu.Unlock()
			return
		}
		b.pos = changes[len(changes)-1].Seq
		b.fanOut(changes)
		b.mu.Unlock()
		if len(changes) < readBatch {
			return
		}
	}
}

// fanOut hands each subscription the entries of its tenant that match its filter; b.mu is held.
func (b *Broker) fanOut(changes []db.Change) {
	for s := range b.subs {
		var mine []db.Change
		for i := range changes {
			if changes[i].TenantID == s.tenant && s.filter.matches(&changes[i]) {
				mine = append(mine, changes[i])
			}
		}
		if len(mine) > 0 && !s.push(mine, b.cfg.MaxPendingChanges) {
			b.m.dropped.Inc()
			b.logger.Warn("subscriber too slow: closing its connection", "tenant", s.tenant, "pending", b.cfg.MaxPendingChanges)
			if s.conn != nil {
				s.conn.Drop(ErrSlowConsumer)
			}
		}
	}
}

// listen keeps a LISTEN connection open while the loop runs, reconnecting with backoff; every
// notification, and every (re)connection, wakes the loop.
func (b *Broker) listen(ctx context.Context) {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = 100*time.Millisecond, 10*time.Second
	for ctx.Err() == nil {
		err := b.store.ListenChanges(ctx, func() { bo.Reset(); b.poke() }, func(string) { b.poke() })
		if ctx.Err() != nil {
			return
		}
		wait := bo.NextBackOff()
		b.logger.Warn("change feed notifications lost: reconnecting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Delivered records an event sent to a client, for /metrics.
func (b *Broker) Delivered(changedAt time.Time) {
	b.m.delivered.Inc()
	b.m.lag.Observe(time.Since(changedAt).Seconds())
}

// ErrSlowConsumer ends a subscription whose client does not keep up.
var ErrSlowConsumer = errors.New("the client reads changes more slowly than they come: its connection is closed")

// Subscription receives the entries of one subscriber.
type Subscription struct {
	// Start is the last entry before the ones this subscription receives.
	Start int64

	b       *Broker
	tenant  string
	filter  Filter
	conn    *Connection
	counted bool

	mu       sync.Mutex
	pending  []db.Change
	overflow bool
	ready    chan struct{}
}

// push queues changes; false when the queue would exceed limit (the subscription is then over).
func (s *Subscription) push(changes []db.Change, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow {
		return true // reported once
	}
	if limit > 0 && len(s.pending)+len(changes) > limit {
		s.overflow, s.pending = true, nil
	} else {
		s.pending = append(s.pending, changes...)
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return !s.overflow
}

// Next waits for the entries that came since the last call, all of them at once (a burst).
func (s *Subscription) Next(ctx context.Context) ([]db.Change, error) {
	for {
		s.mu.Lock()
		if s.overflow {
			s.mu.Unlock()
			return nil, ErrSlowConsumer
		}
		if len(s.pending) > 0 {
			out := s.pending
			s.pending = nil
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.ready:
		}
	}
}

// Close ends the subscription.
func (s *Subscription) Close() { s.b.remove(s) }

// Collectors are the broker's metrics.
func (b *Broker) Collectors() []prometheus.Collector {
	return []prometheus.Collector{b.m.active, b.m.delivered, b.m.lag, b.m.dropped, b.m.connections}
}

// Readiness is the broker's line on /readyz.
func (b *Broker) Readiness() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return "live: no subscriptions"
	}
	return "live: " + itoa(len(b.subs)) + " subscriptions, change feed read up to " + itoa(int(b.pos))
}

type metrics struct {
	active, connections prometheus.Gauge
	delivered, dropped  prometheus.Counter
	lag                 prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lcw_subscriptions_active",
			Help: "GraphQL subscriptions running now."}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lcw_subscription_connections_active",
			Help: "WebSocket and SSE connections open now."}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "lcw_subscription_events_total",
			Help: "Subscription events sent to clients."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "lcw_subscriptions_dropped_slow_total",
			Help: "Subscriptions whose connection was closed because the client did not keep up."}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lcw_subscription_delivery_lag_seconds",
			Help:    "Time from a change's commit (its change feed entry) to its event being sent.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
	}
}
