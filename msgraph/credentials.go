package msgraph

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// CredentialsConfig names an Entra app and how it proves who it is: a client secret, or a
// certificate whose public half is registered with the app.
type CredentialsConfig struct {
	TokenURL string // e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
	ClientID string
	// Scope is what the token is for: {Graph root}/.default, the app's consented permissions.
	Scope        string
	ClientSecret string
	Certificate  *x509.Certificate
	PrivateKey   *rsa.PrivateKey
	// HTTPClient sends token requests; nil: a client with a 30s timeout.
	HTTPClient *http.Client
	// OnBehalfOf, when set, is a caller's access token to exchange (OAuth 2.0 on-behalf-of flow)
	// for a Graph token that acts as that caller, instead of the client credentials grant.
	OnBehalfOf string
}

// Credentials is a TokenSource for the OAuth 2.0 client credentials grant. It keeps a token until
// shortly before it expires, and fetches one at a time however many requests wait for it.
type Credentials struct {
	cfg     CredentialsConfig
	mu      sync.Mutex
	token   *oauth2.Token
	renewAt time.Time
	fetched atomic.Int64
}

// NewCredentials checks that cfg names exactly one way to authenticate.
func NewCredentials(cfg CredentialsConfig) (*Credentials, error) {
	switch {
	case cfg.TokenURL == "":
		return nil, errors.New("credentials: no token URL")
	case cfg.ClientID == "":
		return nil, errors.New("credentials: no client id (--client-id)")
	case cfg.ClientSecret == "" && cfg.Certificate == nil:
		return nil, errors.New("credentials: no client secret (LCW_CLIENT_SECRET or --client-secret-file) and no certificate (--client-certificate-file)")
	case cfg.ClientSecret != "" && cfg.Certificate != nil:
		return nil, errors.New("credentials: give a client secret or a certificate, not both")
	case cfg.Certificate != nil && cfg.PrivateKey == nil:
		return nil, errors.New("credentials: the certificate has no private key")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Credentials{cfg: cfg}, nil
}

// Fetched counts the tokens fetched so far.
func (c *Credentials) Fetched() int64 { return c.fetched.Load() }

// Token returns the cached token, or a new one when it is near its end.
func (c *Credentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && time.Now().Before(c.renewAt) {
		return c.token.AccessToken, nil
	}
	tok, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	c.token = tok
	// Renew with a quarter of the lifetime left, at most five minutes before the end: a token
	// that expires while a page is on its way costs a 401 and a retry.
	life := time.Until(tok.Expiry)
	if tok.Expiry.IsZero() {
		life = time.Hour
	}
	c.renewAt = time.Now().Add(life - min(life/4, 5*time.Minute))
	return tok.AccessToken, nil
}

// Invalidate forgets token if it is the cached one.
func (c *Credentials) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && c.token.AccessToken == token {
		c.token = nil
	}
}

func (c *Credentials) fetch(ctx context.Context) (*oauth2.Token, error) {
	cc := clientcredentials.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		TokenURL:     c.cfg.TokenURL,
		Scopes:       []string{c.cfg.Scope},
		AuthStyle:    oauth2.AuthStyleInParams, // Entra's documented form; no auto-detect round trip
	}
	cc.EndpointParams = url.Values{}
	if c.cfg.Certificate != nil {
		assertion, err := c.assertion()
		if err != nil {
			return nil, err
		}
		cc.EndpointParams.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		cc.EndpointParams.Set("client_assertion", assertion)
	}
	if c.cfg.OnBehalfOf != "" {
		// Microsoft identity platform's on-behalf-of request: the caller's token as the assertion,
		// the app's own credentials as above (clientcredentials lets grant_type be replaced).
		cc.EndpointParams.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		cc.EndpointParams.Set("assertion", c.cfg.OnBehalfOf)
		cc.EndpointParams.Set("requested_token_use", "on_behalf_of")
	}
	c.fetched.Add(1)
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient))
	if err != nil {
		return nil, c.describe(err)
	}
	return tok, nil
}

// describe words a token failure without the response body or anything secret in it.
func (c *Credentials) describe(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("token request to %s: %s", c.cfg.TokenURL, c.redact(err.Error()))
	}
	msg := fmt.Sprintf("token request to %s: %s", c.cfg.TokenURL, re.Response.Status)
	if re.ErrorCode != "" {
		msg += ": " + re.ErrorCode
	}
	if re.ErrorDescription != "" {
		msg += ": " + strings.SplitN(re.ErrorDescription, "\r\n", 2)[0] // Entra appends trace and correlation ids
	}
	msg = c.redact(msg)
	if re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 && re.Response.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%w: %s", ErrCredentials, msg)
	}
	return errors.New(msg)
}

func (c *Credentials) redact(s string) string {
	for _, secret := range []string{c.cfg.ClientSecret, c.cfg.OnBehalfOf} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// OnBehalfOf is a token source that acts as the caller whose access token is given: the same app
// credentials, the on-behalf-of grant, a token URL of the caller's tenant, and a cache of its own.
func (c *Credentials) OnBehalfOf(tokenURL, callerToken string) *Credentials {
	cfg := c.cfg
	cfg.TokenURL, cfg.OnBehalfOf = tokenURL, callerToken
	return &Credentials{cfg: cfg}
}

// assertion is the signed JWT that stands for a secret with certificate credentials (RFC 7523,
// as Entra ID asks for it: RS256, the certificate's thumbprint in x5t, aud the token URL).
func (c *Credentials) assertion() (string, error) {
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Audience:  jwt.ClaimStrings{c.cfg.TokenURL},
		Issuer:    c.cfg.ClientID,
		Subject:   c.cfg.ClientID,
		ID:        uuid.NewString(),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	sha1sum := sha1.Sum(c.cfg.Certificate.Raw)
	sha256sum := sha256.Sum256(c.cfg.Certificate.Raw)
	tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(sha1sum[:])
	tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sha256sum[:])
	s, err := tok.SignedString(c.cfg.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return s, nil
}

// LoadCertificate reads a PEM file's certificate and unencrypted RSA private key (the form the
// Azure CLI and openssl write; Entra accepts RSA keys only).
func LoadCertificate(pemData []byte) (*x509.Certificate, *rsa.PrivateKey, error) {
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			if cert != nil {
				continue // the leaf comes first; the rest is its chain
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("certificate: %w", err)
			}
			cert = c
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			var k crypto.PrivateKey
			var err error
			if block.Type == "RSA PRIVATE KEY" {
				k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
			} else {
				k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, fmt.Errorf("private key is a %T; Entra ID takes RSA keys only", k)
			}
			key = rk
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("private key is encrypted; give an unencrypted key in a file only the gateway can read")
		}
	}
	switch {
	case cert == nil:
		return nil, nil, errors.New("no CERTIFICATE block in the PEM data")
	case key == nil:
		return nil, nil, errors.New("no PRIVATE KEY block in the PEM data")
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, errors.New("the private key does not belong to the certificate")
	}
	return cert, key, nil
}
