package msgpack

import (
	"net/http"

	"github.com/graftgo/graft"
	"github.com/shamaton/msgpack/v2"
)

// MediaType is the media type this extension encodes and decodes.
const MediaType = "application/msgpack"

// ID is the extension's ID.
const ID = "graft.ext.msgpack"

type extension struct{}

// Extension returns the msgpack extension: it registers the
// application/msgpack encoder (so Ctx.Render answers msgpack to clients that
// accept it) and decoder (so Ctx.Bind reads msgpack bodies).
func Extension() graft.Extension { return extension{} }

func (extension) ID() string { return ID }

func (extension) Extend(b *graft.Builder) error {
	b.Encoder(MediaType, Marshal)
	b.Decoder(MediaType, Unmarshal)
	return nil
}

// Marshal encodes v as MessagePack.
func Marshal(v any) ([]byte, error) { return msgpack.Marshal(v) }

// Unmarshal decodes MessagePack data into v.
func Unmarshal(data []byte, v any) error { return msgpack.Unmarshal(data, v) }

// Responder is a context mixin: embed it in the app's context type to get
// the Msgpack method.
type Responder struct{ graft.Mixin }

// Msgpack answers 200 with v encoded as MessagePack.
func (r *Responder) Msgpack(v any) error { return r.MsgpackStatus(http.StatusOK, v) }

// MsgpackStatus answers with the given status and v encoded as MessagePack.
func (r *Responder) MsgpackStatus(status int, v any) error {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return err
	}
	return r.Ctx().Bytes(status, MediaType, b)
}
