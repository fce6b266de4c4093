package mpbody

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// MaxDepth bounds the nesting of arrays and maps in a body, as
// encoding/json bounds JSON's: the decoder recurses once per level.
const MaxDepth = 10000

// SyntaxError is a body that is not exactly one well-formed msgpack value
// (malformed, truncated, nested too deeply or followed by more data).
type SyntaxError struct {
	Offset int // byte offset in the body where the problem is
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed msgpack at byte %d: %s", e.Offset, e.Msg)
}

// kind is the family of a msgpack value.
type kind uint8

const (
	kNil kind = iota
	kBool
	kInt  // a signed encoding (negative fixint, int 8–64)
	kUint // an unsigned encoding (positive fixint, uint 8–64)
	kFloat32
	kFloat64
	kStr
	kBin
	kArray
	kMap
	kExt
)

// head is the header of one value.
type head struct {
	kind kind
	n    int    // str, bin, ext: payload bytes (ext: with its type byte); array: items; map: pairs
	i    int64  // kInt value
	u    uint64 // kUint value
}

// describe names the value for messages, as encoding/json's errors do
// ("string", "number 300").
func (h head) describe() string {
	switch h.kind {
	case kNil:
		return "nil"
	case kBool:
		return "bool"
	case kInt:
		return "number " + strconv.FormatInt(h.i, 10)
	case kUint:
		return "number " + strconv.FormatUint(h.u, 10)
	case kFloat32, kFloat64:
		return "number"
	case kStr:
		return "string"
	case kBin:
		return "binary"
	case kArray:
		return "array"
	case kMap:
		return "object"
	}
	return "extension"
}

var errTruncated = "unexpected end of the body"

// readHead reads the header of the value at b[i:] and returns it with the
// offset of what follows the header (the payload of a str, bin or ext, the
// first item of an array or map). A length that cannot fit in what is left
// of b is refused here, before anything sized by it is allocated: every
// item takes at least one byte.
func readHead(b []byte, i int) (head, int, error) {
	if i >= len(b) {
		return head{}, i, &SyntaxError{Offset: i, Msg: errTruncated}
	}
	c := b[i]
	j := i + 1
	var h head
	switch {
	case c <= 0x7f:
		return head{kind: kUint, u: uint64(c)}, j, nil
	case c <= 0x8f:
		h = head{kind: kMap, n: int(c & 0x0f)}
	case c <= 0x9f:
		h = head{kind: kArray, n: int(c & 0x0f)}
	case c <= 0xbf:
		h = head{kind: kStr, n: int(c & 0x1f)}
	case c >= 0xe0:
		return head{kind: kInt, i: int64(int8(c))}, j, nil
	default:
		var w int // width of the length or value that follows
		switch c {
		case 0xc0:
			return head{kind: kNil}, j, nil
		case 0xc1:
			return head{}, i, &SyntaxError{Offset: i, Msg: "byte 0xc1 is never used"}
		case 0xc2, 0xc3:
			return head{kind: kBool}, j, nil
		case 0xc4, 0xc5, 0xc6:
			h.kind, w = kBin, 1<<(c-0xc4)
		case 0xc7, 0xc8, 0xc9:
			h.kind, w = kExt, 1<<(c-0xc7)
		case 0xca:
			h.kind, w = kFloat32, 4
		case 0xcb:
			h.kind, w = kFloat64, 8
		case 0xcc, 0xcd, 0xce, 0xcf:
			h.kind, w = kUint, 1<<(c-0xcc)
		case 0xd0, 0xd1, 0xd2, 0xd3:
			h.kind, w = kInt, 1<<(c-0xd0)
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
			h.kind, h.n = kExt, 1+1<<(c-0xd4)
		case 0xd9, 0xda, 0xdb:
			h.kind, w = kStr, 1<<(c-0xd9)
		case 0xdc, 0xdd:
			h.kind, w = kArray, 2<<(c-0xdc)
		case 0xde, 0xdf:
			h.kind, w = kMap, 2<<(c-0xde)
		}
		if len(b)-j < w {
			return head{}, i, &SyntaxError{Offset: i, Msg: errTruncated}
		}
		var x uint64
		switch w {
		case 1:
			x = uint64(b[j])
		case 2:
			x = uint64(binary.BigEndian.Uint16(b[j:]))
		case 4:
			x = uint64(binary.BigEndian.Uint32(b[j:]))
		case 8:
			x = binary.BigEndian.Uint64(b[j:])
		}
		j += w
		switch h.kind {
		case kUint:
			h.u = x
			return h, j, nil
		case kInt:
			switch w {
			case 1:
				h.i = int64(int8(x))
			case 2:
				h.i = int64(int16(x))
			case 4:
				h.i = int64(int32(x))
			default:
				h.i = int64(x)
			}
			return h, j, nil
		case kExt:
			if w > 0 {
				h.n = int(x) + 1 // the type byte
			}
		case kStr, kBin, kArray, kMap:
			h.n = int(x)
		}
	}
	left := len(b) - j
	switch h.kind {
	case kArray:
		if h.n > left {
			return head{}, i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("array of %d items in %d bytes", h.n, left)}
		}
	case kMap:
		if h.n > left/2 {
			return head{}, i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("map of %d pairs in %d bytes", h.n, left)}
		}
	default:
		if h.n > left {
			return head{}, i, &SyntaxError{Offset: i, Msg: errTruncated}
		}
	}
	return h, j, nil
}

// payloadEnd is the offset after the value whose header readHead returned
// at j; only for values without items.
func (h head) payloadEnd(j int) int {
	switch h.kind {
	case kStr, kBin, kExt:
		return j + h.n
	}
	return j
}

// skip returns the offset after the value at b[i:], which sits depth
// levels deep, checking that it is complete and nested at most MaxDepth
// levels. It does not recurse, so a hostile body costs no stack.
func skip(b []byte, i, depth int) (int, error) {
	var stackBuf [16]int
	stack := stackBuf[:0] // items left in each enclosing array or map
	need := 1
	for {
		for need == 0 {
			if len(stack) == 0 {
				return i, nil
			}
			need, stack = stack[len(stack)-1], stack[:len(stack)-1]
		}
		h, j, err := readHead(b, i)
		if err != nil {
			return i, err
		}
		need--
		switch h.kind {
		case kArray, kMap:
			items := h.n
			if h.kind == kMap {
				items *= 2
			}
			if items > 0 {
				if depth+len(stack)+1 > MaxDepth {
					return i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("nested more than %d levels deep", MaxDepth)}
				}
				stack = append(stack, need)
				need = items
			}
			i = j
		default:
			i = h.payloadEnd(j)
		}
	}
}

// Valid checks that b is exactly one well-formed msgpack value: nothing
// missing, nothing after it, lengths that fit, at most MaxDepth levels.
func Valid(b []byte) error {
	end, err := skip(b, 0, 0)
	if err != nil {
		return err
	}
	return trailing(b, end)
}

func trailing(b []byte, end int) error {
	if end != len(b) {
		return &SyntaxError{Offset: end, Msg: fmt.Sprintf("%d bytes after the value; a body holds one msgpack value", len(b)-end)}
	}
	return nil
}

// fitsInt reports whether the integer of h fits a signed integer of bits.
func (h head) fitsInt(bits int) bool {
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	if h.kind == kUint {
		return h.u <= uint64(hi)
	}
	return h.i >= lo && h.i <= hi
}

// fitsUint reports whether the integer of h fits an unsigned one of bits.
func (h head) fitsUint(bits int) bool {
	if h.kind == kInt {
		return h.i >= 0 && (bits == 64 || uint64(h.i) <= math.MaxUint64>>(64-bits))
	}
	return bits == 64 || h.u <= math.MaxUint64>>(64-bits)
}
