package auth

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Credential is an accepted user name and password and the identity they
// stand for.
type Credential[T any] struct {
	User, Password string
	// Value fills the endpoint's plugin field of type T.
	Value T
}

// BasicConfig configures the HTTP basic authentication plugin (RFC 7617).
// Set Credentials or Verify.
type BasicConfig[T any] struct {
	// Credentials are the accepted users; compared in constant time.
	Credentials []Credential[T]
	// Verify, when set instead of Credentials, checks a user and password
	// itself (e.g. against bcrypt hashes) and returns the identity.
	Verify func(user, password string) (T, bool)
	// Realm is the realm of the challenge ("graft" when empty).
	Realm string
	// SchemeName is the security scheme's name in the OpenAPI document
	// ("basicAuth" when empty).
	SchemeName string
	// Tag selects the plugin field by its tag when the input has several
	// of type T.
	Tag string
}

type basic[T any] struct {
	cfg         BasicConfig[T]
	err         error
	users, pass []digest
	challenge   string
	scheme      graft.SecurityScheme
}

// Basic returns the HTTP basic plugin for endpoints with a plugin field of
// type T. Serve it over TLS only: the password travels in the clear. A bad
// configuration stops start-up naming the endpoint and the plugin "basic".
func Basic[T any](cfg BasicConfig[T]) graft.Plugin {
	p := &basic[T]{cfg: cfg}
	p.err = p.setup()
	return graft.NamedPlugin("basic", graft.PluginFunc(p.apply))
}

func (p *basic[T]) setup() error {
	switch {
	case len(p.cfg.Credentials) > 0 && p.cfg.Verify != nil:
		return fmt.Errorf("BasicConfig has both Credentials and Verify; set one")
	case len(p.cfg.Credentials) == 0 && p.cfg.Verify == nil:
		return fmt.Errorf("BasicConfig has no Credentials and no Verify; configure the accepted users")
	}
	seen := map[string]int{}
	for i, c := range p.cfg.Credentials {
		if c.User == "" || strings.Contains(c.User, ":") {
			return fmt.Errorf("BasicConfig.Credentials[%d] has user %q; a user name is not empty and has no ':' (RFC 7617)", i, c.User)
		}
		if c.Password == "" {
			return fmt.Errorf("BasicConfig.Credentials[%d] (user %q) has an empty password", i, c.User)
		}
		if j, dup := seen[c.User]; dup {
			return fmt.Errorf("BasicConfig.Credentials[%d] repeats the user %q of Credentials[%d]", i, c.User, j)
		}
		seen[c.User] = i
		p.users = append(p.users, digestOf(c.User))
		p.pass = append(p.pass, digestOf(c.Password))
	}
	realm := p.cfg.Realm
	if realm == "" {
		realm = "graft"
	}
	p.challenge = "Basic realm=" + quote(realm) + `, charset="UTF-8"`
	name := p.cfg.SchemeName
	if name == "" {
		name = "basicAuth"
	}
	p.scheme = graft.SecurityScheme{Name: name, Type: "http", Scheme: "basic"}
	return nil
}

func (p *basic[T]) apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	field := findField[T](sig, p.cfg.Tag)
	if field == nil {
		return next, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	sig.PreBind(func(c *graft.Ctx) error {
		if _, ok := basicPayload(c.Header("Authorization")); !ok {
			return unauthorized(p.challenge, "send the header Authorization: Basic base64(user:password)")
		}
		return nil
	})
	field.Bind(graft.Param{Name: "Authorization", In: graft.InHeader, Required: true, Doc: "HTTP basic credentials"},
		func(_ *graft.Ctx, raw string) (T, error) {
			var zero T
			enc, _ := basicPayload(raw)
			dec, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				return zero, unauthorized(p.challenge, "the basic credentials are not valid base64")
			}
			user, pw, ok := strings.Cut(string(dec), ":")
			if !ok {
				return zero, unauthorized(p.challenge, "the basic credentials have no ':' between user and password")
			}
			if p.cfg.Verify != nil {
				v, ok := p.cfg.Verify(user, pw)
				if !ok {
					return zero, unauthorized(p.challenge, "the user name or password is wrong")
				}
				return v, nil
			}
			u, w := digestOf(user), digestOf(pw)
			i := match(len(p.users), func(i int) int {
				return eqDigest(&u, &p.users[i]) & eqDigest(&w, &p.pass[i])
			})
			if i < 0 {
				return zero, unauthorized(p.challenge, "the user name or password is wrong")
			}
			return p.cfg.Credentials[i].Value, nil
		})
	sig.AddSecurity(p.scheme)
	sig.AddReturn(unauthorizedReturn("no valid basic credentials"))
	return next, nil
}

// basicPayload returns the base64 part of "Basic XXX" (scheme
// case-insensitive).
func basicPayload(h string) (string, bool) {
	if len(h) < 6 || !strings.EqualFold(h[:6], "Basic ") {
		return "", false
	}
	s := strings.TrimSpace(h[6:])
	return s, s != ""
}
