package schema_test

import (
	"fmt"
	"reflect"

	"github.com/graftgo/graft/internal/schema"
)

type Audit struct {
	By string `json:"by" required:"true"`
}

type Pet struct {
	Audit
	Name string `json:"name" minLength:"1" maxLength:"40" doc:"the pet's name"`
	Age  *int   `json:"age,omitempty" min:"0"`
}

func ExampleStructOf() {
	s, err := schema.StructOf(reflect.TypeFor[Pet]())
	if err != nil {
		panic(err)
	}
	for _, f := range s.Fields {
		fmt.Println(f.Name, f.Index, f.Required, f.OmitEmpty, f.Checked())
	}
	// Output:
	// by [0 0] true false true
	// name [1] false false true
	// age [2] false true true
}
