package msgraph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// PostRequest is an action on Graph (activate, activateWithScope, cancelProcessing).
type PostRequest struct {
	// Path is below the service root, e.g. identityGovernance/lifecycleWorkflows/workflows/{id}/activate.
	Path string
	// Beta sends it to the beta service root beside the configured one (an action Graph has in
	// beta only).
	Beta bool
	Body []byte
	// Tokens authenticate this request (a caller's on-behalf-of tokens); nil: the client's own.
	Tokens TokenSource
}

// PostResult is Graph's answer to an accepted action.
type PostResult struct {
	Status          int
	ClientRequestID string
	RequestID       string
}

// PostURL is where req goes.
func (c *Client) PostURL(req PostRequest) string {
	base := c.base.String()
	if req.Beta {
		if i := strings.LastIndex(base, "/"); i > len(c.base.Scheme)+3 {
			base = base[:i] + "/beta"
		}
	}
	return base + "/" + strings.TrimLeft(req.Path, "/")
}

// Post sends an action. Unlike a GET, an action must not run twice, so it is sent again only
// where Graph cannot have acted on it: a 429 or 503 that says when to come back (Retry-After), a
// 401 for an expired token (once, with a fresh token), and a connection that could not be opened.
// A 500, a timeout or a connection lost after sending is returned at once: the action may have run.
func (c *Client) Post(ctx context.Context, req PostRequest) (*PostResult, error) {
	tokens := req.Tokens
	if tokens == nil {
		tokens = c.cfg.Tokens
	}
	u := c.PostURL(req)
	expo := backoff.NewExponentialBackOff()
	expo.InitialInterval = c.cfg.InitialBackoff
	expo.MaxInterval = c.cfg.MaxBackoff
	refreshed := false
	attempt := 0
	op := func() (*PostResult, error) {
		attempt++
		if err := c.acquire(ctx); err != nil {
			return nil, backoff.Permanent(err)
		}
		defer func() { <-c.sem }()
		return c.postOnce(ctx, tokens, u, req.Body, &refreshed)
	}
	notify := func(err error, wait time.Duration) {
		c.retries.Add(1)
		c.logFailure(slog.LevelWarn, "Graph action refused before it ran; retrying", err, "attempt", attempt, "wait", wait.Round(time.Millisecond))
	}
	res, err := backoff.Retry(ctx, op, backoff.WithBackOff(expo), backoff.WithMaxTries(c.cfg.MaxTries),
		backoff.WithMaxElapsedTime(c.cfg.MaxRetryTime), backoff.WithNotify(notify))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.logFailure(slog.LevelWarn, "Graph action failed", err, "attempts", attempt)
		return nil, err
	}
	return res, nil
}

func (c *Client) postOnce(ctx context.Context, tokens TokenSource, u string, body []byte, refreshed *bool) (*PostResult, error) {
	token, err := tokens.Token(ctx)
	if err != nil {
		return nil, backoff.Permanent(err) // a refused exchange will be refused again
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, re, err := c.newRequest(actx, http.MethodPost, u, bytes.NewReader(body), token)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		re.Err = err
		if ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, re // nothing was sent
		}
		return nil, backoff.Permanent(re)
	}
	defer resp.Body.Close()
	re.Status = resp.StatusCode
	re.RequestID = resp.Header.Get("request-id")
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return &PostResult{Status: resp.StatusCode, ClientRequestID: re.ClientRequestID, RequestID: re.RequestID}, nil
	}
	if err := c.failed(resp, answer, re, tokens, token, refreshed); err != nil {
		return nil, err
	}
	return nil, backoff.Permanent(re) // anything else may have run, or will fail the same again
}
