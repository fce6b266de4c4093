// Package jwt is graft's bearer-token plugin: it verifies JSON Web Tokens
// (github.com/golang-jwt/jwt/v5) on the typed endpoints whose input asks
// for the claims, and fills them in.
//
//	type MyClaims struct {
//		jwt.RegisteredClaims
//		Admin bool `json:"admin"`
//	}
//
//	type NoteIn struct {
//		Claims *MyClaims `plugin:""`
//	}
//
//	app.UsePlugins(graftjwt.New[MyClaims](graftjwt.Config{
//		Algorithms: []string{"RS256"},
//		Key:        publicKey,
//		Issuer:     "https://id.example.com",
//		Audience:   "notes",
//	}))
//
// On such an endpoint the plugin, with graft's public plugin API only:
//
//   - turns away a request without an "Authorization: Bearer …" header in
//     the pre-bind phase (Signature.PreBind): 401 problem+json with
//     WWW-Authenticate, before the body is read or any provider built;
//   - owns the Authorization header param (graft.PluginField.Bind): its
//     decoder verifies the token, also before the body is read, and a
//     token that fails (bad signature, an algorithm not configured, alg
//     none, HMAC/RSA key confusion, expired, not yet valid, wrong issuer
//     or audience) is a 401 with error="invalid_token" (RFC 6750);
//   - adds the bearerAuth security scheme and the 401 outcome to the
//     signature, so the OpenAPI document shows them.
//
// Endpoints without a claims field are returned unchanged: the plugin costs
// them nothing. The accepted algorithms are pinned by Config.Algorithms and
// must match the key's type; a mismatch stops start-up.
//
// This package is a nested module so that golang-jwt stays out of the core
// module's dependencies.
package jwt
