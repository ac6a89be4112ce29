package endpoint

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"
)

// Policy is what the GraphQL endpoint accepts and what it shows: request limits, the CORS
// allow-list, introspection, GraphiQL, field suggestions and persisted operations. serve embeds it,
// so each field is a flag with an LCW_ environment twin. Every limit is on by default; 0 switches
// one off (not recommended anywhere reachable by strangers).
type Policy struct {
	MaxBodyBytes   ByteSize      `name:"max-body-bytes" env:"LCW_MAX_BODY_BYTES" default:"1MiB" help:"Largest request body (bytes, or with KiB/MiB); more is HTTP 413."`
	MaxTokens      int           `name:"max-tokens" env:"LCW_MAX_TOKENS" default:"5000" help:"Most lexical tokens in a GraphQL document; the parser stops there."`
	MaxDepth       int           `name:"max-depth" env:"LCW_MAX_DEPTH" default:"10" help:"Deepest field nesting of an operation (introspection excluded: see MaxIntrospectionDepth)."`
	MaxAliases     int           `name:"max-aliases" env:"LCW_MAX_ALIASES" default:"30" help:"Most aliased fields in an operation, fragments expanded."`
	MaxRootFields  int           `name:"max-root-fields" env:"LCW_MAX_ROOT_FIELDS" default:"10" help:"Most top-level fields in an operation, fragments expanded."`
	MaxCost        int           `name:"max-cost" env:"LCW_MAX_COST" default:"100000" help:"Largest estimated cost: each field 1, a list field its page size (first/last, default 50) times its selection."`
	MaxFields      int           `name:"max-fields" env:"LCW_MAX_FIELDS" default:"500" help:"Most fields in a document, fragments expanded; counted before validation, whose cost grows faster than this."`
	MaxDirectives  int           `name:"max-directives" env:"LCW_MAX_DIRECTIVES" default:"50" help:"Most directives in a document, fragments expanded; counted before validation."`
	RequestTimeout time.Duration `name:"graphql-timeout" env:"LCW_GRAPHQL_TIMEOUT" default:"10s" help:"Longest time one GraphQL request may take; its database work is cancelled then."`

	CORSOrigins []string `name:"cors-origins" env:"LCW_CORS_ORIGINS" sep:"," placeholder:"ORIGIN" help:"Origins browsers may call /graphql from (https://app.example.com, https://*.example.com); empty: no cross-origin access."`

	// Switches that default to on are Switch, not bool, so --help shows them as --introspection=true
	// like every other default, and --introspection=false reads naturally.
	Introspection    Switch `name:"introspection" env:"LCW_INTROSPECTION" default:"true" help:"Answer __schema and __type queries (true or false)."`
	GraphiQL         Switch `name:"graphiql" env:"LCW_GRAPHIQL" default:"true" help:"Serve GraphiQL at / (true or false)."`
	FieldSuggestions Switch `name:"field-suggestions" env:"LCW_FIELD_SUGGESTIONS" default:"true" help:"Add \"Did you mean ...?\" to validation errors (true or false)."`
	Production       bool   `name:"production" env:"LCW_PRODUCTION" help:"Turn off introspection, GraphiQL and field suggestions, whatever their own flags say."`

	FastPath Switch `name:"fast-path" env:"LCW_FAST_PATH" default:"true" help:"Run queries whose every field the compiled read path knows without gqlgen's per-field executor; the rest run through gqlgen (true or false)."`

	APQ           Switch `name:"apq" env:"LCW_APQ" default:"true" help:"Automatic Persisted Queries: clients may send a sha256 hash instead of a document they sent before (true or false)."`
	PersistedOnly string `name:"persisted-only" env:"LCW_PERSISTED_ONLY" placeholder:"MANIFEST" help:"Execute only the operations in this manifest (persisted-documents.json of graphql-codegen's client preset: hash to document)."`

	// manifest is PersistedOnly, read and checked by Validate (kong calls it after parsing).
	manifest *manifest
}

// DefaultPolicy is the policy of a plain `serve`: the flags' defaults. A test keeps the two equal.
func DefaultPolicy() Policy {
	return Policy{
		MaxBodyBytes:     1 << 20,
		MaxTokens:        5000,
		MaxDepth:         10,
		MaxAliases:       30,
		MaxRootFields:    10,
		MaxCost:          100000,
		MaxFields:        500,
		MaxDirectives:    50,
		RequestTimeout:   10 * time.Second,
		Introspection:    On,
		GraphiQL:         On,
		FieldSuggestions: On,
		APQ:              On,
		FastPath:         On,
	}
}

// Validate reads and checks the trusted-documents manifest, so a bad one stops serve at start.
func (p *Policy) Validate() error {
	for _, n := range []struct {
		name string
		v    int64
	}{{"max-body-bytes", int64(p.MaxBodyBytes)}, {"max-tokens", int64(p.MaxTokens)}, {"max-depth", int64(p.MaxDepth)},
		{"max-aliases", int64(p.MaxAliases)}, {"max-root-fields", int64(p.MaxRootFields)}, {"max-cost", int64(p.MaxCost)},
		{"max-fields", int64(p.MaxFields)}, {"max-directives", int64(p.MaxDirectives)},
		{"graphql-timeout", int64(p.RequestTimeout)}} {
		if n.v < 0 {
			return fmt.Errorf("--%s must not be negative (0 switches the limit off)", n.name)
		}
	}
	if p.PersistedOnly == "" {
		p.manifest = nil
		return nil
	}
	m, err := loadManifest(p.PersistedOnly)
	if err != nil {
		return fmt.Errorf("--persisted-only: %w", err)
	}
	p.manifest = m
	return nil
}

// ServesIntrospection, ServesGraphiQL and SuggestsFields apply --production.
func (p *Policy) ServesIntrospection() bool { return p.Introspection.IsOn() && !p.Production }

// ServesGraphiQL tells newMux whether to mount GraphiQL; nil is the default policy.
func (p *Policy) ServesGraphiQL() bool {
	if p == nil {
		return true
	}
	return p.GraphiQL.IsOn() && !p.Production
}

func (p *Policy) SuggestsFields() bool { return p.FieldSuggestions.IsOn() && !p.Production }

// CORS lets the allow-listed origins call next from a browser. It must wrap the auth guard, not
// sit inside it: a preflight carries no token. With no origins it adds nothing, so browsers keep
// the same-origin rule; rs/cors itself would read an empty list as "every origin".
func (p *Policy) CORS(next http.Handler) http.Handler {
	if p == nil || len(p.CORSOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: p.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Accept", "Authorization", "Idempotency-Key"}, // the last for the mutations
		ExposedHeaders: []string{"X-Request-Id"},
		// Bearer tokens, not cookies, authenticate: credentials mode would only widen what an
		// allowed origin can do.
		AllowCredentials: false,
		MaxAge:           600,
	}).Handler(next)
}

// Switch is a flag that defaults to on and is written with its value: --introspection=false. Its
// kind is string, not bool: kong would make a bool a bare --flag and hide its default in --help.
type Switch string

// The values of a Switch; the zero value is off.
const (
	On  Switch = "true"
	Off Switch = "false"
)

// UnmarshalText reads true or false (also on/off, yes/no, 1/0).
func (s *Switch) UnmarshalText(text []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(text))) {
	case "true", "on", "yes", "1":
		*s = On
	case "false", "off", "no", "0":
		*s = Off
	default:
		return errors.New("want true or false")
	}
	return nil
}

// IsOn tells whether the switch is on.
func (s Switch) IsOn() bool { return s == On }

// ByteSize is a number of bytes, written plainly or with a KiB, MiB or GiB suffix.
type ByteSize int64

// UnmarshalText reads 1048576, 1024KiB or 1MiB.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, suffix)), m
			break
		}
	}
	s = strings.TrimSuffix(s, "B")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return errors.New("want a size such as 1048576, 512KiB or 1MiB")
	}
	*b = ByteSize(n * mult)
	return nil
}

func (b ByteSize) String() string {
	switch {
	case b != 0 && b%(1<<20) == 0:
		return strconv.FormatInt(int64(b)>>20, 10) + "MiB"
	case b != 0 && b%(1<<10) == 0:
		return strconv.FormatInt(int64(b)>>10, 10) + "KiB"
	}
	return strconv.FormatInt(int64(b), 10)
}
