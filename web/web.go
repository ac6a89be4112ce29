// Package web serves the GraphiQL page at / with its scripts and styles from the gateway itself, so
// it works behind a proxy with no CDN. The bundles are fetched from npm by `go generate ./web` into
// dist/ (gitignored) and embedded at build time; without them the page says how to get them.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
)

//go:generate go run fetch.go

// dist always holds the committed README.md, so the embed compiles before `go generate` ran.
//
//go:embed dist
var dist embed.FS

// AssetsPath is the URL prefix the bundles are served under; file names carry their version, so
// they can be cached for good.
const AssetsPath = "/assets/"

// Asset is one file of the GraphiQL page: where npm puts it and the SRI hash the page requires.
type Asset struct {
	Name   string // file name in dist/ and under AssetsPath
	Source string // path below web/node_modules
	SRI    string // Subresource Integrity value
}

// Assets are the files the page loads. The first five are byte-identical to the files gqlgen's
// playground loads from jsDelivr (same hashes; TestAssetHashesMatchGqlgen keeps them in step).
// The explorer's stylesheet is npm's unminified style.css: jsDelivr's style.min.css, which gqlgen
// pins, is minified by the CDN on the fly and exists in no npm package.
var Assets = []Asset{
	{"react-18.2.0.production.min.js", "react/umd/react.production.min.js", "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="},
	{"react-dom-18.2.0.production.min.js", "react-dom/umd/react-dom.production.min.js", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="},
	{"graphiql-4.1.2.min.js", "graphiql/graphiql.min.js", "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="},
	{"graphiql-4.1.2.min.css", "graphiql/graphiql.min.css", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="},
	{"plugin-explorer-4.0.6.umd.js", "@graphiql/plugin-explorer/dist/index.umd.js", "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs="},
	{"plugin-explorer-4.0.6.css", "@graphiql/plugin-explorer/dist/style.css", "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE="},
}

// SRI is the Subresource Integrity value of b.
func SRI(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// loadAssets reads the embedded bundles; problems lists what is missing or does not match its hash.
func loadAssets(fsys fs.FS, assets []Asset) (files map[string][]byte, problems []string) {
	files = map[string][]byte{}
	for _, a := range assets {
		b, err := fs.ReadFile(fsys, a.Name)
		switch {
		case err != nil:
			problems = append(problems, a.Name+": not fetched")
		case SRI(b) != a.SRI:
			problems = append(problems, a.Name+": content does not match "+a.SRI)
		default:
			files[a.Name] = b
		}
	}
	return files, problems
}

func embedded() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid, embedded path
	}
	return sub
}

// GraphiQLHandler serves GraphiQL for the GraphQL endpoint, loading everything from AssetsPath.
// Without the bundles it serves a page that says how to fetch them, and `?cdn` serves gqlgen's
// CDN-based page for those who can reach jsDelivr.
func GraphiQLHandler(endpoint string) http.Handler {
	return graphiQLHandler(embedded(), Assets, endpoint)
}

// graphiQLHandler takes the files and their list so tests need not fetch the real bundles.
func graphiQLHandler(fsys fs.FS, assets []Asset, endpoint string) http.Handler {
	const title = "lcw-gateway"
	cdn := playground.Handler(title, endpoint)
	_, problems := loadAssets(fsys, assets)
	if len(problems) > 0 {
		var page bytes.Buffer
		if err := missingPage.Execute(&page, problems); err != nil {
			panic(err) // the template and its data are fixed
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("cdn") {
				cdn.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page.Bytes())
		})
	}
	url := func(i int) string { return AssetsPath + assets[i].Name }
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlReactVersion(url(0), url(1), assets[0].SRI, assets[1].SRI),
		playground.WithGraphiqlVersion(url(2), url(3), assets[2].SRI, assets[3].SRI),
		playground.WithGraphiqlPluginExplorerVersion(url(4), url(5), assets[4].SRI, assets[5].SRI),
		playground.WithGraphiqlEnablePluginExplorer(true),
	)
}

// AssetsHandler serves the embedded bundles below AssetsPath; it lists nothing and serves only the
// files in Assets.
func AssetsHandler() http.Handler {
	return assetsHandler(embedded(), Assets)
}

func assetsHandler(fsys fs.FS, assets []Asset) http.Handler {
	files, _ := loadAssets(fsys, assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, AssetsPath)
		b, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		// ServeContent sets Content-Type from the extension and handles HEAD and ranges.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

var missingPage = template.Must(template.New("missing").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>lcw-gateway: GraphiQL assets not built in</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem}</style></head>
<body>
<h1>GraphiQL's offline assets are not built in</h1>
<p>This gateway was built without the GraphiQL bundles it serves itself. The GraphQL endpoint works;
only this page is affected. To build them in (needs Node.js and npm; fetches from the npm registry):</p>
<pre>go generate ./web
go run .</pre>
<p>Or, if this browser can reach cdn.jsdelivr.net, <a href="?cdn">open GraphiQL from the CDN</a>.</p>
<p>Details:</p>
<ul>{{range .}}<li><code>{{.}}</code></li>{{end}}</ul>
</body>
</html>
`))
