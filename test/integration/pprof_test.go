package integration_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
)

// --pprof-addr serves Go's profiler on a loopback listener of its own, never on the main one,
// and refuses any other address.
func TestPprofListener(t *testing.T) {
	logs := &lockedBuffer{}
	h := startServe(t, logs, "--db", dbtest.SQLiteDSN(t), "--seed", "none", "--pprof-addr", "127.0.0.1:0")
	serving := regexp.MustCompile(`msg="serving the profiler" url=(\S+)`)
	var m []string
	eventually(t, func() bool { m = serving.FindStringSubmatch(logs.String()); return m != nil })
	res, err := http.Get(m[1] + "cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "test") {
		t.Errorf("GET %scmdline: %d %q", m[1], res.StatusCode, body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	if rec.Code == http.StatusOK {
		t.Errorf("the main listener serves /debug/pprof/")
	}

	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060"} {
		err := runCLI(t, context.Background(), io.Discard, "serve", "--db", dbtest.SQLiteDSN(t), "--seed", "none",
			"--addr", "127.0.0.1:0", "--pprof-addr", addr)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--pprof-addr %s: %v, want a refusal that asks for a loopback address", addr, err)
		}
	}
}
