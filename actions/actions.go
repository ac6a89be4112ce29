// Package actions acts on Microsoft Graph for callers: it re-runs a run's failed users and
// tasks, chosen processing results or a workflow for chosen users, and cancels runs. Each action
// is checked (permission, tenant, limits) before anything reaches Graph, sent as the caller
// (on-behalf-of) or as the gateway's application, audited (one row and one log line), made
// idempotent by a client's key, and followed by a re-sync of the workflow it touched.
package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/errcode"
	"lcw-gateway/msgraph"
	"lcw-gateway/syncer"
	"lcw-gateway/tenant"
)

// Config is serve's actions part of the command line.
type Config struct {
	Mode           string        `name:"actions" env:"LCW_ACTIONS" enum:"off,delegated,application" default:"off" help:"Mutations that act on Microsoft Graph: off, delegated (as the caller, through the on-behalf-of flow; needs --auth jwt) or application (as the gateway's own app registration)."`
	MaxSubjects    int           `name:"action-max-subjects" env:"LCW_ACTION_MAX_SUBJECTS" default:"100" help:"Users or processing results one mutation may name at most."`
	IdempotencyTTL time.Duration `name:"idempotency-ttl" env:"LCW_IDEMPOTENCY_TTL" default:"24h" help:"How long an Idempotency-Key is remembered: a mutation sent again with it within this time answers with its first result."`
	Permissions    []string      `name:"action-permissions" env:"LCW_ACTION_PERMISSIONS" placeholder:"PERMISSION,..." help:"With --auth jwt, a caller may act only with one of these in scp or roles. Default: LifecycleWorkflows-Workflow.Activate, LifecycleWorkflows.ReadWrite.All."`
	ResyncDelay    time.Duration `name:"action-resync-delay" env:"LCW_ACTION_RESYNC_DELAY" default:"20s" help:"With a background sync, sync an acted-on workflow again this long after the action, so its new run appears."`
}

// Enabled tells whether mutations may act.
func (c Config) Enabled() bool { return c.Mode == "delegated" || c.Mode == "application" }

// WritePermissions are Graph's permissions that let a caller run or cancel workflows, the default
// of --action-permissions; the read permissions never suffice.
var WritePermissions = []string{"LifecycleWorkflows-Workflow.Activate", "LifecycleWorkflows.ReadWrite.All"}

// readPermissions never let a caller act, whatever --action-permissions says.
var readPermissions = []string{"LifecycleWorkflows-Reports.Read.All", "LifecycleWorkflows.Read.All"}

// activateLimit is the most subjects Graph takes in one activate call.
const activateLimit = 10

// Resyncer syncs a workflow again soon (the serve loop's syncer.Loop).
type Resyncer interface {
	Resync(tenantID, workflowID string, delay time.Duration) bool
}

// Service runs the actions of one gateway.
type Service struct {
	cfg      Config
	store    *db.Store
	client   *msgraph.Client
	app      *msgraph.Credentials // the gateway's application identity; the base of on-behalf-of
	tokenURL func(tenantID string) string
	// appTenant is the tenant the application identity acts in (its data's stored tenant).
	appTenant string
	authOn    bool
	obo       *expirable.LRU[string, *msgraph.Credentials]
	resync    Resyncer
	logger    *slog.Logger
}

// Options are what New needs besides the flags.
type Options struct {
	Graph  syncer.Flags // Graph's URL, the app registration and its credentials
	AuthOn bool         // --auth jwt
	Store  *db.Store
	Resync Resyncer // nil: no re-sync
	Logger *slog.Logger
	// HTTPClient sends Graph and token requests (nil: the defaults).
	HTTPClient *http.Client
}

// New checks the flags; with actions off it returns a service that refuses every mutation.
func New(cfg Config, o Options) (*Service, error) {
	if len(cfg.Permissions) == 0 {
		cfg.Permissions = WritePermissions
	}
	for _, p := range cfg.Permissions {
		if slices.Contains(readPermissions, p) {
			return nil, fmt.Errorf("--action-permissions: %s is a read permission; acting needs a write permission", p)
		}
	}
	s := &Service{cfg: cfg, store: o.Store, authOn: o.AuthOn, resync: o.Resync, logger: o.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.Enabled() {
		return s, nil
	}
	if cfg.MaxSubjects <= 0 {
		return nil, errors.New("--action-max-subjects must be positive")
	}
	if cfg.Mode == "delegated" && !o.AuthOn {
		return nil, errors.New("--actions delegated acts as the caller and needs the caller's token: use it with --auth jwt, or choose --actions application")
	}
	cc, err := o.Graph.CredentialsConfig()
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	cc.HTTPClient = o.HTTPClient
	if cfg.Mode == "application" && cc.TokenURL == "" {
		return nil, errors.New("--actions application acts in the tenant of --tenant-id (LCW_TENANT_ID); give it")
	}
	probe := cc
	if probe.TokenURL == "" {
		probe.TokenURL = "-" // on-behalf-of names a token URL per caller's tenant
	}
	if s.app, err = msgraph.NewCredentials(probe); err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	// On behalf of a caller, the token comes from the caller's tenant (--token-url overrides it
	// for a national cloud or a test double).
	s.tokenURL = func(tenantID string) string {
		if o.Graph.TokenURL != "" {
			return o.Graph.TokenURL
		}
		return syncer.TokenURLOf(tenantID)
	}
	s.appTenant = o.Graph.StoredTenant()
	if s.client, err = msgraph.NewClient(msgraph.ClientConfig{BaseURL: o.Graph.GraphURL, Tokens: s.app, HTTPClient: o.HTTPClient,
		RequestTimeout: o.Graph.RequestTimeout, Concurrency: o.Graph.Concurrency, MaxTries: 4, MaxRetryTime: time.Minute,
		InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, Logger: s.logger}); err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	// One token source per caller's token, each caching its Graph token until shortly before it
	// expires; a caller's token lives an hour or so, and so does its entry.
	s.obo = expirable.NewLRU[string, *msgraph.Credentials](10_000, nil, 2*time.Hour)
	return s, nil
}

// Error is a mutation refused or failed, with the code a client branches on and, when Graph
// answered, Graph's status and request id. It never holds a token or a secret.
type Error struct {
	Code            string
	Message         string
	GraphStatus     int
	GraphRequestID  string
	ClientRequestID string
}

func (e *Error) Error() string { return e.Message }

func refuse(code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// caller is who acts and how Graph is called for them.
type caller struct {
	id       string
	identity string // delegated or application
	tokens   msgraph.TokenSource
}

// authorize decides before anything is read or sent: actions on, the write permission, and a way
// to call Graph as this caller.
func (s *Service) authorize(ctx context.Context) (*caller, error) {
	if s == nil || !s.cfg.Enabled() {
		return nil, refuse(errcode.Forbidden, "mutations are off on this gateway: serve with --actions delegated or --actions application")
	}
	p, authed := auth.PrincipalFrom(ctx)
	if !authed {
		// --auth none: the operator on this machine, as the application (New allows nothing else).
		return &caller{id: "anonymous", identity: "application", tokens: s.app}, nil
	}
	if !p.Has(s.cfg.Permissions...) {
		return nil, refuse(errcode.Forbidden, "acting on workflows needs one of the permissions %s in the token; read permissions do not suffice", strings.Join(s.cfg.Permissions, ", "))
	}
	if s.cfg.Mode == "application" {
		if tenant.From(ctx) != s.appTenant {
			return nil, refuse(errcode.Forbidden, "this gateway acts with its application identity in its own tenant only, not in the caller's")
		}
		return &caller{id: p.ID, identity: "application", tokens: s.app}, nil
	}
	token := auth.BearerToken(ctx)
	if !p.Delegated || token == "" {
		return nil, refuse(errcode.Forbidden, "this gateway acts on behalf of a signed-in user (--actions delegated): an application's token cannot be exchanged")
	}
	tokenURL := s.tokenURL(p.TenantID)
	key := sha256.Sum256([]byte(tokenURL + "\x00" + token))
	creds, ok := s.obo.Get(hex.EncodeToString(key[:]))
	if !ok {
		creds = s.app.OnBehalfOf(tokenURL, token)
		s.obo.Add(hex.EncodeToString(key[:]), creds)
	}
	return &caller{id: p.ID, identity: "delegated", tokens: creds}, nil
}

// CanRead tells whether the caller may read the audit trail: with --auth jwt, the write
// permission; with --auth none, the operator.
func (s *Service) CanRead(ctx context.Context) error {
	perms := WritePermissions
	if s != nil {
		perms = s.cfg.Permissions
	}
	if p, authed := auth.PrincipalFrom(ctx); authed && !p.Has(perms...) {
		return refuse(errcode.Forbidden, "the audit trail of actions needs one of the permissions %s in the token", strings.Join(perms, ", "))
	}
	return nil
}

// graphError turns a failed call into the error a client gets.
func graphError(err error) *Error {
	var re *msgraph.RequestError
	if errors.As(err, &re) && re.Status != 0 {
		e := &Error{GraphStatus: re.Status, GraphRequestID: re.RequestID, ClientRequestID: re.ClientRequestID}
		what := fmt.Sprintf("Microsoft Graph answered %d", re.Status)
		if re.Code != "" {
			what += " " + re.Code
		}
		if re.Message != "" {
			what += ": " + re.Message
		}
		switch {
		case re.Status == 401 || re.Status == 403:
			e.Code = errcode.Forbidden
			what += " (the caller, or the app with --actions application, needs LifecycleWorkflows.ReadWrite.All or LifecycleWorkflows-Workflow.Activate and a Lifecycle Workflows role in Entra)"
		case re.Status == 404:
			e.Code = errcode.NotFound
		case re.Status == 400 || re.Status == 406 || re.Status == 409 || re.Status == 422:
			e.Code = errcode.BadUserInput
			if re.Status == 406 {
				what += " (Graph answers 406 for subjects that do not exist in the tenant)"
			}
		default:
			e.Code = errcode.UpstreamUnavailable
		}
		e.Message = what + " (request-id " + re.RequestID + ", client-request-id " + re.ClientRequestID + ")"
		return e
	}
	if errors.Is(err, msgraph.ErrCredentials) {
		return refuse(errcode.Forbidden, "the identity platform refused a token for this action: %v", err)
	}
	if errors.As(err, &re) {
		return &Error{Code: errcode.UpstreamUnavailable, ClientRequestID: re.ClientRequestID,
			Message: "Microsoft Graph could not be reached (client-request-id " + re.ClientRequestID + "); the action may or may not have run: look at the workflow's runs before retrying"}
	}
	return refuse(errcode.UpstreamUnavailable, "the action could not be sent to Microsoft Graph: %v", err)
}
