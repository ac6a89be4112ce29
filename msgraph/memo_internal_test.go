package msgraph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"lcw-gateway/msgraph/msgraphtest"
)

// A page's digest covers its bytes, where it was listed and memoFormat, not the conversions that
// turn it into rows: a gateway whose conversions changed would trust pages remembered by the
// old one. This pins what the conversions make of the fixture folders' results, user processing
// results and their inline tasks and subjects; a change fails here until memoFormat is bumped
// (voiding every memo) and the new digest pinned beside it.
func TestMemoFormatCoversConversions(t *testing.T) {
	pinned := map[string]string{
		"lcw-import-memo/1": "0d04c9f54f65b77906b86348bd6ccd1ac83345da2dfaccde0f1fa6733f98a71c",
	}
	h := sha256.New()
	seen := map[string]int{}
	for _, dir := range []string{msgraphtest.DocsExample(t), msgraphtest.HistoryExample(t)} {
		rec := &recorder{}
		if _, err := Walk(context.Background(), DirSource{Dir: dir}, rec); err != nil {
			t.Fatal(err)
		}
		// "" holds the user processing results (recorder names only the older entities).
		for _, name := range []string{"results", "", "tasks", "subjects"} {
			seen[name] += len(rec.rows[name])
			b, err := json.Marshal(rec.rows[name])
			if err != nil {
				t.Fatal(err)
			}
			h.Write(b)
		}
	}
	for _, name := range []string{"results", "", "tasks", "subjects"} {
		if seen[name] == 0 {
			t.Fatalf("the fixtures gave no %q rows", name)
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); pinned[memoFormat] != got {
		t.Errorf("the conversions of results changed (digest %s): bump memoFormat in memo.go and pin the new digest here", got)
	}
}
