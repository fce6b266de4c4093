package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	"golang.org/x/crypto/argon2"
)

// Passwords are stored as argon2id hashes in the PHC string format, with
// OWASP's minimum parameters (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// checkPassword reports whether pw matches a hash made by hashPassword
// (with whatever parameters the hash records).
func checkPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Tokens are HS256 JWTs with the user in "sub", issued and accepted for
// the audience "graft-chat", valid for tokenTTL.
const (
	tokenIssuer = "graft-chat"
	tokenTTL    = 24 * time.Hour
)

// Claims are the token's claims, as the auth plugin fills them in
// (plugin:"" fields of typed endpoints).
type Claims struct {
	jwt.RegisteredClaims
}

// keys holds the signing key once the app started (from --jwt-key or the
// database).
type keys struct{ k atomic.Pointer[[]byte] }

func (k *keys) get() []byte {
	if p := k.k.Load(); p != nil {
		return *p
	}
	return nil
}

func (k *keys) set(b []byte) { k.k.Store(&b) }

func (k *keys) issue(user string) (string, error) {
	key := k.get()
	if key == nil {
		return "", errors.New("no signing key yet")
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   user,
		Issuer:    tokenIssuer,
		Audience:  jwt.ClaimStrings{tokenIssuer},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)),
	})
	return t.SignedString(key)
}

// keyfunc gives the auth plugin and verify the key; the algorithm was
// already checked against HS256.
func (k *keys) keyfunc(*jwt.Token) (any, error) {
	key := k.get()
	if key == nil {
		return nil, errors.New("no signing key yet")
	}
	return key, nil
}

// verify returns the user a token was issued to, or "" when the token is
// not valid (bad signature, expired, another issuer, alg none…).
func (k *keys) verify(token string) string {
	if token == "" {
		return ""
	}
	var c jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &c, k.keyfunc,
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(tokenIssuer), jwt.WithAudience(tokenIssuer), jwt.WithExpirationRequired())
	if err != nil || !validName(c.Subject) {
		return ""
	}
	return c.Subject
}

// User is who a request comes from: GET /me's answer.
type User struct {
	Name string `json:"name" msgpack:"name" doc:"the user's name, or Anonymous without a valid token" example:"alice"`
}

// UserGetter is the request mixin of socketify's get_user: c.GetUser()
// reads the bearer token and names its user, or Anonymous.
type UserGetter struct{ graft.Mixin }

// GetUser returns the user of the request's "Authorization: Bearer" token,
// or Anonymous when there is none or it is not valid.
func (g *UserGetter) GetUser() User {
	tok, ok := strings.CutPrefix(g.Ctx().Header("Authorization"), "Bearer ")
	if ok {
		if name := Tokens.Get(g.Ctx()).verify(strings.TrimSpace(tok)); name != "" {
			return User{Name: name}
		}
	}
	return User{Name: "Anonymous"}
}

// Tokens is the app's token keys, a scope value the chat extension
// publishes for its subtree (read by GetUser without a per-request copy).
var Tokens = graft.NewScopeValue[*keys]("example.chat.tokens")
