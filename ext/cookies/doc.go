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
//
// # Signed and encrypted cookies
//
// With Options.Keys, PutSigned sets a cookie the client can read but not
// change (HMAC-SHA256) and PutEncrypted one it can neither read nor change
// (AES-256-GCM); both seal the expiry inside the value. SignedCookie and
// EncryptedCookie read them back: a tampered, wrongly keyed, expired or
// malformed cookie reads as absent, and the reason is logged at debug level
// on the app's logger; it is never trusted. The first key seals, every key
// opens, so keys rotate without logging anyone out:
//
//	Keys: [][]byte{newKey, oldKey} // cookies made with oldKey still read
//
// Codec is the same machinery for other packages (ext/sessions' cookie
// store uses it).
package cookies
