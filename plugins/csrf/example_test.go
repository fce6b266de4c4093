package csrf_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/csrf"
)

type commentPageIn struct {
	CSRF csrf.TokenValue `plugin:""`
}

type commentPageOut struct{ Body string }

type commentIn struct {
	Text string `form:"text"`
}

type commentOut struct{ Body string }

// A page renders the token into its form; the form's POST is accepted
// with the cookie and the field, and refused without the field.
func Example() {
	app := graft.New(graft.Config{})
	app.UsePlugins(csrf.New(csrf.Config{
		Keys:           [][]byte{[]byte("an example key of 32 bytes or more")},
		InsecureCookie: true, // the example serves plain HTTP
	}))
	graft.Get(app, "/comment", func(_ context.Context, in *commentPageIn) (*commentPageOut, error) {
		return &commentPageOut{Body: string(in.CSRF)}, nil // <input type=hidden name=csrf_token value=…>
	})
	graft.Post(app, "/comment", func(_ context.Context, in *commentIn) (*commentOut, error) {
		return &commentOut{Body: "posted " + in.Text}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/comment")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	cookie := res.Cookies()[0]
	for _, form := range []string{"text=hello&csrf_token=" + cookie.Value, "text=hello"} {
		req, _ := http.NewRequest("POST", srv.URL+"/comment", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode)
	}
	// Output:
	// 200
	// 403
}
