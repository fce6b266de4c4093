package mpbody

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// StructTag is where field names come from when a field has no msgpack
// tag: the json tag, so one set of names (and omitempty) serves both.
const StructTag = "json"

// maxPooled bounds the bodies after which a decoder or encoder goes back
// to its pool: the library keeps a scratch buffer as large as the longest
// string it read, and an encoder's buffer is as large as its output.
const maxPooled = 64 << 10

// dec is a pooled library decoder reading from a resettable reader. Its
// configuration (struct tag, unknown fields) is set once; the reader is a
// bytes.Reader, an io.ByteScanner, so the library reads from it directly
// and buffers nothing of its own.
type dec struct {
	r bytes.Reader
	d *msgpack.Decoder
}

var decPools [2]sync.Pool // [0]: unknown fields skipped, [1]: refused

// Decode decodes the msgpack value b into v (a pointer) with field names
// from json tags. Nothing decoded aliases b: the library copies every
// string and byte slice. Callers check b first (Check or Valid): the
// library trusts declared lengths and allocates by them. A decoder goes
// back to its pool only after a clean decode that used all of b, so none
// carries state from one body to the next.
func Decode(b []byte, v any, forbid bool) error {
	i := 0
	if forbid {
		i = 1
	}
	x, _ := decPools[i].Get().(*dec)
	if x == nil {
		x = &dec{}
		x.d = msgpack.NewDecoder(&x.r)
		x.d.SetCustomStructTag(StructTag)
		x.d.DisallowUnknownFields(forbid)
	}
	x.r.Reset(b)
	x.d.ResetReader(&x.r) // keeps the configuration, drops any map decoder or dictionary
	err := x.d.Decode(v)
	if err == nil && x.r.Len() != 0 {
		err = trailing(b, len(b)-x.r.Len())
	}
	if err != nil {
		return err
	}
	x.r.Reset(nil)
	if len(b) <= maxPooled {
		decPools[i].Put(x)
	}
	return nil
}

// TypeError is a value of the wrong type in a body.
type TypeError struct {
	Loc, Msg string
	Got      any
}

func (e *TypeError) Error() string {
	if e.Got == nil {
		return e.Loc + " " + e.Msg
	}
	return fmt.Sprintf("%s %s, got %v", e.Loc, e.Msg, e.Got)
}

// first keeps the first problem reported.
type first struct{ err *TypeError }

func (f *first) Full() bool { return f.err != nil }

func (f *first) Report(loc, msg string, got any) {
	if f.err == nil {
		f.err = &TypeError{Loc: loc, Msg: msg, Got: got}
	}
}

// Unmarshal checks and decodes b into v (a pointer), by the rules of
// typed endpoints: a *SyntaxError for a body that is not one well-formed
// value, a *TypeError for the first value of the wrong type (locations
// start at "body"), else the library's error, if any. Unknown fields are
// skipped.
func Unmarshal(b []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("mpbody: Unmarshal(non-pointer %T)", v)
	}
	typ, err := TypeOf(t.Elem())
	if err != nil {
		return err
	}
	var f first
	if err := Check(b, typ, "body", false, &f); err != nil {
		return err
	}
	if f.err != nil {
		return f.err
	}
	return Decode(b, v, false)
}

// EncodeTo encodes v into buf with field names from json tags, honouring
// their omitempty, through a pooled library encoder.
func EncodeTo(buf *bytes.Buffer, v any) error {
	x, _ := toPool.Get().(*msgpack.Encoder)
	if x == nil {
		x = msgpack.NewEncoder(nil)
		x.SetCustomStructTag(StructTag)
		x.UseCompactInts(true)
	}
	x.ResetWriter(buf)
	err := x.Encode(v)
	x.ResetWriter(nil)
	toPool.Put(x)
	return err
}

// toPool holds the encoders of EncodeTo, which write into the caller's
// buffer.
var toPool sync.Pool

// enc is a pooled library encoder writing into its own buffer.
type enc struct {
	buf bytes.Buffer
	e   *msgpack.Encoder
}

var encPool sync.Pool

// Encoder encodes one value; get it with GetEncoder, release it with
// Release after the bytes were used.
type Encoder struct{ x *enc }

// Encode encodes v with field names from json tags, honouring their
// omitempty, and returns the bytes, valid until Release.
func Encode(v any) (Encoder, []byte, error) {
	x, _ := encPool.Get().(*enc)
	if x == nil {
		x = &enc{}
		x.e = msgpack.NewEncoder(&x.buf)
		x.e.SetCustomStructTag(StructTag)
		x.e.UseCompactInts(true) // an int in as few bytes as it needs, as other libraries write it
	}
	x.buf.Reset()
	x.e.ResetWriter(&x.buf)
	if err := x.e.Encode(v); err != nil {
		x.buf.Reset()
		encPool.Put(x)
		return Encoder{}, nil, err
	}
	return Encoder{x}, x.buf.Bytes(), nil
}

// Release returns the encoder to its pool; the bytes Encode returned are
// then no longer valid.
func (e Encoder) Release() {
	if e.x == nil {
		return
	}
	if e.x.buf.Cap() <= maxPooled {
		e.x.buf.Reset()
		encPool.Put(e.x)
	}
}

// Marshal encodes v with field names from json tags, honouring their
// omitempty, into a new slice.
func Marshal(v any) ([]byte, error) {
	e, b, err := Encode(v)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(b)
	e.Release()
	return out, nil
}
