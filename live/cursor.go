package live

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"lcw-gateway/db"
)

// An event's cursor is its change feed sequence, opaque to clients: a prefix names what it is.
const cursorPrefix = "feed:"

// Cursor is the opaque cursor of the entry seq.
func Cursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// ParseCursor reads an after argument back; a cursor of anything else is BAD_USER_INPUT.
func ParseCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if n, ok := strings.CutPrefix(string(raw), cursorPrefix); ok {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil && seq >= 0 {
				return seq, nil
			}
		}
	}
	return 0, &db.InputError{Argument: "after", Message: "after is not a cursor of a subscription event"}
}

// CheckResumable tells whether the feed still holds every entry after seq: a cursor older than
// the retention window (or from another database) is BAD_USER_INPUT telling the client to query
// the current state again.
func (b *Broker) CheckResumable(ctx context.Context, seq int64) error {
	oldest, err := b.store.OldestChange(ctx)
	if err != nil {
		return err
	}
	latest, err := b.store.LatestChange(ctx)
	if err != nil {
		return err
	}
	switch {
	case seq > latest:
		return &db.InputError{Argument: "after", Message: "after is a cursor this gateway's change feed never gave: query the current state, then subscribe without after"}
	case oldest > 0 && seq < oldest-1:
		return &db.InputError{Argument: "after", Message: "after is older than the change feed's retention (" + b.cfg.Retention.String() +
			"): the changes since are gone; query the current state again, then subscribe without after"}
	}
	return nil
}
