package cookies

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// MinKeyLen is the shortest key a Codec accepts: 32 bytes (256 bits) of
// random data, e.g. from `openssl rand -base64 32`.
const MinKeyLen = 32

// MaxCookieLen is the longest cookie (name, value and attributes) browsers
// are required to keep (RFC 6265 §6.1); Put* refuse a longer one.
const MaxCookieLen = 4096

// Reasons a sealed cookie is refused. Read* methods treat each as an absent
// cookie; Codec.Verify and Codec.Open return them for callers that want to
// tell them apart.
var (
	// ErrMalformed: the value is not one the Codec made (bad encoding,
	// truncated).
	ErrMalformed = errors.New("cookies: malformed sealed cookie")
	// ErrInvalid: no key verifies the signature or decrypts the value: it
	// was tampered with, signed by a retired key, or made for another name.
	ErrInvalid = errors.New("cookies: cookie signature or ciphertext is not valid for any key")
	// ErrExpired: the expiry sealed inside the value has passed.
	ErrExpired = errors.New("cookies: sealed cookie expired")
	// ErrNoKeys: signed or encrypted cookies were used on an extension
	// configured without Options.Keys.
	ErrNoKeys = errors.New("cookies: no keys configured (set Options.Keys)")
)

// A Codec signs (HMAC-SHA256) and encrypts (AES-256-GCM) cookie values with
// a list of keys for rotation: the first key signs and encrypts, every key
// verifies and decrypts. To rotate, put the new key first and keep the old
// one after it for as long as cookies it made may live; then drop it.
//
// Each key is expanded with HKDF-SHA256 into separate signing and
// encryption keys, so one secret never serves two algorithms. The cookie's
// name is bound into the MAC and into the AEAD's additional data: a value
// cut from one cookie does not verify under another name. The expiry is
// sealed inside the value, so a client cannot extend it by editing the
// cookie's Max-Age.
//
// A Codec is safe for concurrent use.
type Codec struct {
	sign  [][]byte
	aeads []cipher.AEAD
	macs  []sync.Pool // one pool of HMAC states per key
}

// NewCodec returns a Codec over keys, the first of which signs and
// encrypts. It fails without keys, on a key shorter than MinKeyLen, and on
// a key listed twice.
func NewCodec(keys ...[]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	c := &Codec{macs: make([]sync.Pool, len(keys))}
	seen := map[string]int{}
	for i, k := range keys {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("cookies: key %d is %d bytes; keys must be at least %d random bytes", i, len(k), MinKeyLen)
		}
		if j, dup := seen[string(k)]; dup {
			return nil, fmt.Errorf("cookies: key %d repeats key %d", i, j)
		}
		seen[string(k)] = i
		sk, err := hkdf.Key(sha256.New, k, nil, "graft/ext/cookies sign", 32)
		if err != nil {
			return nil, err
		}
		ek, err := hkdf.Key(sha256.New, k, nil, "graft/ext/cookies encrypt", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(ek)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, err
		}
		c.sign = append(c.sign, sk)
		c.aeads = append(c.aeads, aead)
		c.macs[i].New = func() any { return hmac.New(sha256.New, sk) }
	}
	return c, nil
}

var b64 = base64.RawURLEncoding

// payload is the sealed plaintext: 8 bytes of big-endian Unix expiry
// seconds (0: none) followed by the value.
func payload(value string, expires time.Time) []byte {
	p := make([]byte, 8, 8+len(value))
	if !expires.IsZero() {
		binary.BigEndian.PutUint64(p, uint64(expires.Unix()))
	}
	return append(p, value...)
}

func (c *Codec) mac(i int, name string, p []byte) []byte {
	m := c.macs[i].Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write(p)
	sum := m.Sum(nil)
	c.macs[i].Put(m)
	return sum
}

// Sign returns value signed for the cookie name, valid until expires (the
// zero time: no expiry). The value is readable by the client; use Seal to
// hide it.
func (c *Codec) Sign(name, value string, expires time.Time) string {
	p := payload(value, expires)
	return b64.EncodeToString(p) + "." + b64.EncodeToString(c.mac(0, name, p))
}

// Verify returns the value of a cookie made by Sign for name, checking the
// signature against every key and the expiry against now.
func (c *Codec) Verify(name, cookie string, now time.Time) (string, error) {
	enc, sig, ok := strings.Cut(cookie, ".")
	if !ok {
		return "", ErrMalformed
	}
	p, err := b64.DecodeString(enc)
	if err != nil || len(p) < 8 {
		return "", ErrMalformed
	}
	want, err := b64.DecodeString(sig)
	if err != nil || len(want) != sha256.Size {
		return "", ErrMalformed
	}
	for i := range c.sign {
		if hmac.Equal(c.mac(i, name, p), want) {
			return unpack(p, now)
		}
	}
	return "", ErrInvalid
}

// Seal returns value encrypted and authenticated for the cookie name,
// valid until expires (the zero time: no expiry). Each call draws a fresh
// random nonce.
func (c *Codec) Seal(name, value string, expires time.Time) string {
	return b64.EncodeToString(c.aeads[0].Seal(nil, nil, payload(value, expires), []byte(name)))
}

// Open returns the value of a cookie made by Seal for name, trying every
// key and checking the expiry against now.
func (c *Codec) Open(name, cookie string, now time.Time) (string, error) {
	ct, err := b64.DecodeString(cookie)
	if err != nil {
		return "", ErrMalformed
	}
	if len(ct) < c.aeads[0].NonceSize()+c.aeads[0].Overhead()+8 {
		return "", ErrMalformed
	}
	for _, a := range c.aeads {
		if p, err := a.Open(nil, nil, ct, []byte(name)); err == nil {
			return unpack(p, now)
		}
	}
	return "", ErrInvalid
}

func unpack(p []byte, now time.Time) (string, error) {
	if exp := binary.BigEndian.Uint64(p); exp != 0 && now.Unix() >= int64(exp) {
		return "", ErrExpired
	}
	return string(p[8:]), nil
}
