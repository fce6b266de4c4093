package openapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/openapi"
)

type badExampleIn struct {
	Body struct {
		N int `json:"n" example:"many"`
	}
}

type badDeprecatedIn struct {
	Q string `query:"q" deprecated:"maybe"`
}

type okOut struct{ Body string }

func okHandler[In any](context.Context, *In) (*okOut, error) { return &okOut{}, nil }

// TestSetupMistakes: what makes a document impossible stops start-up with
// a message naming the endpoint (or the extension) and the fix.
func TestSetupMistakes(t *testing.T) {
	info := openapi.Info{Title: "T", Version: "1"}
	cases := []struct {
		name  string
		setup func(app *graft.App[graft.Ctx])
		want  []string
	}{
		{"no title", func(app *graft.App[graft.Ctx]) {
			app.Register(openapi.Extension(openapi.Info{Version: "1"}))
		}, []string{"graft.openapi", "Title and a Version"}},
		{"same operation id", func(app *graft.App[graft.Ctx]) {
			app.Register(openapi.Extension(info))
			graft.Get(app, "/a", okHandler[struct{}], graft.OperationID("x"))
			graft.Get(app, "/b", okHandler[struct{}], graft.OperationID("x"))
		}, []string{"GET /b", `operation id "x"`, "GET /a", "graft.OperationID"}},
		{"bad example", func(app *graft.App[graft.Ctx]) {
			app.Register(openapi.Extension(info))
			graft.Post(app, "/n", okHandler[badExampleIn])
		}, []string{"POST /n", "field", ".N", `example:"many"`}},
		{"bad deprecated tag", func(app *graft.App[graft.Ctx]) {
			app.Register(openapi.Extension(info))
			graft.Get(app, "/q", okHandler[badDeprecatedIn])
		}, []string{"GET /q", `param query "q"`, `deprecated:"maybe"`, `deprecated:"true"`}},
		{"two schemes, one name", func(app *graft.App[graft.Ctx]) {
			app.Register(openapi.Extension(info))
			n := 0
			app.UsePlugins(graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
				n++
				sig.AddSecurity(graft.SecurityScheme{Name: "auth", Type: "http", Scheme: []string{"bearer", "basic"}[n%2]})
				return next, nil
			}))
			graft.Get(app, "/a", okHandler[struct{}])
			graft.Get(app, "/b", okHandler[struct{}])
		}, []string{`security scheme "auth"`, "different names"}},
	}
	for _, tc := range cases {
		app := graft.New(graft.Config{})
		tc.setup(app)
		err := app.Start(t.Context())
		if err == nil {
			t.Errorf("%s: started", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
		if st, _, _ := fetchHandler(app, "/openapi.json"); st == http.StatusOK {
			t.Errorf("%s: the document is served after a failed start", tc.name)
		}
	}
}

func fetchHandler(h http.Handler, path string) (int, string, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w.Code, w.Header().Get("Content-Type"), w.Body.String()
}

// TestGroupScope: registered on a group, the extension serves under the
// group's prefix and describes only the group's endpoints (not a route
// whose path merely starts with the same letters).
func TestGroupScope(t *testing.T) {
	app := graft.New(graft.Config{})
	api := app.Group("/api")
	api.Register(openapi.Extension(openapi.Info{Title: "T", Version: "1"}))
	graft.Get(api, "/x", okHandler[struct{}])
	graft.Get(app, "/apiary", okHandler[struct{}])
	graft.Get(app, "/y", okHandler[struct{}])
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	st, _, body := fetchHandler(app, "/api/openapi.json")
	if st != http.StatusOK || !strings.Contains(body, `"/api/x"`) || strings.Contains(body, `"/apiary"`) || strings.Contains(body, `"/y"`) {
		t.Errorf("/api/openapi.json: %d %s", st, body)
	}
	if st, _, body := fetchHandler(app, "/api/docs"); st != http.StatusOK || !strings.Contains(body, `data-url="/api/openapi.json"`) || !strings.Contains(body, `src="/api/docs/swagger-ui-bundle.js"`) {
		t.Errorf("/api/docs: %d %s", st, body)
	}
	if st, _, _ := fetchHandler(app, "/openapi.json"); st != http.StatusNotFound {
		t.Errorf("/openapi.json outside the group: %d", st)
	}
}
