package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/auth"
)

// Partner is who an API key belongs to.
type Partner struct{ Name string }

type statsIn struct {
	Partner *Partner `plugin:""`
}

type statsOut struct{ Body string }

// An endpoint that asks for a *Partner is guarded by the API-key plugin;
// the key's owner arrives in the field.
func ExampleAPIKey() {
	app := graft.New(graft.Config{})
	app.UsePlugins(auth.APIKey(auth.APIKeyConfig[*Partner]{
		Keys: []auth.Key[*Partner]{{Key: "pk_live_0123456789abcdef", Value: &Partner{Name: "acme"}}},
	}))
	graft.Get(app, "/stats", func(_ context.Context, in *statsIn) (*statsOut, error) {
		return &statsOut{Body: "stats for " + in.Partner.Name}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	for _, key := range []string{"", "pk_live_0123456789abcdef"} {
		req, _ := http.NewRequest("GET", srv.URL+"/stats", nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, string(b))
	}
	// Output:
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"send the API key in the header X-API-Key","instance":"/stats"}
	// 200 stats for acme
}

// HTTP basic with fixed credentials, compared in constant time.
func ExampleBasic() {
	app := graft.New(graft.Config{})
	app.UsePlugins(auth.Basic(auth.BasicConfig[*Partner]{Realm: "admin",
		Credentials: []auth.Credential[*Partner]{{User: "ada", Password: "correct horse", Value: &Partner{Name: "ada"}}},
	}))
	graft.Get(app, "/stats", func(_ context.Context, in *statsIn) (*statsOut, error) {
		return &statsOut{Body: "stats for " + in.Partner.Name}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/stats", nil)
	req.SetBasicAuth("ada", "correct horse")
	res, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(b))
	// Output: 200 stats for ada
}
