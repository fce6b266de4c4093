// Package openapi describes a graft app's typed endpoints as an OpenAPI
// 3.1 document, with a 3.0.3 rendering for the generators that read only
// 3.0, and serves them with a docs page (Swagger UI, embedded: it works
// with no network).
//
// Register the extension before routes:
//
//	app.Register(openapi.Extension(openapi.Info{Title: "Pets", Version: "1.0.0"}))
//
// It serves /openapi.json, /openapi.yaml, /openapi-3.0.json and /docs
// under the scope it was registered on. The documents are built once, when
// start-up has assembled every endpoint, from each endpoint's final
// graft.Signature (plugins applied: the params they bind, the responses
// and security schemes they add) and graft.Operation (graft.Summary,
// graft.Description, graft.Tags, graft.OperationID, graft.Deprecated);
// serving one copies bytes made then.
//
// Schemas come from the Go types as encoding/json encodes them (json tag
// names, omitempty, embedded structs flattened, ",string") and from the
// validation tags the endpoints enforce (required, min, max, minLength,
// maxLength, pattern, enum, format), plus `doc` (a description) and
// `example` (JSON, or the text itself for strings). Pointers to scalars
// are nullable. Each named struct type is one component; names are the Go
// type names, type arguments folded in (Page[User] is PageUser), qualified
// by package only where two types would share one. A document that cannot
// be built (two operations with one id, an example that is not JSON, two
// different security schemes with one name) stops start-up with a message
// naming the endpoint.
//
// It also serves /asyncapi.json (and /asyncapi.yaml), the AsyncAPI 3.0
// document of the scope's WebSocket routes: each ws.Route is a channel
// with its ws binding (the upgrade's query params and headers, from
// Behavior.Handshake), a receive operation for Behavior.Receives and a
// send operation for Behavior.Sends; each Behavior.Topics pattern is a
// channel of its own. Message payloads are Go types whose schemas come
// from the same generator, components shared with the OpenAPI document.
//
// See docs/openapi.md for how to describe operations, outcomes, security
// and examples, how plugins contribute, and the AsyncAPI declarations.
package openapi
