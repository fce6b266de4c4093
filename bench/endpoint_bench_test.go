package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/go-playground/validator/v10"
	"github.com/graftgo/graft"
	"github.com/labstack/echo/v4"
)

// The typed endpoint of issue 5, the same in every framework:
//
//	POST /users/{id}?limit=N   {"name": "...", "age": N}
//
// id is an int >= 1 (path), limit an int in 1..100 defaulting to 10
// (query), name a required string of 1..50 runes and age an int in 0..150
// (JSON body). A valid request is answered 200 with
// {"id":..,"name":..,"age":..,"limit":..}; bad input with 422 (every
// implementation here; gin's own Bind would say 400, its ShouldBind leaves
// the status to the handler, which says 422).

// endpointOut is the response body of every implementation.
type endpointOut struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Age   int    `json:"age"`
	Limit int    `json:"limit"`
}

// graft: the validation is in the tags, the handler only copies.

type graftUserBody struct {
	Name string `json:"name" required:"true" minLength:"1" maxLength:"50"`
	Age  int    `json:"age" min:"0" max:"150"`
}

type graftUserIn struct {
	ID    int `path:"id" min:"1"`
	Limit int `query:"limit" default:"10" min:"1" max:"100"`
	Body  graftUserBody
}

type graftUserOut struct{ Body endpointOut }

func graftUser(_ context.Context, in *graftUserIn) (*graftUserOut, error) {
	return &graftUserOut{Body: endpointOut{ID: in.ID, Name: in.Body.Name, Age: in.Body.Age, Limit: in.Limit}}, nil
}

func loadGraftEndpoint(tb testing.TB) http.Handler {
	app := graft.New(graft.Config{Logger: quietLogger})
	graft.Post(app, "/users/{id}", graftUser)
	return startGraft(tb, app)
}

// nethttp: the same work by hand on a ServeMux with encoding/json.

type fieldProblem struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

type userProblem struct {
	Status int            `json:"status"`
	Errors []fieldProblem `json:"errors"`
}

type netHTTPUserBody struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

func netHTTPUser(w http.ResponseWriter, r *http.Request) { handUser(w, r, r.PathValue("id")) }

// handUser is the by-hand endpoint of the routers without binding (net/http,
// chi), given the id path parameter as the router reads it.
func handUser(w http.ResponseWriter, r *http.Request, idParam string) {
	var errs []fieldProblem
	id, err := strconv.Atoi(idParam)
	if err != nil || id < 1 {
		errs = append(errs, fieldProblem{"path.id", "must be an integer >= 1"})
	}
	limit := 10
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 100 {
			errs = append(errs, fieldProblem{"query.limit", "must be an integer in 1..100"})
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		http.Error(w, "unsupported media type", http.StatusUnsupportedMediaType)
		return
	}
	var body netHTTPUserBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "malformed body", http.StatusBadRequest)
		return
	}
	if n := utf8.RuneCountInString(body.Name); n < 1 || n > 50 {
		errs = append(errs, fieldProblem{"body.name", "length must be 1..50"})
	}
	if body.Age < 0 || body.Age > 150 {
		errs = append(errs, fieldProblem{"body.age", "must be in 0..150"})
	}
	if len(errs) > 0 {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(userProblem{Status: http.StatusUnprocessableEntity, Errors: errs})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(endpointOut{ID: id, Name: body.Name, Age: body.Age, Limit: limit})
}

func loadNetHTTPEndpoint(testing.TB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users/{id}", netHTTPUser)
	return mux
}

// gin: ShouldBindUri, ShouldBindQuery and ShouldBindJSON with binding tags
// (go-playground/validator), on gin.New() (no middleware).

type ginUserURI struct {
	ID int `uri:"id" binding:"required,min=1"`
}

type ginUserQuery struct {
	Limit int `form:"limit,default=10" binding:"min=1,max=100"`
}

type ginUserBody struct {
	Name string `json:"name" binding:"required,min=1,max=50"`
	Age  int    `json:"age" binding:"min=0,max=150"`
}

func ginUser(c *gin.Context) {
	var (
		uri   ginUserURI
		query ginUserQuery
		body  ginUserBody
		errs  []string
	)
	// Every source is bound and checked before answering, so that a 422
	// lists each failing field as the other peers' answers do.
	if err := c.ShouldBindUri(&uri); err != nil {
		errs = append(errs, err.Error())
	}
	if err := c.ShouldBindQuery(&query); err != nil {
		errs = append(errs, err.Error())
	}
	if err := c.ShouldBindJSON(&body); err != nil {
		var ve validator.ValidationErrors
		if !errors.As(err, &ve) {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		for _, fe := range ve {
			errs = append(errs, fe.Error())
		}
	}
	if len(errs) > 0 {
		c.JSON(http.StatusUnprocessableEntity, gin.H{"status": 422, "errors": errs})
		return
	}
	c.JSON(http.StatusOK, endpointOut{ID: uri.ID, Name: body.Name, Age: body.Age, Limit: query.Limit})
}

func loadGinEndpoint(testing.TB) http.Handler {
	e := gin.New()
	e.POST("/users/:id", ginUser)
	return e
}

// Huma v2 on its net/http adapter (humago over a ServeMux).

type humaUserIn struct {
	ID    int `path:"id" minimum:"1"`
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"10"`
	Body  struct {
		Name string `json:"name" minLength:"1" maxLength:"50"`
		Age  int    `json:"age" minimum:"0" maximum:"150" required:"false"`
	}
}

type humaUserOut struct{ Body endpointOut }

func humaUser(_ context.Context, in *humaUserIn) (*humaUserOut, error) {
	return &humaUserOut{Body: endpointOut{ID: in.ID, Name: in.Body.Name, Age: in.Body.Age, Limit: in.Limit}}, nil
}

// loadHuma builds the Huma API. huma.DefaultConfig installs a create hook
// that adds a Link header and a "$schema" field to every JSON response;
// "huma" drops it (CreateHooks = nil, as Huma documents) so that it answers
// the same JSON as the others, "huma-default" keeps it.
func loadHuma(schemaLinks bool) func(testing.TB) http.Handler {
	return func(testing.TB) http.Handler {
		mux := http.NewServeMux()
		cfg := huma.DefaultConfig("bench", "1.0")
		if !schemaLinks {
			cfg.CreateHooks = nil
		}
		api := humago.New(mux, cfg)
		huma.Register(api, huma.Operation{
			OperationID: "post-user",
			Method:      http.MethodPost,
			Path:        "/users/{id}",
		}, humaUser)
		return mux
	}
}

// chi: the by-hand endpoint with chi's parameter.
func loadChiEndpoint(testing.TB) http.Handler {
	rt := chi.NewRouter()
	rt.Post("/users/{id}", func(w http.ResponseWriter, r *http.Request) { handUser(w, r, chi.URLParam(r, "id")) })
	return rt
}

// echo: its fluent binders for the path and query params (so that a bad
// value is a field error, not c.Bind's 400), DefaultBinder.BindBody for the
// JSON body, and go-playground/validator as echo's guide sets it up
// (e.Validator).

type echoUserIn struct {
	Name string `json:"name" validate:"required,min=1,max=50"`
	Age  int    `json:"age" validate:"min=0,max=150"`
}

type echoValidator struct{ v *validator.Validate }

func (ev echoValidator) Validate(i any) error { return ev.v.Struct(i) }

func loadEchoEndpoint(testing.TB) http.Handler {
	e := echo.New()
	e.Validator = echoValidator{validator.New()}
	e.POST("/users/:id", func(c echo.Context) error {
		var in echoUserIn
		if err := (&echo.DefaultBinder{}).BindBody(c, &in); err != nil {
			return c.JSON(http.StatusBadRequest, map[string]any{"status": 400, "detail": err.Error()})
		}
		var errs []string
		var id int
		if err := echo.PathParamsBinder(c).MustInt("id", &id).BindError(); err != nil || id < 1 {
			errs = append(errs, "path.id must be an integer >= 1")
		}
		limit := 10
		if err := echo.QueryParamsBinder(c).Int("limit", &limit).BindError(); err != nil || limit < 1 || limit > 100 {
			errs = append(errs, "query.limit must be an integer in 1..100")
		}
		if err := c.Validate(&in); err != nil {
			var ve validator.ValidationErrors
			if !errors.As(err, &ve) {
				return err
			}
			for _, fe := range ve {
				errs = append(errs, fe.Error())
			}
		}
		if len(errs) > 0 {
			return c.JSON(http.StatusUnprocessableEntity, map[string]any{"status": 422, "errors": errs})
		}
		return c.JSON(http.StatusOK, endpointOut{ID: id, Name: in.Name, Age: in.Age, Limit: limit})
	})
	return e
}

var endpointPeers = []app{
	{"graft", loadGraftEndpoint},
	{"nethttp", loadNetHTTPEndpoint},
	{"chi", loadChiEndpoint},
	{"gin", loadGinEndpoint},
	{"echo", loadEchoEndpoint},
	{"huma", loadHuma(false)},
	{"huma-default", loadHuma(true)},
}

const (
	endpointTarget = "/users/42?limit=10"
	endpointBody   = `{"name":"Ada Lovelace","age":36}`
	endpointWant   = `{"id":42,"name":"Ada Lovelace","age":36,"limit":10}`
)

var endpointPayload = []byte(endpointBody)

// reusableBody is a request body that can be rewound without allocating.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

func endpointRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// serveEndpoint answers one request through a recorder: status and body
// with the trailing newline some encoders add trimmed, and the "$schema"
// field Huma's schema links add removed.
func serveEndpoint(h http.Handler, target, body string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, endpointRequest(target, body))
	out := bytes.TrimSpace(rec.Body.Bytes())
	if rec.Code == http.StatusOK && bytes.Contains(out, []byte(`"$schema"`)) {
		var m map[string]any
		if err := json.Unmarshal(out, &m); err == nil {
			delete(m, "$schema")
			var v endpointOut
			b, _ := json.Marshal(m)
			if json.Unmarshal(b, &v) == nil {
				out, _ = json.Marshal(v)
			}
		}
	}
	return rec.Code, string(out)
}

func TestEndpointPeersAgree(t *testing.T) {
	bad := []struct{ name, target, body string }{
		{"bad id", "/users/abc?limit=10", endpointBody},
		{"id 0", "/users/0?limit=10", endpointBody},
		{"limit 500", "/users/42?limit=500", endpointBody},
		{"empty name", endpointTarget, `{"name":"","age":36}`},
		{"age 200", endpointTarget, `{"name":"Ada Lovelace","age":200}`},
	}
	for _, p := range endpointPeers {
		t.Run(p.name, func(t *testing.T) {
			h := p.load(t)
			if code, got := serveEndpoint(h, endpointTarget, endpointBody); code != http.StatusOK || got != endpointWant {
				t.Errorf("valid: %d %s, want 200 %s", code, got, endpointWant)
			}
			// limit absent: the default, 10.
			if code, got := serveEndpoint(h, "/users/42", endpointBody); code != http.StatusOK || got != endpointWant {
				t.Errorf("default limit: %d %s, want 200 %s", code, got, endpointWant)
			}
			// age absent: 0, it is not required.
			if code, got := serveEndpoint(h, endpointTarget, `{"name":"Ada"}`); code != http.StatusOK ||
				got != `{"id":42,"name":"Ada","age":0,"limit":10}` {
				t.Errorf("no age: %d %s", code, got)
			}
			for _, c := range bad {
				if code, got := serveEndpoint(h, c.target, c.body); code != http.StatusUnprocessableEntity {
					t.Errorf("%s: %d %s, want 422", c.name, code, got)
				}
			}
		})
	}
}

// The 422 case: three fields from three sources fail (path id 0, query
// limit 500, body age 200), and every peer answers 422 listing all three.
const (
	endpoint422Target = "/users/0?limit=500"
	endpoint422Body   = `{"name":"Ada Lovelace","age":200}`
)

var endpoint422Payload = []byte(endpoint422Body)

// TestEndpointPeers422 checks that every peer answers the three-field case
// with 422 and an "errors" list of three, so that none wins
// BenchmarkEndpoint422 by stopping at the first failure.
func TestEndpointPeers422(t *testing.T) {
	for _, p := range endpointPeers {
		t.Run(p.name, func(t *testing.T) {
			code, got := serveEndpoint(p.load(t), endpoint422Target, endpoint422Body)
			var m struct {
				Errors []json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal([]byte(got), &m); err != nil || code != http.StatusUnprocessableEntity || len(m.Errors) != 3 {
				t.Errorf("%d %s (%v), want 422 listing 3 errors", code, got, err)
			}
		})
	}
}

// BenchmarkEndpoint422 serves the three-field 422 per op.
func BenchmarkEndpoint422(b *testing.B) {
	for _, p := range endpointPeers {
		b.Run(p.name, func(b *testing.B) {
			benchEndpoint(b, p.load(b), endpoint422Target, endpoint422Payload, http.StatusUnprocessableEntity)
		})
	}
}

// benchEndpoint serves one POST per op through the discarding writer,
// with the body rewound each time; like benchRequests it also reports
// cpu-ns/op.
func benchEndpoint(b *testing.B, h http.Handler, target string, payload []byte, want int) {
	w := newDiscardWriter()
	body := &reusableBody{}
	r := endpointRequest(target, string(payload))
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	n := 0
	for b.Loop() {
		body.Reset(payload)
		r.Body = body
		h.ServeHTTP(w, r)
		n++
	}
	if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
	if w.status != 0 && w.status != want {
		b.Fatalf("status %d, want %d", w.status, want)
	}
}

// BenchmarkEndpointPeers serves the valid request per op through the
// discarding writer, with the body rewound each time; like benchRequests it
// also reports cpu-ns/op.
func BenchmarkEndpointPeers(b *testing.B) {
	for _, p := range endpointPeers {
		b.Run(p.name, func(b *testing.B) {
			h := p.load(b)
			if code, got := serveEndpoint(h, endpointTarget, endpointBody); code != http.StatusOK || got != endpointWant {
				b.Fatalf("%d %s", code, got)
			}
			benchEndpoint(b, h, endpointTarget, endpointPayload, http.StatusOK)
		})
	}
}
