package jsonstr_test

import (
	"fmt"

	"github.com/graftgo/graft/internal/jsonstr"
)

func ExampleAppend() {
	b := []byte(`{"msg":`)
	b = jsonstr.Append(b, "say \"hi\" <b>\n", true)
	fmt.Println(string(append(b, '}')))
	// Output: {"msg":"say \"hi\" \u003cb\u003e\n"}
}
