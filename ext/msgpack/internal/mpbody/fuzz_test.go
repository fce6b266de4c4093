package mpbody

import (
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// oddBody holds the kinds of fields whose decoding the library treats
// specially.
type oddBody struct {
	hidden
	*hiddenP
	Embedded `json:"emb"`
	Any      any                 `json:"any"`
	Reader   io.Reader           `json:"reader"`
	When     time.Time           `json:"when"`
	WhenP    *time.Time          `json:"when_p"`
	Addr     netip.Addr          `json:"addr"` // a TextUnmarshaler and BinaryUnmarshaler
	Raw      msgpack.RawMessage  `json:"raw"`
	PP       **int8              `json:"pp"`
	IntKeys  map[int16]string    `json:"int_keys"`
	AnyMap   map[string]any      `json:"any_map"`
	ArrKeys  map[[2]int]bool     `json:"arr_keys"`
	AnyKeys  map[any]int         `json:"any_keys"`
	Arr      [3]uint16           `json:"arr"`
	Bytes    [2]byte             `json:"bytes"`
	Nested   [][]map[string]int8 `json:"nested"`
	F32      float32             `json:"f32"`
	Uptr     uintptr             `json:"uptr"`
	Ch       chan int            `json:"ch"`
	Iface    []any               `json:"iface"`
}

// FuzzCheckDecode: whatever Check lets through, Decode decodes without a
// panic, and only a type's own decoding method may still fail.
func FuzzCheckDecode(f *testing.F) {
	now := time.Unix(1700000000, 5).UTC()
	for _, seed := range []any{
		map[string]any{"A": "x", "emb": map[string]any{"note": "n"}, "any": []any{1, "a", nil}, "when": now, "when_p": now,
			"addr": "127.0.0.1", "raw": []int{1}, "pp": 3, "int_keys": map[int]string{1: "a"}, "any_map": map[string]any{"a": 1.5},
			"arr": []int{1, 2}, "bytes": "ab", "nested": [][]map[string]int{{{"a": 1}}}, "f32": float32(1.5), "uptr": 7, "iface": []any{map[string]any{}}},
		map[string]any{"reader": 1, "ch": nil, "hidden": nil, "hiddenP": map[string]any{}, "C": "x", "arr_keys": map[string]bool{}},
		map[string]any{"when": "not a time", "addr": 5, "pp": 300, "int_keys": map[string]string{"a": "b"}},
	} {
		f.Add(mustMarshal(f, seed))
	}
	f.Add([]byte{0x81, 0xa3, 'a', 'n', 'y', 0xd6, 0xff, 0, 0, 0, 0})      // a timestamp
	f.Add([]byte{0x81, 0xa3, 'a', 'n', 'y', 0xd6, 0x05, 0, 0, 0, 0})      // an unknown extension
	f.Add([]byte{0x81, 0xa4, 'w', 'h', 'e', 'n', 0xd6, 0xff, 0, 0, 0, 0}) // a timestamp into time.Time
	typ := mustTypeOf(reflect.TypeFor[oddBody]())
	f.Fuzz(func(t *testing.T, b []byte) {
		var got collect
		if err := Check(b, typ, "body", false, &got); err != nil || len(got) > 0 {
			return
		}
		var v oddBody
		_ = Decode(b, &v, false) // may fail (a time, an address, an extension the library does not know); must not panic
	})
}
