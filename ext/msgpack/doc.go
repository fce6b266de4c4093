// Package msgpack is graft's MessagePack extension: a body encoder and
// decoder for application/msgpack, and a Responder mixin that gives the
// app's context a Msgpack method (socketify's response.msgpack).
//
//	type Ctx struct {
//		graft.Ctx
//		msgpack.Responder
//	}
//
//	app := graft.New[Ctx](graft.Config{})
//	app.Register(msgpack.Extension())
//	app.GET("/user", func(c *Ctx) error { return c.Msgpack(user) })
package msgpack
