package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Config configures the plugin. Algorithms and one of Key or Keyfunc are
// required.
type Config struct {
	// Algorithms lists the accepted "alg" values, e.g. {"RS256"}. A token
	// signed with any other algorithm (alg none included) is rejected
	// before its key is looked at. One family only: HS*, RS*, PS*, ES* or
	// EdDSA, matching the key.
	Algorithms []string
	// Key verifies the signatures: a []byte secret for HS*, an
	// *rsa.PublicKey for RS*/PS*, an *ecdsa.PublicKey for ES*, an
	// ed25519.PublicKey for EdDSA.
	Key any
	// Keyfunc, when set instead of Key, returns the key for a token (key
	// rotation by "kid"). The algorithm is checked against Algorithms
	// before it is called.
	Keyfunc jwt.Keyfunc
	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must be one of the token's "aud".
	Audience string
	// Leeway is the clock skew allowed for "exp", "nbf" and "iat".
	Leeway time.Duration
	// ExpiryOptional accepts tokens without "exp"; by default they are
	// rejected.
	ExpiryOptional bool
	// Realm is the realm of the WWW-Authenticate challenge ("graft" when
	// empty).
	Realm string
	// SchemeName is the security scheme's name in the OpenAPI document
	// ("bearerAuth" when empty).
	SchemeName string
	// Tag selects the claims field by its plugin tag (plugin:"TAG") when
	// the input has several of the claims type; empty finds the only one.
	Tag string
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// plugin is the configured plugin for claims type T.
type plugin[T any, PT interface {
	*T
	jwt.Claims
}] struct {
	cfg       Config
	err       error
	parser    *jwt.Parser
	keyfunc   jwt.Keyfunc
	challenge string
	scheme    graft.SecurityScheme
}

// New returns the JWT plugin filling plugin fields of type *T, where *T
// implements jwt.Claims (embed jwt.RegisteredClaims). A bad Config stops
// start-up naming the first endpoint it would guard and the plugin "jwt".
func New[T any, PT interface {
	*T
	jwt.Claims
}](cfg Config) graft.Plugin {
	p := &plugin[T, PT]{cfg: cfg}
	p.err = p.setup()
	return graft.NamedPlugin("jwt", graft.PluginFunc(p.apply))
}

var families = map[string]string{
	"HS256": "HS", "HS384": "HS", "HS512": "HS",
	"RS256": "RS", "RS384": "RS", "RS512": "RS",
	"PS256": "RS", "PS384": "RS", "PS512": "RS",
	"ES256": "ES", "ES384": "ES", "ES512": "ES",
	"EdDSA": "Ed",
}

func (p *plugin[T, PT]) setup() error {
	cfg := p.cfg
	if len(cfg.Algorithms) == 0 {
		return errors.New(`Config.Algorithms is empty; pin the accepted algorithms, e.g. []string{"RS256"}`)
	}
	family := ""
	for _, a := range cfg.Algorithms {
		f, ok := families[a]
		if !ok {
			return fmt.Errorf("Config.Algorithms has %q; use HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (none is never accepted)", a)
		}
		if family != "" && f != family {
			return fmt.Errorf("Config.Algorithms mixes %v; one key type verifies one family, so list one of HS*, RS*/PS*, ES*, EdDSA (mixing HMAC and public keys invites key confusion)", cfg.Algorithms)
		}
		family = f
	}
	switch {
	case cfg.Key != nil && cfg.Keyfunc != nil:
		return errors.New("Config has both Key and Keyfunc; set one")
	case cfg.Key == nil && cfg.Keyfunc == nil:
		return errors.New("Config has no Key and no Keyfunc; set the verification key")
	case cfg.Key != nil:
		if err := keyFits(family, cfg.Key); err != nil {
			return err
		}
		key := cfg.Key
		p.keyfunc = func(*jwt.Token) (any, error) { return key, nil }
	default:
		p.keyfunc = cfg.Keyfunc
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(cfg.Algorithms), jwt.WithLeeway(cfg.Leeway), jwt.WithIssuedAt()}
	if !cfg.ExpiryOptional {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	p.parser = jwt.NewParser(opts...)
	realm := cfg.Realm
	if realm == "" {
		realm = "graft"
	}
	p.challenge = `Bearer realm="` + strings.ReplaceAll(realm, `"`, `'`) + `"`
	name := cfg.SchemeName
	if name == "" {
		name = "bearerAuth"
	}
	p.scheme = graft.SecurityScheme{Name: name, Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "a JWT signed with " + strings.Join(cfg.Algorithms, ", ")}
	return nil
}

func keyFits(family string, key any) error {
	ok := false
	switch family {
	case "HS":
		b, isBytes := key.([]byte)
		ok = isBytes
		if ok && len(b) < 32 {
			return fmt.Errorf("Config.Key is an HMAC secret of %d bytes; use at least 32 random bytes", len(b))
		}
	case "RS":
		_, ok = key.(*rsa.PublicKey)
	case "ES":
		_, ok = key.(*ecdsa.PublicKey)
	case "Ed":
		_, ok = key.(ed25519.PublicKey)
	}
	if !ok {
		return fmt.Errorf("Config.Key is a %T, which does not verify %s* tokens; give a []byte for HS*, *rsa.PublicKey for RS*/PS*, *ecdsa.PublicKey for ES*, ed25519.PublicKey for EdDSA", key, family)
	}
	return nil
}

func (p *plugin[T, PT]) apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	var field *graft.PluginFieldRef[PT]
	if p.cfg.Tag != "" {
		field = graft.PluginFieldTagged[PT](sig, p.cfg.Tag)
	} else {
		field = graft.PluginField[PT](sig)
	}
	if field == nil {
		return next, nil // no claims wanted: left as it is, at no cost
	}
	if p.err != nil {
		return nil, p.err
	}
	sig.PreBind(func(c *graft.Ctx) error {
		if _, ok := bearer(c.Header("Authorization")); !ok {
			return p.unauthorized("", "send the header Authorization: Bearer TOKEN")
		}
		return nil
	})
	field.Bind(graft.Param{Name: "Authorization", In: graft.InHeader, Required: true, Doc: "Bearer JWT"},
		func(_ *graft.Ctx, raw string) (PT, error) {
			tok, _ := bearer(raw)
			claims := PT(new(T))
			if _, err := p.parser.ParseWithClaims(tok, claims, p.keyfunc); err != nil {
				return nil, p.unauthorized("invalid_token", reason(err))
			}
			return claims, nil
		})
	sig.AddSecurity(p.scheme)
	sig.AddReturn(graft.Return{
		Status: http.StatusUnauthorized, Type: reflect.TypeFor[graft.Problem](),
		MediaType: "application/problem+json", Encoder: "problem",
		Description: "no valid bearer token",
	})
	return next, nil
}

// bearer returns the token of an "Authorization: Bearer TOKEN" value; the
// scheme is case-insensitive (RFC 9110).
func bearer(h string) (string, bool) {
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

func (p *plugin[T, PT]) unauthorized(code, detail string) error {
	ch := p.challenge
	if code != "" {
		ch += `, error="` + code + `"`
	}
	return &graft.HTTPError{Status: http.StatusUnauthorized, Detail: detail,
		Header: http.Header{"Www-Authenticate": {ch}}}
}

// reason says why a token was rejected, without echoing it.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the bearer token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "no key verifies the bearer token" // Keyfunc failed (unknown kid)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		// WithValidMethods: alg none, key confusion, an algorithm not pinned
		return "the bearer token's algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the bearer token's signature is not valid"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the bearer token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the bearer token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the bearer token was issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the bearer token has the wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the bearer token has the wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the bearer token lacks a required claim (exp)"
	default:
		return "the bearer token is not valid"
	}
}
