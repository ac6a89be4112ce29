package web

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
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
		assets = append(assets, Asset{Name: a.Name, Source: a.Source, SRI: SRI(content)})
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
		t.Errorf("?cdn does not serve gqlgen's CDN page")
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
}
