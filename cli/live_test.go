package cli

import (
	"testing"

	"lcw-gateway/live"
)

// serve's subscription flags default to live.DefaultConfig, which servers built without the
// command line (server.New) use.
func TestServeLiveDefaults(t *testing.T) {
	var c commandLine
	p, err := parser(&c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	if c.Serve.Live != live.DefaultConfig() {
		t.Errorf("serve's defaults %+v, live.DefaultConfig() %+v", c.Serve.Live, live.DefaultConfig())
	}
}
