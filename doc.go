// Package graft is a web framework on top of net/http whose centre is an
// extension model: extensions add typed properties and methods to request
// contexts and WebSocket connections, extension packs contribute to several
// extension points and declare what they require, and endpoint plugins see
// the dependency graph and each endpoint's parsed signature at start-up.
//
// An App is an http.Handler. Its router is a radix tree that matches method
// and path with the wildcard syntax of Go 1.22's ServeMux ({id}, {path...})
// without allocating; each request runs with a pooled Ctx, through
// middleware chains composed once at start-up:
//
//	app := graft.New(graft.Config{})
//	app.GET("/hello/{name}", func(c *graft.Ctx) error {
//		return c.JSON(200, map[string]string{"message": "Hello, " + c.Param("name")})
//	})
//	if err := app.Run(); err != nil { // flags, listen, graceful shutdown
//		log.Fatal(err)
//	}
//
// Handlers return errors; an *HTTPError chooses the status, and the default
// error handler answers RFC 9457 problem+json. Unknown paths answer 404,
// known paths with another method 405 with an Allow header, and a panic in a
// handler 500, logged with the route and stack.
//
// Typed endpoints are registered with generic package functions:
// graft.Get(app, "/users/{id}", h) where h is func(ctx, *In) (*Out, error).
// In's tagged fields (path, query, header, cookie, form, a Body field,
// inject for the app's dependency graph, plugin for plugin-filled values)
// are bound and validated by a plan compiled once per type; a bad request
// is answered 400, 413, 415 or 422 (every failing field) and never reaches
// the handler. Each endpoint has a Signature (SignatureOf) that endpoint
// plugins (Plugin, Plugins, App.UsePlugins) see at start-up, after the
// lifespan hooks, when they wrap the endpoint. See docs/endpoints.md and
// docs/plugins.md.
//
// An app's context type may embed graft.Ctx together with extension mixins
// (types that embed Mixin); their methods become methods of the context
// handed to handlers. See docs/extensions.md for the extension model and
// docs/architecture.md for the request path.
package graft
