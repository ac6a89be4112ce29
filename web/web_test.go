package web

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/99designs/gqlgen/graphql/playground"
)

// fakeAssets mirrors Assets with small contents, so the handlers are tested without npm.
func fakeAssets() ([]Asset, fstest.MapFS) {
	fsys := fstest.MapFS{}
	var assets []Asset
	for i, a := range Assets {
		content := []byte(fmt.Sprintf("/* asset %d */", i))
		fsys[a.Name] = &fstest.MapFile{Data: content}
		assets = append(assets, Asset{Name: a.Name, Source: a.Source, SRI: SRI(content), CDN: a.CDN})
	}
	return assets, fsys
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	// html/template escapes "+" in attributes; the browser reads them unescaped.
	return res, html.UnescapeString(string(body))
}

// When gqlgen moves to other GraphiQL or React versions, this fails: update package.json, its lock
// and Assets together, so the offline page keeps loading what gqlgen's code expects.
func TestAssetHashesMatchGqlgen(t *testing.T) {
	_, page := get(t, playground.Handler("x", "/graphql", playground.WithGraphiqlEnablePluginExplorer(true)), "/")
	for _, a := range Assets[:5] {
		if !strings.Contains(page, `integrity="`+a.SRI+`"`) {
			t.Errorf("gqlgen's playground no longer pins %s (%s)", a.Source, a.SRI)
		}
	}
}

func TestGraphiQLPageLoadsOnlyLocalAssets(t *testing.T) {
	assets, fsys := fakeAssets()
	res, page := get(t, graphiQLHandler(fsys, assets, "/graphql"), "/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, a := range assets {
		if !strings.Contains(page, `="`+AssetsPath+a.Name+`"`) || !strings.Contains(page, `integrity="`+a.SRI+`"`) {
			t.Errorf("page does not load %s with its hash", a.Name)
		}
	}
	for _, outside := range []string{`src="http`, `href="http`, "jsdelivr"} {
		if strings.Contains(page, outside) {
			t.Errorf("page refers to another host: %q", outside)
		}
	}
}

func TestAssetsHandler(t *testing.T) {
	assets, fsys := fakeAssets()
	h := assetsHandler(fsys, assets)
	for i, a := range assets {
		res, body := get(t, h, AssetsPath+a.Name)
		if res.StatusCode != http.StatusOK || body != string(fsys[a.Name].Data) {
			t.Errorf("%s: status %d, body %q", a.Name, res.StatusCode, body)
		}
		want := "text/css"
		if strings.HasSuffix(a.Name, ".js") {
			want = "text/javascript"
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s: Content-Type %q, want %s (asset %d)", a.Name, ct, want, i)
		}
	}
	fsys["README.md"] = &fstest.MapFile{Data: []byte("placeholder")}
	for _, path := range []string{AssetsPath, AssetsPath + "README.md", AssetsPath + "../web.go"} {
		if res, _ := get(t, h, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
}

func TestGraphiQLWithoutAssetsSaysHowToGetThem(t *testing.T) {
	assets, fsys := fakeAssets()
	delete(fsys, assets[2].Name)
	fsys[assets[3].Name] = &fstest.MapFile{Data: []byte("changed")}
	h := graphiQLHandler(fsys, assets, "/graphql")

	res, page := get(t, h, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{"go generate ./web", assets[2].Name + ": not fetched", assets[3].Name + ": content does not match"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if _, page := get(t, h, "/?cdn"); !strings.Contains(page, "cdn.jsdelivr.net/npm/graphiql@4.1.2/") {
		t.Errorf("?cdn does not serve the CDN page")
	}
	// Without the bundles, / itself loads them from jsDelivr, each with its hash, and the policy
	// allows exactly those files.
	res, page = get(t, h, "/")
	policy := res.Header.Get("Content-Security-Policy")
	for _, a := range assets {
		if !strings.Contains(page, `src="`+a.CDN+`" integrity="`+a.SRI+`"`) && !strings.Contains(page, `href="`+a.CDN+`" integrity="`+a.SRI+`"`) {
			t.Errorf("page does not load %s with its hash", a.CDN)
		}
		if !strings.Contains(policy, " "+a.CDN) {
			t.Errorf("policy does not allow %s: %s", a.CDN, policy)
		}
	}
	if strings.Contains(policy, "https://cdn.jsdelivr.net ") || strings.Contains(policy, "https://cdn.jsdelivr.net;") {
		t.Errorf("policy allows the whole CDN host, not the pinned files: %s", policy)
	}
}

// The jsDelivr copies are the npm files of the versions web/package.json pins.
func TestCDNMatchesPackageJSON(t *testing.T) {
	raw, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	for _, a := range Assets {
		name, file := a.Source, ""
		parts := strings.SplitN(a.Source, "/", 3)
		if strings.HasPrefix(a.Source, "@") {
			name, file = parts[0]+"/"+parts[1], parts[2]
		} else {
			name, file = parts[0], strings.Join(parts[1:], "/")
		}
		version, ok := pkg.Dependencies[name]
		if !ok {
			t.Errorf("%s: package.json does not pin %s", a.Name, name)
			continue
		}
		if want := "https://cdn.jsdelivr.net/npm/" + name + "@" + version + "/" + file; a.CDN != want {
			t.Errorf("%s: CDN %s, want %s", a.Name, a.CDN, want)
		}
	}
}

var nonceAttr = regexp.MustCompile(`nonce="([^"]+)"`)

// The page's policy lets only the gateway's files (or the pinned CDN files) run, nothing inline
// and no eval, and it cannot be framed; the nonce that admits GraphiQL's own <style> elements is
// new on every request and is the one the page's script carries.
func TestGraphiQLContentSecurityPolicy(t *testing.T) {
	assets, fsys := fakeAssets()
	h := graphiQLHandler(fsys, assets, "/graphql")
	var nonces []string
	for range 2 {
		res, page := get(t, h, "/")
		policy := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(policy, want) {
				t.Errorf("policy lacks %q: %s", want, policy)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
			if strings.Contains(policy, bad) {
				t.Errorf("policy allows %q: %s", bad, policy)
			}
		}
		m := nonceAttr.FindStringSubmatch(page)
		if m == nil || !strings.Contains(policy, "style-src 'self' 'nonce-"+m[1]+"'") {
			t.Fatalf("page's nonce %v is not the policy's: %s", m, policy)
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
			t.Errorf("page has inline script")
		}
		nonces = append(nonces, m[1])
	}
	if nonces[0] == nonces[1] {
		t.Errorf("the nonce did not change between requests: %s", nonces[0])
	}
}

// The page's own script and stylesheet are served with the hashes the page requires.
func TestPageFilesServedWithTheirHashes(t *testing.T) {
	assets, fsys := fakeAssets()
	_, page := get(t, graphiQLHandler(fsys, assets, "/graphql"), "/")
	for name, content := range ownFiles() {
		res, body := get(t, assetsHandler(fsys, assets), AssetsPath+name)
		if res.StatusCode != http.StatusOK || body != string(content) {
			t.Errorf("%s: status %d", name, res.StatusCode)
		}
		if !strings.Contains(page, `="`+AssetsPath+name+`" integrity="`+SRI(content)+`"`) {
			t.Errorf("page does not load %s with its hash", name)
		}
	}
}

// Every response through SecurityHeaders carries the headers, error pages included; GraphiQL's
// page keeps its own policy. Through a real listener, as a browser sees them.
func TestSecurityHeaders(t *testing.T) {
	assets, fsys := fakeAssets()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graphiQLHandler(fsys, assets, "/graphql"))
	mux.Handle("GET "+AssetsPath, assetsHandler(fsys, assets))
	mux.HandleFunc("GET /fails", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(SecurityHeaders(mux))
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 200}, {"GET", "/nowhere", 404}, {"GET", AssetsPath + "missing.js", 404},
		{"GET", AssetsPath + assets[0].Name, 200}, {"DELETE", "/", 405}, {"GET", "/fails", 500},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
		for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, header, got, want)
			}
		}
		policy := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(policy, "frame-ancestors 'none'") {
			t.Errorf("%s %s: policy %q lacks frame-ancestors 'none'", c.method, c.path, policy)
		}
		if isPage := c.path == "/" && c.status == 200; isPage != strings.Contains(policy, "script-src 'self'") {
			t.Errorf("%s %s: policy %q", c.method, c.path, policy)
		}
	}
}

// The bundles built into this binary, if any, are complete and the ones the page requires.
func TestEmbeddedAssets(t *testing.T) {
	files, problems := loadAssets(embedded(), Assets)
	if len(files) == 0 {
		t.Skip("GraphiQL bundles not fetched (go generate ./web)")
	}
	if len(problems) > 0 {
		t.Errorf("web/dist is incomplete or stale; run go generate ./web: %v", problems)
	}
	if !AssetsBuiltIn() {
		t.Errorf("AssetsBuiltIn is false with every bundle embedded")
	}
}
