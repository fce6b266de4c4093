package graft

import (
	"reflect"
	"unsafe"

	"github.com/graftgo/graft/di"
)

// Location says where a request value comes from.
type Location string

// The locations of request values, as used in Param.In and in the
// locations of FieldError ("query.limit", "body.age").
const (
	InPath   Location = "path"
	InQuery  Location = "query"
	InHeader Location = "header"
	InCookie Location = "cookie"
	InForm   Location = "form"
	InBody   Location = "body"
)

// Signature describes one typed endpoint: what it reads from a request,
// what it needs from the dependency graph, what plugins supply and what it
// answers. It is lihil's EndpointSignature in Go.
//
// The request side (params, body, form, plugin params) and the returns are
// built from the In and Out types when the endpoint is registered;
// Dependencies, TransitiveParams and Scoped are filled at start-up, after
// the lifespan hooks ran, because only then is the graph complete. Plugins
// receive the Signature at start-up and may add to it (an auth plugin adds
// the Authorization header param and a 401 return). A param added with
// AddParam documents what a plugin reads itself; one added with
// PluginFieldRef.Bind is bound into the plugin field it fills, with the
// plugin's decoder. Plugins may also run code before binding (PreBind).
// OpenAPI generation reads the final Signature through SignatureOf.
type Signature struct {
	// Method is the HTTP method, e.g. "POST".
	Method string
	// Route is the full route pattern, group prefixes included.
	Route string
	// In and Out are the endpoint's input and output struct types.
	In, Out reflect.Type

	// PathParams, QueryParams, HeaderParams and CookieParams are the
	// request values bound into In, in field order.
	PathParams, QueryParams, HeaderParams, CookieParams []Param
	// Body is the request body bound into In's Body field, or nil.
	Body *BodyParam
	// Form describes the form fields (urlencoded or multipart), or nil.
	Form *FormMeta

	// Dependencies are In's `inject:""` fields, resolved from the graph.
	Dependencies []Dependency
	// TransitiveParams are request values that only dependencies need:
	// the fields of request structs (see Graph) that providers take.
	TransitiveParams []Param
	// Plugins are In's `plugin:""` fields: never read from the request,
	// filled by plugins.
	Plugins []PluginParam
	// Scoped reports whether a request needs a dependency scope (some
	// dependency is scoped, transient or request-bound).
	Scoped bool

	// Returns lists the responses: the default (success) from Out first,
	// then the problems the binder answers, the outcomes declared with
	// Responds and those plugins add (AddReturn).
	Returns []Return
	// Security lists the ways plugins accept a request's credentials
	// (AddSecurity); any one of them will do. Empty: no authentication.
	Security []SecurityRequirement

	plug pluginState // what plugins added at start-up: pre-bind hooks, bound params
}

// Static reports whether the endpoint reads nothing from the request and
// needs nothing from the graph or plugins: no params, no body, no form, no
// dependencies, no plugin params. A static endpoint is served without any
// binding work.
func (s *Signature) Static() bool {
	return len(s.PathParams) == 0 && len(s.QueryParams) == 0 && len(s.HeaderParams) == 0 &&
		len(s.CookieParams) == 0 && s.Body == nil && s.Form == nil &&
		len(s.Dependencies) == 0 && len(s.TransitiveParams) == 0 && len(s.Plugins) == 0
}

// DefaultReturn returns the default (success) response.
func (s *Signature) DefaultReturn() Return {
	if len(s.Returns) == 0 {
		return Return{Status: 200, MediaType: mediaJSON, Encoder: "json"}
	}
	return s.Returns[0]
}

// StatusCode returns the status of the default response.
func (s *Signature) StatusCode() int { return s.DefaultReturn().Status }

// MediaType returns the media type of the default response.
func (s *Signature) MediaType() string { return s.DefaultReturn().MediaType }

// Params returns every request param of the signature (path, query,
// header, cookie, then transitive), for generators that want one list.
func (s *Signature) Params() []Param {
	var ps []Param
	for _, l := range [][]Param{s.PathParams, s.QueryParams, s.HeaderParams, s.CookieParams, s.TransitiveParams} {
		ps = append(ps, l...)
	}
	return ps
}

// AddParam adds a request param the endpoint (or a plugin in front of it)
// reads, to the list of its location: PathParams, QueryParams,
// HeaderParams, CookieParams, or Form.Fields for InForm (Form is made when
// the endpoint had none; a File param makes it multipart). Plugins call it
// at start-up. A param without a known location, an InBody param (the
// body is described by Body, not by params) and a form field on an
// endpoint that reads a Body panic, which stops start-up naming the
// endpoint and the plugin.
func (s *Signature) AddParam(p Param) {
	switch p.In {
	case InPath:
		s.PathParams = append(s.PathParams, p)
	case InQuery:
		s.QueryParams = append(s.QueryParams, p)
	case InHeader:
		s.HeaderParams = append(s.HeaderParams, p)
	case InCookie:
		s.CookieParams = append(s.CookieParams, p)
	case InForm:
		if s.Body != nil {
			setupPanic("AddParam: form field %q on %s %s, which reads a %s body; a request has one body: add a form field only to form endpoints", p.Name, s.Method, s.Route, s.Body.Type)
		}
		if s.Form == nil {
			s.Form = newFormMeta(false)
		}
		s.Form.Multipart = s.Form.Multipart || p.File
		s.Form.Fields = append(s.Form.Fields, p)
	case InBody:
		setupPanic("AddParam: param %q with location body on %s %s; the body is not a param: describe it with Signature.Body", p.Name, s.Method, s.Route)
	default:
		setupPanic("AddParam: param %q on %s %s has location %q; use InPath, InQuery, InHeader, InCookie or InForm", p.Name, s.Method, s.Route, p.In)
	}
}

// AddReturn adds a possible response, e.g. a 401 from an auth plugin. A
// return with the status of an existing one replaces it.
func (s *Signature) AddReturn(r Return) {
	for i := range s.Returns {
		if s.Returns[i].Status == r.Status {
			s.Returns[i] = r
			return
		}
	}
	s.Returns = append(s.Returns, r)
}

// Param is one request value: a path, query, header, cookie or form field.
type Param struct {
	// Name is the name in the request ("id", "limit", "X-Token").
	Name string
	// In is where the value comes from.
	In Location
	// Field is the Go field it is bound to: an In field, the plugin field
	// of a param a plugin binds (PluginFieldRef.Bind), or "" for a param a
	// plugin reads itself (AddParam).
	Field string
	// Type is the Go type of the field.
	Type reflect.Type
	// Required reports whether the request must carry the value (path
	// params always must).
	Required bool
	// Default is the value used when the request lacks it (`default` tag).
	Default string
	// Doc describes the param (`doc` tag).
	Doc string
	// File reports a form file (*multipart.FileHeader).
	File bool
	// Constraints are its validation rules.
	Constraints Constraints
	// Explode is OpenAPI's explode for query and form params (style
	// form): true, the default, when a slice takes one item per key
	// (?ids=1&ids=2), false when it takes comma-separated items
	// (?ids=1,2; tag explode:"false"). A slice's Default is split by the
	// same rule. Header slices are comma-separated lists (style simple)
	// and report false.
	Explode bool
}

// Constraints are the validation rules of a field, from its struct tags:
// `min`, `max`, `minLength`, `maxLength`, `pattern`, `enum` (comma
// separated), `format` (email, uuid, date-time). OpenAPI reads the same
// values.
type Constraints struct {
	Min, Max             *float64
	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	Format               string
}

// BodyParam describes the request body bound into In's Body field.
type BodyParam struct {
	// Field is the Go field name ("Body").
	Field string
	// Type is the body's Go type.
	Type reflect.Type
	// MediaTypes are the accepted Content-Types.
	MediaTypes []string
	// Required reports whether an empty body is a 422 (the Body field is
	// not a pointer).
	Required bool
	// ForbidUnknown reports whether JSON object fields the type lacks are
	// rejected (422).
	ForbidUnknown bool
}

// FormMeta describes an endpoint that reads a form.
type FormMeta struct {
	// Multipart reports whether the form carries files (multipart/form-data
	// is then the only accepted media type).
	Multipart bool
	// Fields are the form fields, files included.
	Fields []Param
	// MaxFiles, MaxFields and MaxPartSize are the limits in force (see
	// FormLimits): files, fields that are not files, bytes of one field's
	// value. Over one, a request is answered 413.
	MaxFiles, MaxFields int
	MaxPartSize         int64
	// MaxMemory is how much of a multipart body's files is held in
	// memory; the rest goes to temporary files, removed when the request
	// ends.
	MaxMemory int64
}

// Dependency is an `inject:""` field of In.
type Dependency struct {
	// Field is the Go field name.
	Field string
	// Type is the type resolved from the graph.
	Type reflect.Type
	// Lifetime is its provider's lifetime (0 for external types).
	Lifetime di.Lifetime
	// RequestBound reports whether it needs a request scope.
	RequestBound bool
}

// PluginParam is a `plugin:""` field of In: binding never reads it from the
// request and OpenAPI never shows it; a plugin fills it (see PluginField).
// A plugin field that no applied plugin fills stops start-up.
type PluginParam struct {
	// Name is the Go field name.
	Name string
	// Type is the field's type.
	Type reflect.Type
	// Tag is the value of the plugin tag, free for plugins to interpret.
	Tag string

	offset uintptr
}

// Return is one possible response of an endpoint.
type Return struct {
	// Status is the HTTP status.
	Status int
	// Type is the body's Go type (nil when there is none).
	Type reflect.Type
	// MediaType is the default Content-Type of the body.
	MediaType string
	// Encoder names the default encoder: "json" (JSON, or a body codec of
	// the scope when Accept prefers it), "raw" ([]byte or string bodies), "stream"
	// (io.Reader bodies), "sse" (server-sent events of Type), "problem"
	// (errors) or "" (no body).
	Encoder string
	// Headers are the response headers Out sets.
	Headers []Param
	// Description says when it happens.
	Description string
}

// sigKey is the route meta key of an endpoint's Signature.
type sigKey struct{}

// Signature returns the signature of the typed endpoint registered on the
// route, or nil for a plain route.
func (ri *Route) Signature() *Signature { return SignatureOf(ri) }

// SignatureOf returns the signature of the typed endpoint ri registered,
// or nil for a plain route.
func SignatureOf(ri *Route) *Signature {
	v, _ := ri.Meta(sigKey{})
	s, _ := v.(*Signature)
	return s
}

// efaceData returns the data word of an interface value: the pointer
// itself when the dynamic type is a pointer.
func efaceData(v any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
}

// eface builds an interface value from a type word taken from another
// interface value of the same (pointer-shaped) dynamic type and a pointer.
func eface(typeWord, p unsafe.Pointer) any {
	var v any
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	w[0], w[1] = typeWord, p
	return v
}

// typeWord returns the type word of an interface value holding a value of
// pointer type ptrType (e.g. *Body), for eface.
func typeWord(ptrType reflect.Type) unsafe.Pointer {
	v := reflect.Zero(ptrType).Interface()
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0]
}
