package auth

import (
	"fmt"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Key is an accepted API key and the identity it stands for.
type Key[T any] struct {
	// Key is the secret the client sends; at least 16 characters.
	Key string
	// Value fills the endpoint's plugin field of type T.
	Value T
}

// APIKeyConfig configures the API-key plugin.
type APIKeyConfig[T any] struct {
	// Name is the header or query param that carries the key
	// ("X-API-Key" when empty).
	Name string
	// In is graft.InHeader (the default) or graft.InQuery. Prefer the
	// header: query strings end up in access logs.
	In graft.Location
	// Keys are the accepted keys; at least one.
	Keys []Key[T]
	// Realm is the realm of the WWW-Authenticate challenge ("graft").
	Realm string
	// SchemeName is the security scheme's name in the OpenAPI document
	// ("apiKeyAuth" when empty).
	SchemeName string
	// Tag selects the plugin field by its tag when the input has several
	// of type T.
	Tag string
}

type apiKey[T any] struct {
	cfg       APIKeyConfig[T]
	err       error
	digests   []digest
	challenge string
	scheme    graft.SecurityScheme
}

// APIKey returns the API-key plugin for endpoints with a plugin field of
// type T. A bad configuration stops start-up naming the endpoint and the
// plugin "apikey".
func APIKey[T any](cfg APIKeyConfig[T]) graft.Plugin {
	p := &apiKey[T]{cfg: cfg}
	p.err = p.setup()
	return graft.NamedPlugin("apikey", graft.PluginFunc(p.apply))
}

func (p *apiKey[T]) setup() error {
	if p.cfg.Name == "" {
		p.cfg.Name = "X-API-Key"
	}
	switch p.cfg.In {
	case "":
		p.cfg.In = graft.InHeader
	case graft.InHeader, graft.InQuery:
	default:
		return fmt.Errorf("APIKeyConfig.In is %q; the key comes from graft.InHeader or graft.InQuery", p.cfg.In)
	}
	if len(p.cfg.Keys) == 0 {
		return fmt.Errorf("APIKeyConfig.Keys is empty; configure the accepted keys")
	}
	seen := map[digest]int{}
	for i, k := range p.cfg.Keys {
		if len(k.Key) < 16 {
			return fmt.Errorf("APIKeyConfig.Keys[%d] has %d characters; use keys of at least 16 random characters", i, len(k.Key))
		}
		d := digestOf(k.Key)
		if j, dup := seen[d]; dup {
			return fmt.Errorf("APIKeyConfig.Keys[%d] repeats Keys[%d]; each key identifies one caller", i, j)
		}
		seen[d] = i
		p.digests = append(p.digests, d)
	}
	realm := p.cfg.Realm
	if realm == "" {
		realm = "graft"
	}
	p.challenge = "APIKey realm=" + quote(realm) + ", in=" + quote(string(p.cfg.In)) + ", name=" + quote(p.cfg.Name)
	name := p.cfg.SchemeName
	if name == "" {
		name = "apiKeyAuth"
	}
	p.scheme = graft.SecurityScheme{Name: name, Type: "apiKey", In: p.cfg.In, ParamName: p.cfg.Name,
		Description: "an API key in the " + string(p.cfg.In) + " " + p.cfg.Name}
	return nil
}

func (p *apiKey[T]) apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	field := findField[T](sig, p.cfg.Tag)
	if field == nil {
		return next, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	missing := "send the API key in the " + string(p.cfg.In) + " " + p.cfg.Name
	sig.PreBind(func(c *graft.Ctx) error {
		if p.raw(c) == "" {
			return unauthorized(p.challenge, missing)
		}
		return nil
	})
	field.Bind(graft.Param{Name: p.cfg.Name, In: p.cfg.In, Required: true, Doc: "API key"},
		func(_ *graft.Ctx, raw string) (T, error) {
			d := digestOf(raw)
			i := match(len(p.digests), func(i int) int { return eqDigest(&d, &p.digests[i]) })
			if i < 0 {
				var zero T
				return zero, unauthorized(p.challenge, "the API key is not valid")
			}
			return p.cfg.Keys[i].Value, nil
		})
	sig.AddSecurity(p.scheme)
	sig.AddReturn(unauthorizedReturn("no valid API key"))
	return next, nil
}

func (p *apiKey[T]) raw(c *graft.Ctx) string {
	if p.cfg.In == graft.InQuery {
		return c.Query(p.cfg.Name)
	}
	return c.Header(p.cfg.Name)
}
