package mpbody_test

import (
	"fmt"
	"reflect"

	"github.com/graftgo/graft/ext/msgpack/internal/mpbody"
)

type item struct {
	Name string `json:"name"`
	Qty  int8   `json:"qty,omitempty"`
}

// problems prints what Check reports.
type problems struct{}

func (problems) Full() bool { return false }

func (problems) Report(loc, msg string, got any) { fmt.Println(loc, msg, got) }

func Example() {
	b, _ := mpbody.Marshal(map[string]any{"name": 7, "qty": 300})
	typ, err := mpbody.TypeOf(reflect.TypeFor[item]())
	if err != nil {
		panic(err)
	}
	err = mpbody.Check(b, typ, "body", false, problems{})
	fmt.Println(err)

	b, _ = mpbody.Marshal(item{Name: "pen"}) // qty omitted: omitempty
	var it item
	fmt.Println(mpbody.Unmarshal(b, &it), it.Name)
	fmt.Println(mpbody.Unmarshal(append(b, 0xc0), &it))
	// Unordered output:
	// body.name must be a string number 7
	// body.qty must be an integer number 300
	// <nil>
	// <nil> pen
	// malformed msgpack at byte 10: 1 bytes after the value; a body holds one msgpack value
}
