package msgpack

import (
	"net/http"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/mpbody"
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

// Marshal encodes v as MessagePack, with field names from json tags
// (a msgpack tag wins where a field has one) and their omitempty honoured.
func Marshal(v any) ([]byte, error) { return mpbody.Marshal(v) }

// Unmarshal decodes the MessagePack value data into v (a pointer) by the
// rules of typed endpoints: field names from json tags; an error for data
// that is not exactly one well-formed value (malformed, truncated, more
// data after it), and for the first value of the wrong type, named by its
// location ("body.age must be an integer, got string"). Unknown fields are
// skipped. Nothing decoded aliases data.
func Unmarshal(data []byte, v any) error { return mpbody.Unmarshal(data, v) }

// Responder is a context mixin: embed it in the app's context type to get
// the Msgpack method. It belongs to the msgpack extension: an app whose
// context embeds a Responder fails to start until Extension() is
// registered, so that Ctx.Render offers msgpack wherever Msgpack answers it.
type Responder struct{ graft.MixinOf[extension] }

// Msgpack answers 200 with v encoded as MessagePack.
func (r *Responder) Msgpack(v any) error { return r.MsgpackStatus(http.StatusOK, v) }

// MsgpackStatus answers with the given status and v encoded as MessagePack.
func (r *Responder) MsgpackStatus(status int, v any) error {
	enc, b, err := mpbody.Encode(v)
	if err != nil {
		return err
	}
	defer enc.Release()
	return r.Ctx().Bytes(status, MediaType, b)
}
