// Package msgpack is graft's MessagePack extension: a body encoder and
// decoder for application/msgpack, and a Responder mixin that gives the
// app's context a Msgpack method (socketify's response.msgpack).
//
// Its rules are those of typed endpoints' msgpack bodies (see
// docs/endpoints.md), over github.com/vmihailenco/msgpack/v5: field names
// from json tags (a msgpack tag wins), omitempty honoured when encoding;
// Unmarshal (and so Ctx.Bind) refuses data that is not exactly one
// well-formed value, checks lengths against the data before anything is
// allocated, and names the first value of the wrong type or out of range
// ("body.age must be a non-negative integer, got number -1"); unknown
// fields are skipped. Nothing decoded aliases the request body.
//
//	type Ctx struct {
//		graft.Ctx
//		msgpack.Responder
//	}
//
//	app := graft.NewWithContext[Ctx](graft.Config{})
//	app.Register(msgpack.Extension())
//	app.GET("/user", func(c *Ctx) error { return c.Msgpack(user) })
package msgpack
