package di_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

func TestSealEndsRegistration(t *testing.T) {
	g := di.New()
	di.Provide(g, di.Singleton, di.Func0(func() (*C, error) { return &C{}, nil }))
	g.Seal("the server started")
	g.Seal("a second reason") // the first stays
	// What was registered still resolves.
	if _, err := di.Get[*C](g); err != nil {
		t.Fatal(err)
	}
	for name, reg := range map[string]func(){
		"Provide":       func() { di.Provide(g, di.Scoped, di.Func0(func() (*B, error) { return nil, nil })) },
		"Override":      func() { di.Override(g, di.Singleton, di.Func0(func() (*C, error) { return nil, nil })) },
		"Value":         func() { di.Value(g, &B{}) },
		"OverrideValue": func() { di.OverrideValue(g, &C{}) },
		"ProvideFunc":   func() { di.ProvideFunc(g, di.Scoped, func() (*B, error) { return nil, nil }) },
		"External":      func() { g.External(reflect.TypeFor[*B]()) },
		"ExternalFunc":  func() { g.ExternalFunc(func(reflect.Type) bool { return false }) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "seal_test.go:") || !strings.HasSuffix(msg, "after registration ended: the server started") {
					t.Fatalf("panic %q", msg)
				}
			}()
			reg()
		})
	}
}
