package auth_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/auth"
)

type twoIn struct {
	Partner *Client `plugin:"partner"`
	Admin   *Client `plugin:"admin"`
}

// Two plugins fill two fields of one type, told apart by Tag: an endpoint
// needs both credentials.
func TestTags(t *testing.T) {
	app := graft.New(graft.Config{})
	app.UsePlugins(
		auth.APIKey(auth.APIKeyConfig[*Client]{Keys: keys(), Tag: "partner"}),
		auth.Basic(auth.BasicConfig[*Client]{Tag: "admin", Credentials: []auth.Credential[*Client]{{User: "ada", Password: "pw", Value: &Client{Name: "ada"}}}}),
	)
	graft.Get(app, "/both", func(_ context.Context, in *twoIn) (*openOut, error) {
		return &openOut{Body: in.Partner.Name + "+" + in.Admin.Name}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, app)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ada:pw"))
	if res, body := do(t, srv, "GET", "/both", map[string]string{"X-API-Key": keyA, "Authorization": basic}, ""); res.StatusCode != 200 || body != "a+ada" {
		t.Errorf("both credentials: %d %s", res.StatusCode, body)
	}
	if res, body := do(t, srv, "GET", "/both", map[string]string{"X-API-Key": keyA}, ""); res.StatusCode != 401 {
		t.Errorf("API key only: %d %s", res.StatusCode, body)
	}
	if res, body := do(t, srv, "GET", "/both", map[string]string{"Authorization": basic}, ""); res.StatusCode != 401 {
		t.Errorf("basic only: %d %s", res.StatusCode, body)
	}
}
