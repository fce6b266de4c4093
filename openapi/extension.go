package openapi

import (
	"fmt"
	"html"
	"net/http"
	"strconv"

	"github.com/graftgo/graft"
)

// Ext is the OpenAPI extension: register it on the app (or a group) before
// routes, and it serves, under the scope's prefix:
//
//	/openapi.json      the OpenAPI 3.1 document
//	/openapi.yaml      the same document in YAML
//	/openapi-3.0.json  the document rendered as OpenAPI 3.0.3
//	/asyncapi.json     the AsyncAPI 3.0 document of the WebSocket routes
//	/asyncapi.yaml     the same in YAML
//	/docs              Swagger UI on the 3.1 document, from embedded files
//
// The documents describe the typed endpoints of the scope; they are built
// once, after start-up assembled every endpoint (plugins applied), so what
// plugins add to signatures is in them. Serving one is a copy of bytes
// built then.
type Ext struct {
	info Info
	// docs is false when the docs page is switched off (WithoutDocs).
	docs bool

	json31, yaml31, json30 served
	async, asyncYAML       served
	page                   served
	built                  bool
}

// served is one precomputed answer: its body and header values.
type served struct {
	body  []byte
	ctype []string
	clen  []string
}

func newServed(body []byte, ctype string) served {
	return served{body: body, ctype: []string{ctype}, clen: []string{strconv.Itoa(len(body))}}
}

// write answers with s; it allocates nothing beyond what net/http does.
func (s *served) write(c *graft.Ctx) error {
	w := c.Response()
	h := w.Header()
	h["Content-Type"] = s.ctype
	h["Content-Length"] = s.clen
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(s.body)
	return err
}

// Extension returns the OpenAPI extension for an API described by info.
//
//	app.Register(openapi.Extension(openapi.Info{Title: "Users", Version: "1.0.0"}))
func Extension(info Info) *Ext { return &Ext{info: info, docs: true} }

// WithoutDocs switches the /docs page off; the documents are still served.
func (e *Ext) WithoutDocs() *Ext { e.docs = false; return e }

// ID implements graft.Extension.
func (e *Ext) ID() string { return "graft.openapi" }

// Extend implements graft.Extension: it adds the routes and builds the
// documents once every route is assembled.
func (e *Ext) Extend(b *graft.Builder) error {
	if e.info.Title == "" || e.info.Version == "" {
		return fmt.Errorf("openapi.Info needs a Title and a Version, e.g. openapi.Extension(openapi.Info{Title: %q, Version: %q})", "My API", "1.0.0")
	}
	prefix := b.Scope()
	b.Handle(http.MethodGet, "/openapi.json", e.json31.write)
	b.Handle(http.MethodGet, "/openapi.yaml", e.yaml31.write)
	b.Handle(http.MethodGet, "/openapi-3.0.json", e.json30.write)
	b.Handle(http.MethodGet, "/asyncapi.json", e.async.write)
	b.Handle(http.MethodGet, "/asyncapi.yaml", e.asyncYAML.write)
	if e.docs {
		e.page = newServed(docsPage(e.info.Title, prefix), "text/html; charset=utf-8")
		b.Handle(http.MethodGet, "/docs", e.page.write)
		b.Handle(http.MethodGet, "/docs/{file}", serveAsset)
	}
	b.OnAssembled(func(routes []*graft.Route) error {
		reg := newRegistry()
		doc, err := build(reg, e.info, prefix, routes)
		if err != nil {
			return err
		}
		adoc, err := buildAsync(reg, e.info, prefix, routes)
		if err != nil {
			return err
		}
		reg.nameTypes()
		doc, adoc = finish(doc, reg), finish(adoc, reg)
		asyncSchemas(adoc)
		aj, err := writeJSON(adoc)
		if err != nil {
			return err
		}
		ay, err := writeYAML(adoc)
		if err != nil {
			return err
		}
		e.async = newServed(aj, "application/json")
		e.asyncYAML = newServed(ay, "application/yaml")
		j, err := writeJSON(doc)
		if err != nil {
			return err
		}
		y, err := writeYAML(doc)
		if err != nil {
			return err
		}
		j30, err := writeJSON(downgrade(doc))
		if err != nil {
			return err
		}
		e.json31 = newServed(j, "application/json")
		e.yaml31 = newServed(y, "application/yaml")
		e.json30 = newServed(j30, "application/json")
		e.built = true
		return nil
	})
	return nil
}

// JSON returns the OpenAPI 3.1 document, nil before the app started.
func (e *Ext) JSON() []byte { return e.json31.body }

// YAML returns the OpenAPI 3.1 document in YAML, nil before the app
// started.
func (e *Ext) YAML() []byte { return e.yaml31.body }

// JSON30 returns the document rendered as OpenAPI 3.0.3, nil before the
// app started.
func (e *Ext) JSON30() []byte { return e.json30.body }

// AsyncAPI returns the AsyncAPI 3.0 document of the scope's WebSocket
// routes, nil before the app started.
func (e *Ext) AsyncAPI() []byte { return e.async.body }

// AsyncAPIYAML returns the AsyncAPI document in YAML, nil before the app
// started.
func (e *Ext) AsyncAPIYAML() []byte { return e.asyncYAML.body }

// docsPage is the HTML of the docs page. Its script is a file of its own,
// so that a Content-Security-Policy of script-src 'self' allows it.
func docsPage(title, prefix string) []byte {
	t := html.EscapeString(title)
	p := html.EscapeString(prefix)
	return []byte(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + t + ` – API docs</title>
<link rel="stylesheet" href="` + p + `/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="` + p + `/docs/swagger-ui-bundle.js"></script>
<script src="` + p + `/docs/init.js" data-url="` + p + `/openapi.json"></script>
</body>
</html>
`)
}
