package graft

// SecurityScheme describes how clients authenticate, as OpenAPI's
// security scheme object: a plugin that checks credentials adds one to the
// endpoints it guards (Signature.AddSecurity), and the document lists it
// under components.securitySchemes by Name.
type SecurityScheme struct {
	// Name is the scheme's key in the document, e.g. "bearerAuth". Two
	// schemes with one name must be equal; the generator stops start-up
	// otherwise.
	Name string
	// Type is "http", "apiKey", "openIdConnect" or "mutualTLS".
	Type string
	// Scheme is the HTTP authentication scheme of an "http" scheme:
	// "bearer", "basic".
	Scheme string
	// BearerFormat hints at the token format of a bearer scheme ("JWT").
	BearerFormat string
	// In and ParamName say where an "apiKey" scheme's key is: InHeader,
	// InQuery or InCookie, and the header, query or cookie name.
	In        Location
	ParamName string
	// OpenIDConnectURL is the discovery URL of an "openIdConnect" scheme.
	OpenIDConnectURL string
	// Description says how to obtain the credentials.
	Description string
}

// SecurityRequirement is one way to satisfy an endpoint's security: a
// scheme and the scopes it needs. An endpoint with several accepts any
// one of them.
type SecurityRequirement struct {
	Scheme SecurityScheme
	Scopes []string
}

// AddSecurity records that the endpoint accepts requests authenticated by
// scheme (with scopes, for schemes that have them). Plugins call it at
// start-up next to the AddReturn of their 401; adding the same scheme
// twice replaces its scopes.
func (s *Signature) AddSecurity(scheme SecurityScheme, scopes ...string) {
	s.checkOpen("AddSecurity")
	if scheme.Name == "" {
		setupPanic("AddSecurity on %s %s: the security scheme has no Name; name it as the document should (e.g. \"bearerAuth\")", s.Method, s.Route)
	}
	switch scheme.Type {
	case "http", "apiKey", "openIdConnect", "mutualTLS":
	default:
		setupPanic("AddSecurity on %s %s: scheme %s has type %q; use http, apiKey, openIdConnect or mutualTLS", s.Method, s.Route, scheme.Name, scheme.Type)
	}
	for i := range s.Security {
		if s.Security[i].Scheme.Name == scheme.Name {
			s.Security[i] = SecurityRequirement{Scheme: scheme, Scopes: scopes}
			return
		}
	}
	s.Security = append(s.Security, SecurityRequirement{Scheme: scheme, Scopes: scopes})
}
