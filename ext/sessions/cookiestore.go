package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/graftgo/graft/ext/cookies"
)

// cookiePurpose is the name the cookie store binds its values to (the
// MAC's and the AEAD's associated name), so a value sealed for another
// purpose with the same keys does not load as a session.
const cookiePurpose = "graft/ext/sessions"

// CookieStoreOptions configures a CookieStore.
type CookieStoreOptions struct {
	// Keys sign (or encrypt) the cookie; the first seals, all open (see
	// cookies.Codec for rotation). Each is at least 32 random bytes.
	Keys [][]byte
	// Encrypt hides the values from the client (AES-256-GCM); without it
	// they are signed (HMAC-SHA256): readable, not changeable.
	Encrypt bool
}

// CookieStore keeps the whole session in its cookie, signed or encrypted
// with ext/cookies' Codec, the expiry sealed inside. Nothing is stored on
// the server, so Delete cannot revoke a copy of the cookie held elsewhere
// before its expiry, values must fit in 4 KiB with the cookie's attributes,
// and concurrent requests of one session cannot be merged: each answer
// carries the whole session as its request saw it, and the browser keeps
// the last one. Use a server store when that matters.
type CookieStore struct {
	codec   *cookies.Codec
	encrypt bool
	now     func() time.Time
}

// NewCookieStore returns a cookie store; it fails on missing, short or
// repeated keys.
func NewCookieStore(opts CookieStoreOptions) (*CookieStore, error) {
	c, err := cookies.NewCodec(opts.Keys...)
	if err != nil {
		return nil, fmt.Errorf("sessions: CookieStoreOptions.Keys: %w", err)
	}
	return &CookieStore{codec: c, encrypt: opts.Encrypt, now: time.Now}, nil
}

// Load implements Store: id is the cookie's value.
func (s *CookieStore) Load(_ context.Context, id string) (map[string]string, bool, error) {
	var raw string
	var err error
	if s.encrypt {
		raw, err = s.codec.Open(cookiePurpose, id, s.now())
	} else {
		raw, err = s.codec.Verify(cookiePurpose, id, s.now())
	}
	if err != nil {
		return nil, false, nil // tampered, wrongly keyed, expired: no session
	}
	values := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &values); err != nil {
		return nil, false, nil
	}
	return values, true, nil
}

// Save implements Store: it applies ch to the values sealed in id (none
// for a new session) and returns the new cookie value.
func (s *CookieStore) Save(ctx context.Context, id string, ch Changes, ttl time.Duration) (string, error) {
	values, ok, _ := s.Load(ctx, id)
	if !ok {
		values = map[string]string{}
	}
	ch.Apply(values)
	b, err := json.Marshal(values)
	if err != nil {
		return "", err
	}
	exp := s.now().Add(ttl)
	if s.encrypt {
		return s.codec.Seal(cookiePurpose, string(b), exp), nil
	}
	return s.codec.Sign(cookiePurpose, string(b), exp), nil
}

// Delete implements Store; the extension drops the cookie.
func (s *CookieStore) Delete(context.Context, string) error { return nil }
