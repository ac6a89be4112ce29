package db

import (
	"errors"
	"testing"
)

// A cursor with a valid checksum still carries only what both engines bind alike: a number past
// the 32-bit columns or text with a NUL byte is refused, not sent to the database.
func TestSealedCursorsAreStillDecodedStrictly(t *testing.T) {
	w, err := newWindow(&TaskReport{}, tableTaskReports, PageArgs{OrderBy: []OrderKey{{Field: "failedUsersCount"}}}, orderByID)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string][]any{
		"past int32":     {int64(1) << 31, "a"},
		"below int32":    {-(int64(1) << 31) - 1, "a"},
		"past int64":     {"x", "a"},
		"NUL in text":    {1, "a\x00b"},
		"too few values": {1},
		"wrong type":     {1, 2},
	} {
		if _, err := w.decodeCursor(sealCursor(w.signature, values)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	big := `[92233720368547758070, "a"]`
	if _, err := w.decodeCursor(sealRaw(w.signature, big)); err == nil {
		t.Error("a number past int64: accepted")
	}
	if _, err := w.decodeCursor(sealCursor(w.signature, []any{1, "a"})); err != nil {
		t.Errorf("a good cursor: %v", err)
	}
	var e errCursor
	if _, err := w.decodeCursor(sealCursor(w.signature, []any{int64(1) << 40, "a"})); !errors.As(err, &e) {
		t.Errorf("err = %v, want our own words", err)
	}
}

func sealRaw(signature, payload string) string {
	return encodeSealed([]byte(payload), signature)
}
