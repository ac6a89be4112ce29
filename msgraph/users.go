package msgraph

import (
	"context"
	"errors"

	"lcw-gateway/db"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// userFields are the properties of a user the gateway keeps.
const userFields = "id,displayName,userPrincipalName,mail"

// usersPerRequest is how many ids Graph takes in one `id in (...)` filter.
const usersPerRequest = 15

// usersByID fetches the users with these ids that this walk has not asked for yet, a batch of ids
// a request. A user Graph does not return (deleted since) keeps just its id. Without permission
// to read users the walk goes on: the names stay unknown.
func (w *walker) usersByID(ctx context.Context, ids []string) error {
	w.mu.Lock()
	var todo []string
	for _, id := range ids {
		if !w.fetched[id] && !w.denied {
			w.fetched[id] = true
			todo = append(todo, id)
		}
	}
	w.mu.Unlock()
	for batch := range slices.Chunk(todo, usersPerRequest) {
		quoted := make([]string, len(batch))
		for i, id := range batch {
			quoted[i] = odataString(id)
		}
		req := Request{Path: users, Query: url.Values{
			"$filter": {"id in (" + strings.Join(quoted, ",") + ")"},
			"$select": {userFields},
		}}
		err := w.each(ctx, req, true, func(ctx context.Context, p *Page) error { return w.upsertUserPage(ctx, p) })
		var re *RequestError
		if errors.As(err, &re) && re.Status == http.StatusForbidden {
			w.mu.Lock()
			first := !w.denied
			w.denied = true
			w.mu.Unlock()
			if first {
				w.opts.Logger.Warn("Graph refused to list users: subjects are stored by id, without names (grant User.Read.All)", "error", err.Error())
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) upsertUserPage(ctx context.Context, p *Page) error {
	rows, err := decode(p, func(_ int, r *wireUser) (db.User, error) { return r.model() })
	if err != nil {
		return err
	}
	w.mu.Lock()
	for _, u := range rows {
		w.users[u.ID] = true
	}
	w.mu.Unlock()
	w.count("users", len(rows), func(*Stats) {})
	return w.write(ctx, db.Batch{Users: rows})
}
