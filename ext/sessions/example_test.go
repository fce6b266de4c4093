package sessions_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
)

// AppCtx is an app context with the session mixin.
type AppCtx struct {
	graft.Ctx
	sessions.Access
}

func Example() {
	app := graft.NewWithContext[AppCtx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: sessions.NewMemoryStore()}))
	app.GET("/login", func(c *AppCtx) error {
		s := c.Session()
		s.Regenerate()
		s.Set("user", c.Query("user"))
		return c.Text(200, "welcome")
	})
	app.GET("/me", func(c *AppCtx) error {
		user, ok := c.Session().Get("user")
		if !ok {
			return c.Text(401, "log in first")
		}
		return c.Text(200, "you are "+user)
	})

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/login?user=ada", nil))
	cookie := strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0]

	for _, ck := range []string{cookie, "session=made-up"} {
		rec = httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Cookie", ck)
		app.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 200 you are ada
	// 401 log in first
}
