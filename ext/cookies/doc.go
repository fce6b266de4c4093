// Package cookies is graft's cookie extension, built on the response-headers
// extension point (webpp's cookies extensie): handlers read request cookies
// and queue changes through the Jar mixin, and the extension writes one
// Set-Cookie header per changed cookie right before the response headers
// are sent, whatever writes the response.
//
//	type Ctx struct {
//		graft.Ctx
//		cookies.Jar
//	}
//
//	app.Register(cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true}))
//	app.GET("/", func(c *Ctx) error {
//		n, _ := strconv.Atoi(c.CookieValue("visits"))
//		c.PutCookie("visits", strconv.Itoa(n+1))
//		...
//	})
package cookies
