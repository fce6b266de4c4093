package di_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

// AuthHeaders is a request-bound struct, recognised by its tags.
type AuthHeaders struct {
	Token string `header:"X-Token"`
}

type (
	User    struct{ name string }
	Service struct {
		user *User
		ctx  context.Context
	}
)

// hasRequestTags is the kind of predicate a binder passes to ExternalFunc.
func hasRequestTags(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for f := range t.Fields() {
		if _, ok := f.Tag.Lookup("header"); ok {
			return true
		}
	}
	return false
}

func externalGraph() *di.Graph {
	g := di.New()
	g.External(reflect.TypeFor[*http.Request](), reflect.TypeFor[context.Context]())
	g.ExternalFunc(hasRequestTags)
	di.Provide(g, di.Singleton, di.Func0(func() (*DB, error) { return &DB{}, nil }))
	di.Provide(g, di.Scoped, di.Func2(func(db *DB, h AuthHeaders) (*User, error) {
		if h.Token == "" {
			return nil, errors.New("no token")
		}
		return &User{name: h.Token}, nil
	}))
	di.Provide(g, di.Transient, di.Func2(func(u *User, ctx context.Context) (*Service, error) {
		return &Service{user: u, ctx: ctx}, nil
	}))
	return g
}

func TestExternalsOf(t *testing.T) {
	g := externalGraph()
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ  reflect.Type
		want []reflect.Type
	}{
		{reflect.TypeFor[*DB](), nil},
		{reflect.TypeFor[*User](), []reflect.Type{reflect.TypeFor[AuthHeaders]()}},
		{reflect.TypeFor[*Service](), []reflect.Type{reflect.TypeFor[AuthHeaders](), reflect.TypeFor[context.Context]()}},
		{reflect.TypeFor[*http.Request](), []reflect.Type{reflect.TypeFor[*http.Request]()}},
	}
	for _, tt := range tests {
		got, err := g.ExternalsOf(tt.typ)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ExternalsOf(%v) = %v, want %v", tt.typ, got, tt.want)
		}
	}
	if _, err := g.ExternalsOf(reflect.TypeFor[*X]()); !errors.Is(err, di.ErrNoProvider) {
		t.Errorf("unknown type: %v", err)
	}
	if !g.IsExternal(reflect.TypeFor[AuthHeaders]()) || g.IsExternal(reflect.TypeFor[*DB]()) {
		t.Error("IsExternal")
	}
}

type source struct {
	req   *http.Request
	calls map[reflect.Type]int
}

func (s *source) External(t reflect.Type) (any, error) {
	s.calls[t]++
	switch t {
	case reflect.TypeFor[*http.Request]():
		return s.req, nil
	case reflect.TypeFor[context.Context]():
		return s.req.Context(), nil
	case reflect.TypeFor[AuthHeaders]():
		return AuthHeaders{Token: s.req.Header.Get("X-Token")}, nil
	}
	return nil, errors.New("unknown external")
}

func TestExternalSource(t *testing.T) {
	g := externalGraph()
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("X-Token", "alice")
	src := &source{req: req, calls: map[reflect.Type]int{}}
	s := g.NewScope(src)
	defer s.Close()
	for range 3 {
		svc, err := di.Resolve[*Service](s)
		if err != nil {
			t.Fatal(err)
		}
		if svc.user.name != "alice" || svc.ctx != req.Context() {
			t.Fatalf("got %+v", svc)
		}
	}
	// Resolvers work for external types too, by type or generically.
	r, err := g.Resolver(reflect.TypeFor[*http.Request]())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := r.Resolve(s); err != nil || v.(*http.Request) != req {
		t.Fatal(err)
	}
	if v, err := di.Resolve[AuthHeaders](s); err != nil || v.Token != "alice" {
		t.Fatal(err)
	}
	for typ, n := range src.calls {
		if n != 1 {
			t.Errorf("source asked %d times for %v", n, typ)
		}
	}
}

func TestSetExternal(t *testing.T) {
	g := externalGraph()
	s := g.NewScope(nil)
	defer s.Close()
	if err := s.SetExternal(reflect.TypeFor[AuthHeaders](), AuthHeaders{Token: "bob"}); err != nil {
		t.Fatal(err)
	}
	if u, err := di.Resolve[*User](s); err != nil || u.name != "bob" {
		t.Fatal(u, err)
	}
	// context.Context is neither set nor sourced.
	_, err := di.Resolve[*Service](s)
	if !errors.Is(err, di.ErrNoSource) || !strings.HasPrefix(err.Error(), "di: external context.Context: ") {
		t.Fatalf("got %v", err)
	}
	if err := s.SetExternal(reflect.TypeFor[context.Context](), 42); err == nil {
		t.Fatal("wrong type accepted")
	}
	if err := s.SetExternal(reflect.TypeFor[*DB](), &DB{}); err == nil {
		t.Fatal("non-external accepted")
	}
	if err := s.SetExternal(reflect.TypeFor[context.Context](), context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := di.Resolve[*Service](s); err != nil {
		t.Fatal(err)
	}
}

func TestExternalSourceErrors(t *testing.T) {
	g := externalGraph()
	tests := []struct {
		name string
		src  di.SourceFunc
		want string
	}{
		{"source error", func(reflect.Type) (any, error) { return nil, errors.New("bad header") },
			"di: external di_test.AuthHeaders: bad header"},
		{"wrong type", func(reflect.Type) (any, error) { return "str", nil },
			"di: external di_test.AuthHeaders: source returned a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := g.NewScope(tt.src)
			defer s.Close()
			_, err := di.Resolve[*User](s)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
