// Package auth has graft's API-key and HTTP basic authentication plugins,
// built on graft's public plugin API only. (JWT bearer tokens are in the
// nested module github.com/graftgo/graft/plugins/auth/jwt.)
//
// Each plugin guards the typed endpoints whose input has a plugin field of
// the identity type T it was made for, and fills that field with the
// identity of the caller:
//
//	type Client struct{ Name string }
//
//	type ReportIn struct {
//		Client *Client `plugin:""`
//	}
//
//	app.UsePlugins(auth.APIKey(auth.APIKeyConfig[*Client]{
//		Keys: []auth.Key[*Client]{{Key: os.Getenv("PARTNER_KEY"), Value: &Client{Name: "partner"}}},
//	}))
//
// On such an endpoint a request without the credential is answered 401
// problem+json with WWW-Authenticate in the pre-bind phase, before the
// body is read; a wrong credential is a 401 from the decoder of the param
// the plugin owns (graft.PluginField.Bind), also before the body. Keys,
// user names and passwords are compared in constant time over every
// configured entry. The plugin adds its param, its security scheme and
// the 401 outcome to the signature, so the OpenAPI document shows them.
// Endpoints without the field are returned unchanged, at no cost.
package auth
