// Package web serves the GraphiQL page at / with its scripts and styles from the gateway itself, so
// it works behind a proxy with no CDN. The bundles are fetched from npm by `go generate ./web` into
// dist/ (gitignored) and embedded at build time; without them the page loads the same files from
// jsDelivr (pinned, with Subresource Integrity), and says how to build them in when that fails too.
// SecurityHeaders gives every response of the gateway its browser-facing security headers.
package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:generate go run fetch.go

// dist always holds the committed README.md, so the embed compiles before `go generate` ran.
//
//go:embed dist
var dist embed.FS

// page holds the page's own script and styles (committed: our code, not a bundle).
//
//go:embed page
var pageFiles embed.FS

// AssetsPath is the URL prefix the bundles are served under; file names carry their version, so
// they can be cached for good.
const AssetsPath = "/assets/"

// Asset is one file of the GraphiQL page: where npm puts it, the SRI hash the page requires, and
// the same file on jsDelivr (TestCDNMatchesPackageJSON keeps its version that of package.json).
type Asset struct {
	Name   string // file name in dist/ and under AssetsPath
	Source string // path below web/node_modules
	SRI    string // Subresource Integrity value
	CDN    string // the same bytes on jsDelivr, which serves npm's files as published
}

// Assets are the files the page loads, scripts in the order they run. The first five are
// byte-identical to the files gqlgen's playground loads from jsDelivr (same hashes;
// TestAssetHashesMatchGqlgen keeps them in step). The explorer's stylesheet is npm's unminified
// style.css: jsDelivr's style.min.css, which gqlgen pins, is minified by the CDN on the fly and
// exists in no npm package.
var Assets = []Asset{
	{"react-18.2.0.production.min.js", "react/umd/react.production.min.js", "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		"https://cdn.jsdelivr.net/npm/react@18.2.0/umd/react.production.min.js"},
	{"react-dom-18.2.0.production.min.js", "react-dom/umd/react-dom.production.min.js", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
		"https://cdn.jsdelivr.net/npm/react-dom@18.2.0/umd/react-dom.production.min.js"},
	{"graphiql-4.1.2.min.js", "graphiql/graphiql.min.js", "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.js"},
	{"graphiql-4.1.2.min.css", "graphiql/graphiql.min.css", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.css"},
	{"plugin-explorer-4.0.6.umd.js", "@graphiql/plugin-explorer/dist/index.umd.js", "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=",
		"https://cdn.jsdelivr.net/npm/@graphiql/plugin-explorer@4.0.6/dist/index.umd.js"},
	{"plugin-explorer-4.0.6.css", "@graphiql/plugin-explorer/dist/style.css", "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE=",
		"https://cdn.jsdelivr.net/npm/@graphiql/plugin-explorer@4.0.6/dist/style.css"},
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

func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a valid, embedded path
	}
	return s
}

func embedded() fs.FS { return sub(dist, "dist") }

// ownFiles are the page's own script and style, served beside the bundles.
func ownFiles() map[string][]byte {
	files := map[string][]byte{}
	for _, name := range []string{"graphiql.js", "graphiql.css"} {
		b, err := fs.ReadFile(pageFiles, "page/"+name)
		if err != nil {
			panic(err) // embedded above
		}
		files["lcw-"+name] = b
	}
	return files
}

// AssetsBuiltIn tells whether this binary serves GraphiQL's bundles itself; without them the
// page loads them from jsDelivr (the serve command logs that once at start).
func AssetsBuiltIn() bool {
	_, problems := loadAssets(embedded(), Assets)
	return len(problems) == 0
}

// GraphiQLHandler serves GraphiQL for the GraphQL endpoint, loading everything from AssetsPath.
// Without the bundles, and with `?cdn`, it loads them from jsDelivr and shows how to build them
// in when that fails.
func GraphiQLHandler(endpoint string) http.Handler {
	return graphiQLHandler(embedded(), Assets, endpoint)
}

// tag is one script or stylesheet of the page.
type tag struct {
	URL string
	SRI string
}

type pageData struct {
	Endpoint string
	Scripts  []tag
	Styles   []tag
	Nonce    string
	CDN      bool     // the bundles come from jsDelivr
	BuiltIn  bool     // the gateway serves the bundles itself
	Problems []string // why it does not
}

// graphiQLHandler takes the files and their list so tests need not fetch the real bundles.
func graphiQLHandler(fsys fs.FS, assets []Asset, endpoint string) http.Handler {
	_, problems := loadAssets(fsys, assets)
	own := ownFiles()
	build := func(cdn bool) (pageData, string) {
		d := pageData{Endpoint: endpoint, CDN: cdn, BuiltIn: len(problems) == 0, Problems: problems}
		var scripts, styles []string
		for _, a := range assets {
			t := tag{URL: AssetsPath + a.Name, SRI: a.SRI}
			if cdn {
				t.URL = a.CDN
			}
			if strings.HasSuffix(a.Name, ".css") {
				d.Styles, styles = append(d.Styles, t), append(styles, t.URL)
			} else {
				d.Scripts, scripts = append(d.Scripts, t), append(scripts, t.URL)
			}
		}
		d.Styles = append(d.Styles, tag{URL: AssetsPath + "lcw-graphiql.css", SRI: SRI(own["lcw-graphiql.css"])})
		d.Scripts = append(d.Scripts, tag{URL: AssetsPath + "lcw-graphiql.js", SRI: SRI(own["lcw-graphiql.js"])})
		if !cdn {
			scripts, styles = nil, nil // 'self' covers them
		}
		return d, graphiQLPolicy(scripts, styles)
	}
	local, localPolicy := build(false)
	remote, remotePolicy := build(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, policy := local, localPolicy
		if len(problems) > 0 || r.URL.Query().Has("cdn") {
			d, policy = remote, remotePolicy
		}
		d.Nonce = nonce()
		var body bytes.Buffer
		if err := pageTemplate.Execute(&body, d); err != nil {
			panic(err) // the template and its data are fixed
		}
		h := w.Header()
		h.Set("Content-Security-Policy", strings.ReplaceAll(policy, "{nonce}", d.Nonce))
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store") // a fresh nonce each time
		_, _ = w.Write(body.Bytes())
	})
}

// graphiQLPolicy is the page's Content-Security-Policy: scripts and styles from the gateway (and
// the exact jsDelivr files, for the CDN page), requests to the gateway only, nothing inline but
// the <style> elements GraphiQL's dialogs add with the page's nonce, no eval, no framing.
func graphiQLPolicy(cdnScripts, cdnStyles []string) string {
	sources := func(fixed []string, cdn []string) string { return strings.Join(append(fixed, cdn...), " ") }
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + sources([]string{"'self'"}, cdnScripts),
		"style-src " + sources([]string{"'self'", "'nonce-{nonce}'"}, cdnStyles),
		"img-src 'self' data:",
		"font-src 'self' data:", // GraphiQL's fonts are data: URLs in its stylesheet
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AssetsHandler serves the embedded bundles and the page's own files below AssetsPath; it lists
// nothing and serves only those files.
func AssetsHandler() http.Handler {
	return assetsHandler(embedded(), Assets)
}

func assetsHandler(fsys fs.FS, assets []Asset) http.Handler {
	files, _ := loadAssets(fsys, assets)
	own := ownFiles()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, AssetsPath)
		b, ok := files[name]
		switch {
		case ok:
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		case own[name] != nil:
			// Unversioned names: the browser checks back, the page's SRI catches a stale copy.
			b = own[name]
			w.Header().Set("Cache-Control", "no-cache")
		default:
			http.NotFound(w, r)
			return
		}
		// ServeContent sets Content-Type from the extension and handles HEAD and ranges.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// The page: bundles (local or jsDelivr, each with its SRI hash), then our script, which renders
// GraphiQL or, when the bundles did not load, reveals the instructions.
var pageTemplate = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lcw-gateway</title>
<link rel="icon" href="data:,">
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.SRI}}" crossorigin="anonymous">
{{- end}}
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}"><div class="loading">Loading…</div></div>
<div id="graphiql-unavailable" class="unavailable" hidden>
<h1>GraphiQL could not load</h1>
{{- if not .CDN}}
<p>This gateway serves GraphiQL's files itself, but this browser could not load them; the
browser's console says why. The GraphQL endpoint is at <code>{{.Endpoint}}</code>.</p>
{{- else if .BuiltIn}}
<p>This page loads GraphiQL from cdn.jsdelivr.net, which this browser cannot reach (or which
served other files than the pinned ones). <a href="./">Open GraphiQL without the CDN</a>: this
gateway serves its files itself.</p>
{{- else}}
<p>This gateway was built without GraphiQL's offline assets, so this page loads them from
cdn.jsdelivr.net, which this browser cannot reach (or which served other files than the pinned
ones). The GraphQL endpoint works; only this page is affected. To build the assets in (needs
Node.js and npm; fetches from the npm registry):</p>
<pre>go generate ./web
go run .</pre>
<p>Details:</p>
<ul>{{range .Problems}}<li><code>{{.}}</code></li>{{end}}</ul>
{{- end}}
</div>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.SRI}}" crossorigin="anonymous" nonce="{{$.Nonce}}"></script>
{{- end}}
</body>
</html>
`))

// The values of the security headers, shared by every response rather than allocated for each
// (net/http only reads them; a handler's Set replaces them, its Add copies them).
var (
	apiCSP     = []string{"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}
	noSniff    = []string{"nosniff"}
	noReferrer = []string{"no-referrer"}
	deny       = []string{"DENY"}
)

// SecurityHeaders sets the headers every response of the gateway carries: no MIME sniffing, no
// referrer, no framing, and a Content-Security-Policy that lets nothing load or run; handlers
// that serve a page that needs more (GraphiQL) set their own policy over it. It wraps the whole
// mux, so error pages (404, 405, ...) get them too.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = apiCSP
		h["X-Content-Type-Options"] = noSniff
		h["Referrer-Policy"] = noReferrer
		h["X-Frame-Options"] = deny // frame-ancestors for browsers that predate CSP 2
		next.ServeHTTP(w, r)
	})
}
