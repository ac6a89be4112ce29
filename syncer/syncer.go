// Package syncer pulls Lifecycle Workflows data from Microsoft Graph into the store: one pass
// (the sync command) or passes on an interval while the gateway serves.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/msgraph"
	"lcw-gateway/tenant"
)

// Flags say how to reach Microsoft Graph and who the gateway is there. The sync command and
// serve's background sync share them, env twins included.
type Flags struct {
	GraphURL         string        `name:"graph-url" env:"LCW_GRAPH_URL" default:"https://graph.microsoft.com/v1.0" help:"Microsoft Graph service root (a national cloud's, or a test double's)."`
	TokenURL         string        `name:"token-url" env:"LCW_TOKEN_URL" help:"OAuth 2.0 token endpoint (default: https://login.microsoftonline.com/TENANT-ID/oauth2/v2.0/token)."`
	TenantID         string        `name:"tenant-id" env:"LCW_TENANT_ID" help:"Entra tenant id (a GUID) to sync; records are stored under it, and serve with --auth none answers from it (default there: the tenant 'default')."`
	ClientID         string        `name:"client-id" env:"LCW_CLIENT_ID" help:"Application (client) id of the gateway's Entra app registration."`
	ClientSecretFile string        `name:"client-secret-file" env:"LCW_CLIENT_SECRET_FILE" help:"File holding the app's client secret; or put the secret itself in LCW_CLIENT_SECRET."`
	CertificateFile  string        `name:"client-certificate-file" env:"LCW_CLIENT_CERTIFICATE_FILE" help:"PEM file with the app's certificate and its unencrypted RSA private key, instead of a secret."`
	StoreTenant      string        `name:"store-tenant" env:"LCW_STORE_TENANT" help:"Store the records under this tenant instead of --tenant-id (serve with --auth none then answers from it too)."`
	Workflows        []string      `name:"workflow" env:"LCW_WORKFLOWS" help:"Sync only this workflow id; repeat for more (default: every workflow)."`
	Concurrency      int           `name:"concurrency" env:"LCW_CONCURRENCY" default:"4" help:"Graph requests in flight at most."`
	RequestTimeout   time.Duration `name:"request-timeout" env:"LCW_REQUEST_TIMEOUT" default:"60s" help:"Time limit of one Graph request, its body included."`
	Overlap          time.Duration `name:"sync-overlap" env:"LCW_SYNC_OVERLAP" default:"10m" help:"How far before the last watermark an incremental sync looks for updated runs."`
	Retain           time.Duration `name:"retain" env:"LCW_RETAIN" default:"0" help:"Keep this much history, e.g. 8760h: after each pass, runs scheduled longer ago are pruned with their reports and results, in small batches (0: keep everything)."`
}

// EnvClientSecret holds the secret: an environment variable, never a flag, so that it shows in
// no process list and no --help.
const EnvClientSecret = "LCW_CLIENT_SECRET"

// Syncer makes sync passes over one tenant, keeping its token cache and counters between them.
type Syncer struct {
	flags  Flags
	store  *db.Store
	client *msgraph.Client
	logger *slog.Logger
	tenant string // the tenant records are stored under

	mu          sync.Mutex
	lastSuccess time.Time
	lastAttempt time.Time
	lastError   string
	running     bool
}

// Report is what one pass did.
type Report struct {
	msgraph.Stats
	msgraph.ClientStats
	Duration time.Duration
}

// New makes a syncer for the tenant the flags name, with its Graph client and credentials.
func New(logger *slog.Logger, f Flags, store *db.Store) (*Syncer, error) {
	if f.TenantID == "" {
		return nil, errors.New("sync: --tenant-id (LCW_TENANT_ID) names the Entra tenant to sync")
	}
	cc, err := f.CredentialsConfig()
	if err != nil {
		return nil, err
	}
	creds, err := msgraph.NewCredentials(cc)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	client, err := msgraph.NewClient(msgraph.ClientConfig{BaseURL: f.GraphURL, Tokens: creds, Concurrency: f.Concurrency,
		RequestTimeout: f.RequestTimeout, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	return &Syncer{flags: f, store: store, client: client, logger: logger, tenant: f.StoredTenant()}, nil
}

// CredentialsConfig is the gateway's app as the flags name it: client id, secret or certificate,
// the token endpoint of --tenant-id (or --token-url) and Graph's .default scope. TokenURL is ""
// when neither --token-url nor --tenant-id is given (the actions' on-behalf-of exchange then uses
// each caller's tenant).
func (f Flags) CredentialsConfig() (msgraph.CredentialsConfig, error) {
	graphURL, err := url.Parse(f.GraphURL)
	if err != nil || graphURL.Host == "" {
		return msgraph.CredentialsConfig{}, fmt.Errorf("sync: --graph-url %q is not a URL", f.GraphURL)
	}
	tokenURL := f.TokenURL
	if tokenURL == "" && f.TenantID != "" {
		tokenURL = TokenURLOf(f.TenantID)
	}
	cc := msgraph.CredentialsConfig{
		TokenURL: tokenURL,
		ClientID: f.ClientID,
		// .default: the application permissions consented to the app, for Graph's host.
		Scope: graphURL.Scheme + "://" + graphURL.Host + "/.default",
	}
	if cc.ClientSecret, err = clientSecret(f.ClientSecretFile); err != nil {
		return cc, err
	}
	if f.CertificateFile != "" {
		pemData, err := os.ReadFile(f.CertificateFile)
		if err != nil {
			return cc, fmt.Errorf("sync: --client-certificate-file: %w", err)
		}
		if cc.Certificate, cc.PrivateKey, err = msgraph.LoadCertificate(pemData); err != nil {
			return cc, fmt.Errorf("sync: --client-certificate-file %s: %w", f.CertificateFile, err)
		}
	}
	return cc, nil
}

// TokenURLOf is the Microsoft identity platform's token endpoint of a tenant.
func TokenURLOf(tenantID string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token"
}

// StoredTenant is the tenant the records are stored under: --store-tenant, else --tenant-id,
// else (nothing to sync) the tenant 'default'. A gateway that serves one tenant serves this one,
// so sync, import and serve given the same LCW_TENANT_ID meet on the same data.
func (f Flags) StoredTenant() string {
	if f.StoreTenant != "" {
		return tenant.StoredID(f.StoreTenant)
	}
	return tenant.StoredID(f.TenantID)
}

// clientSecret reads the secret from LCW_CLIENT_SECRET or the file; "" when neither is given
// (a certificate may stand in).
func clientSecret(file string) (string, error) {
	env := os.Getenv(EnvClientSecret)
	if file == "" {
		return env, nil
	}
	if env != "" {
		return "", fmt.Errorf("sync: give the client secret in %s or --client-secret-file, not both", EnvClientSecret)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("sync: --client-secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("sync: --client-secret-file %s is empty", file)
	}
	return secret, nil
}

// Pass syncs once, incrementally unless full.
func (s *Syncer) Pass(ctx context.Context, full bool, progress func(collection string, records int)) (Report, error) {
	return s.pass(ctx, full, nil, progress)
}

// pass syncs the flags' workflows, or only the given ones: a targeted pass (after an action)
// neither counts as the tenant's sync nor changes its status.
func (s *Syncer) pass(ctx context.Context, full bool, only []string, progress func(collection string, records int)) (Report, error) {
	targeted := len(only) > 0
	workflows := s.flags.Workflows
	if targeted {
		workflows = only
	}
	start := time.Now()
	before := s.client.Stats()
	if !targeted {
		s.mu.Lock()
		s.running, s.lastAttempt = true, start
		s.mu.Unlock()
	}

	ctx = tenant.WithTenant(ctx, s.tenant)
	var keepSince time.Time
	if s.flags.Retain > 0 {
		keepSince = start.Add(-s.flags.Retain)
	}
	stats, err := msgraph.WalkWith(ctx, s.client, s.store, msgraph.WalkOptions{
		KeepSince:   keepSince,
		Workflows:   workflows,
		UsersByID:   true,
		State:       s.store,
		Full:        full,
		Overlap:     s.flags.Overlap,
		Concurrency: s.flags.Concurrency,
		KeepGoing:   true,
		Logger:      s.logger,
		Progress:    progress,
	})
	if s.flags.Retain > 0 && ctx.Err() == nil {
		// Pruning runs after the pass, a few runs per transaction, while the gateway serves.
		pruned, perr := s.store.PruneBefore(ctx, keepSince)
		if perr != nil {
			s.logger.Error("could not prune history", "before", keepSince, "error", perr.Error())
		} else if pruned.Runs > 0 {
			s.logger.Info("pruned history", "before", keepSince, "runs", pruned.Runs, "taskReports", pruned.TaskReports,
				"taskProcessingResults", pruned.TaskProcessingResults, "userProcessingResults", pruned.UserProcessingResults,
				"transactions", pruned.Batches)
		}
	}
	after := s.client.Stats()
	report := Report{Stats: stats, Duration: time.Since(start), ClientStats: msgraph.ClientStats{
		Requests: after.Requests - before.Requests, Retries: after.Retries - before.Retries,
		Throttled: after.Throttled - before.Throttled, Pages: after.Pages - before.Pages}}
	if targeted {
		if err != nil {
			return report, fmt.Errorf("sync of %s: %w", strings.Join(only, ", "), err)
		}
		return report, nil
	}
	if ctx.Err() == nil {
		// A cancelled pass (shutdown) is neither a success nor worth an operator's attention.
		if rerr := s.store.RecordSync(context.WithoutCancel(ctx), start, err); rerr != nil {
			s.logger.Error("could not record the sync", "error", rerr.Error())
		}
	}

	s.mu.Lock()
	s.running = false
	if err == nil {
		s.lastSuccess, s.lastError = start, ""
	} else {
		s.lastError = err.Error()
	}
	s.mu.Unlock()

	if err != nil {
		return report, fmt.Errorf("sync: %w", err)
	}
	return report, nil
}

// Summarize logs a pass's failed workflows and its closing line: counts per collection,
// requests, retries, duration, and the rows created, updated and left unchanged.
func (s *Syncer) Summarize(ctx context.Context, report Report, err error) {
	stats := report.Stats
	failed := 0
	var we *msgraph.WorkflowError
	for _, e := range unjoin(errors.Unwrap(err)) {
		if errors.As(e, &we) {
			failed++
			s.logger.Error("workflow not synced", "workflow", we.ID, "error", we.Err.Error())
		}
	}
	attrs := append([]any{"tenant", s.tenant, "duration", report.Duration.Round(time.Millisecond)}, stats.RecordAttrs()...)
	attrs = append(attrs, "requests", report.Requests, "retries", report.Retries, "throttled", report.Throttled)
	attrs = append(attrs, stats.WrittenAttrs()...)
	switch {
	case err == nil:
		s.logger.Info("sync finished", attrs...)
	case ctx.Err() != nil:
		s.logger.Warn("sync interrupted; the next one resumes", attrs...)
	default:
		s.logger.Error("sync failed", append(attrs, "failedWorkflows", failed)...)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
