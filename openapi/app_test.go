package openapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/openapi/internal/fixture/a"
	"github.com/graftgo/graft/openapi/internal/fixture/b"
)

// The feature app: one endpoint per thing the document describes.

// Address is embedded in Pet: its fields are Pet's, as encoding/json
// flattens them.
type Address struct {
	City string `json:"city" example:"Utrecht" doc:"the city"`
}

// Pet is a JSON body and answer.
type Pet struct {
	Address
	ID       int64           `json:"id" example:"42"`
	Name     string          `json:"name" required:"true" minLength:"1" maxLength:"64" example:"Rex"`
	Kind     string          `json:"kind" enum:"dog,cat,bird" example:"dog"`
	Age      *int            `json:"age,omitempty" min:"0" max:"40" example:"3"`
	Nickname *string         `json:"nickname,omitempty" example:"R" deprecated:"true" doc:"use name"`
	Tags     []string        `json:"tags,omitempty" maxLength:"10" pattern:"^[a-z]+$" example:"[\"good\"]"`
	Owner    *Owner          `json:"owner,omitempty"`
	Born     time.Time       `json:"born" example:"2020-01-02T03:04:05Z"`
	Weight   float64         `json:"weight,string" example:"12.5"`
	Secret   string          `json:"-"`
	Photo    []byte          `json:"photo,omitempty"`
	Extra    map[string]any  `json:"extra,omitempty" doc:"anything else"`
	Raw      json.RawMessage `json:"raw,omitempty"`
	internal int
}

// Owner is referenced from Pet.
type Owner struct {
	Email string `json:"email" format:"email" required:"true" example:"ada@example.com"`
}

// Page is generic: each instantiation is its own component.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty" example:"abc"`
}

// Conflict is a declared outcome's body.
type Conflict struct {
	Current Pet `json:"current"`
}

type getPetIn struct {
	ID     int64    `path:"id" min:"1" doc:"the pet's id" example:"42"`
	Fields []string `query:"fields" explode:"false" enum:"name,kind" doc:"fields to return"`
	Tags   []string `query:"tag" doc:"filter by tags"`
	Limit  int      `query:"limit" default:"20" min:"1" max:"100"`
	Trace  string   `header:"X-Trace" doc:"a trace id" deprecated:"true"`
	Sess   string   `cookie:"session"`
	Tenant string   `plugin:""` // bound by the tenant plugin: a header param
	Caller *Caller  `plugin:""` // filled by the auth plugin: never in the document
}

// Caller is what the auth plugin puts into endpoints.
type Caller struct{ Name string }

type petOut struct {
	ETag string `header:"ETag" doc:"the pet's version"`
	Body Pet
}

func getPet(_ context.Context, in *getPetIn) (*petOut, error) {
	return &petOut{Body: Pet{ID: in.ID, Name: "Rex"}}, nil
}

type putPetIn struct {
	ID   int64 `path:"id"`
	Body Pet
}

func putPet(_ context.Context, in *putPetIn) (*petOut, error) {
	if in.Body.Name == "taken" {
		return nil, graft.Respond(http.StatusConflict, Conflict{Current: in.Body})
	}
	return &petOut{Body: in.Body}, nil
}

type listIn struct {
	Cursor string `query:"cursor"`
}

type listOut struct{ Body Page[Pet] }

func listPets(context.Context, *listIn) (*listOut, error) { return &listOut{}, nil }

type usersOut struct {
	Body struct {
		A  Page[a.User] `json:"a"`
		B  b.User       `json:"b"`
		BS Page[b.User] `json:"bs"`
	}
}

func listUsers(context.Context, *struct{}) (*usersOut, error) { return &usersOut{}, nil }

type formIn struct {
	Name  string   `form:"name" required:"true" example:"Rex"`
	Kinds []string `form:"kinds" explode:"false" example:"[\"dog\",\"cat\"]"`
}

func postForm(context.Context, *formIn) (*graft.NoContent, error) { return nil, nil }

type uploadIn struct {
	Title  string                  `form:"title" doc:"the album's title"`
	Cover  *multipart.FileHeader   `form:"cover" required:"true"`
	Photos []*multipart.FileHeader `form:"photos"`
}

type uploadOut struct {
	Status int `default:"201"`
	Body   struct {
		Stored int `json:"stored" example:"3"`
	}
}

func upload(context.Context, *uploadIn) (*uploadOut, error) { return &uploadOut{}, nil }

type htmlOut struct {
	Body io.Reader `mediaType:"text/html; charset=utf-8"`
}

func page(context.Context, *struct{}) (*htmlOut, error) {
	return &htmlOut{Body: strings.NewReader("<p>hi</p>")}, nil
}

type fileIn struct {
	Path string `path:"path"`
}

type fileOut struct{ Body []byte }

func download(context.Context, *fileIn) (*fileOut, error) { return &fileOut{Body: []byte("x")}, nil }

// Tick is an event of the stream.
type Tick struct {
	N int `json:"n" example:"1"`
}

func ticks(_ context.Context, _ *struct{}, s *graft.Stream[Tick]) error { return s.Send(Tick{N: 1}) }

type deletePetIn struct {
	ID int64 `path:"id"`
}

func deletePet(context.Context, *deletePetIn) (*graft.NoContent, error) { return nil, nil }

// bearer is the auth plugin's security scheme.
var bearer = graft.SecurityScheme{Name: "bearerAuth", Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "a token from /login"}

// authPlugin guards every endpoint with a *Caller field: it binds the
// Authorization header, adds the scheme and the 401.
func authPlugin() graft.Plugin {
	return graft.NamedPlugin("auth", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		f := graft.PluginField[*Caller](sig)
		if f == nil {
			return next, nil
		}
		f.Bind(graft.Param{Name: "Authorization", In: graft.InHeader, Required: true}, func(_ *graft.Ctx, raw string) (*Caller, error) {
			return &Caller{Name: strings.TrimPrefix(raw, "Bearer ")}, nil
		})
		sig.AddSecurity(bearer)
		sig.AddReturn(graft.Return{Status: http.StatusUnauthorized, Type: reflect.TypeFor[graft.Problem](), MediaType: "application/problem+json", Encoder: "problem", Description: "no valid token"})
		return next, nil
	}))
}

// tenantPlugin binds the X-Tenant header into the endpoint's string plugin
// field: a param the document shows.
func tenantPlugin() graft.Plugin {
	return graft.NamedPlugin("tenant", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		f := graft.PluginField[string](sig)
		if f == nil {
			return next, nil
		}
		f.Bind(graft.Param{Name: "X-Tenant", In: graft.InHeader, Doc: "the tenant", Constraints: graft.Constraints{Pattern: "^[a-z]+$"}}, func(_ *graft.Ctx, raw string) (string, error) { return raw, nil })
		return next, nil
	}))
}

// featureApp is the app with every feature; the docs extension is
// registered on it.
func featureApp() (*graft.App[graft.Ctx], *openapi.Ext) {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ext := openapi.Extension(openapi.Info{Title: "Pets", Version: "1.2.3", Description: "Every feature of the generator.", Servers: []openapi.Server{{URL: "https://pets.example.com", Description: "production"}}})
	app.Register(ext) // (bodies in a body codec are documented where it is registered: ext/msgpack's TestOpenAPIMsgpackBody)
	app.UsePlugins(authPlugin(), tenantPlugin())
	pets := app.Group("/pets", graft.Tags("pets"))
	graft.Get(pets, "", listPets, graft.Summary("List pets"), graft.OperationID("listPets"))
	graft.Get(pets, "/{id}", getPet, graft.Summary("Get a pet"), graft.Description("Reads one pet. Needs a token."),
		graft.Responds[graft.Problem](http.StatusNotFound, "no such pet"))
	graft.Put(pets, "/{id}", putPet, graft.Responds[Conflict](http.StatusConflict, "the name is taken"))
	graft.Delete(pets, "/{id}", deletePet, graft.Deprecated())
	graft.Post(app, "/forms", postForm, graft.Tags("forms"))
	graft.Post(app, "/albums", upload, graft.Tags("forms"))
	graft.Get(app, "/users", listUsers)
	graft.Get(app, "/page", page)
	graft.Get(app, "/files/{path...}", download)
	graft.SSE(app, "/ticks", ticks)
	app.GET("/plain", func(c *graft.Ctx) error { return c.Text(http.StatusOK, "not in the document") })
	return app, ext
}
