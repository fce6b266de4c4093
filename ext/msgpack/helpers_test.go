package msgpack_test

import (
	"bytes"
	"io"

	"github.com/graftgo/graft/ext/msgpack"
)

func mustMarshal(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
