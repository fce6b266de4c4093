package msgpack

import (
	"bytes"
	"net/http"
	"reflect"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack/internal/mpbody"
)

// MediaType is the media type this extension encodes and decodes.
const MediaType = "application/msgpack"

// Aliases are the other media types typed endpoints read as msgpack and
// accept in Accept (answering MediaType).
var Aliases = []string{"application/x-msgpack", "application/vnd.msgpack"}

// ID is the extension's ID.
const ID = "graft.ext.msgpack"

type extension struct{}

// Extension returns the msgpack extension: it registers the
// application/msgpack body codec (Codec) in its scope, so Ctx.Render
// answers msgpack to clients that accept it, Ctx.Bind reads msgpack
// bodies, and typed endpoints read and answer msgpack bodies by the rules
// of their JSON ones.
func Extension() graft.Extension { return extension{} }

func (extension) ID() string { return ID }

func (extension) Extend(b *graft.Builder) error {
	b.BodyCodec(MediaType, Codec(), Aliases...)
	return nil
}

// Codec returns the msgpack graft.BodyCodec, for an extension that
// registers it itself (Builder.BodyCodec).
func Codec() graft.BodyCodec { return codec{} }

// codec is the msgpack graft.BodyCodec.
type codec struct{}

var _ graft.BodyCodec = codec{}

func (codec) Marshal(v any) ([]byte, error)      { return Marshal(v) }
func (codec) Unmarshal(data []byte, v any) error { return Unmarshal(data, v) }

// Encode writes v in msgpack, field names from json tags, into buf.
func (codec) Encode(buf *bytes.Buffer, v any) error { return mpbody.EncodeTo(buf, v) }

// Compile compiles the shape of the body type t, refusing msgpack tag
// options the checking walk cannot follow.
func (codec) Compile(t reflect.Type) (graft.BodyDecoder, error) {
	typ, err := mpbody.TypeOf(t)
	if err != nil {
		return nil, err
	}
	return bodyDecoder{typ}, nil
}

func (codec) Head(b []byte, i int) (graft.WireKind, int, int, bool) {
	k, n, j, ok := mpbody.Head(b, i)
	return wireKinds[k], n, j, ok
}

func (codec) Skip(b []byte, i int) int { return mpbody.Skip(b, i) }

func (codec) FieldNames(t reflect.Type) map[string][]int { return mpbody.Names(t) }

// wireKinds maps mpbody's kinds to graft's.
var wireKinds = [...]graft.WireKind{
	mpbody.Nil:   graft.WireNil,
	mpbody.Map:   graft.WireMap,
	mpbody.Array: graft.WireArray,
	mpbody.Str:   graft.WireString,
	mpbody.Other: graft.WireOther,
}

// bodyDecoder reads bodies of one compiled type.
type bodyDecoder struct{ t *mpbody.Type }

// Decode checks b against the type before the library sees it (the
// library sizes allocations by the lengths a body declares): a body that
// is not exactly one well-formed value (malformed, truncated, data after
// it, nested too deeply) is a *mpbody.SyntaxError; every value of the
// wrong type and, when forbidden, every unknown field is reported, and
// then nothing is decoded.
func (d bodyDecoder) Decode(b []byte, v any, forbid bool, r graft.FieldReporter) (bool, error) {
	n, err := mpbody.CheckCount(b, d.t, "body", forbid, r)
	if err != nil || n > 0 {
		return false, err
	}
	if err := mpbody.Decode(b, v, forbid); err != nil {
		// Only a type's own decoding method fails here, as a failing
		// UnmarshalJSON does for JSON.
		return false, &graft.HTTPError{Status: http.StatusBadRequest, Detail: "invalid msgpack body: " + err.Error(), Err: err}
	}
	return true, nil
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
