package cookies_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Ctx is an app context with the cookie jar methods.
type Ctx struct {
	graft.Ctx
	cookies.Jar
}

func Example() {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true}))
	app.GET("/visits", func(c *Ctx) error {
		n, _ := strconv.Atoi(c.CookieValue("visits"))
		c.PutCookie("visits", strconv.Itoa(n+1))
		return c.Text(200, "visit "+strconv.Itoa(n+1))
	})
	app.GET("/logout", func(c *Ctx) error {
		c.DropCookie("visits")
		return c.NoContent()
	})

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/visits", nil)
	req.Header.Set("Cookie", "visits=2")
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Body, rec.Header().Get("Set-Cookie"))

	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/logout", nil))
	fmt.Println(rec.Code, rec.Header().Get("Set-Cookie"))
	// Output:
	// visit 3 visits=3; Path=/; HttpOnly
	// 204 visits=; Path=/; Max-Age=0
}

func TestNoChangeNoHeader(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{}))
	app.GET("/", func(c *Ctx) error { return c.Text(200, c.CookieValue("a")) })
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("unexpected Set-Cookie %q", rec.Header().Get("Set-Cookie"))
	}
}

// Example_signed sets a signed cookie and reads it back; the same cookie
// with a changed value reads as absent.
func Example_signed() {
	key := []byte("0123456789abcdef0123456789abcdef") // 32 random bytes in real life
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true, Keys: [][]byte{key}}))
	app.GET("/login", func(c *Ctx) error {
		if err := c.PutSigned("user", "ada"); err != nil {
			return err
		}
		return c.NoContent()
	})
	app.GET("/me", func(c *Ctx) error {
		user, ok := c.SignedCookie("user")
		if !ok {
			return c.Text(401, "who are you?")
		}
		return c.Text(200, "hello "+user)
	})

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	cookie := strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0]

	for _, ck := range []string{cookie, strings.Replace(cookie, "user=", "user=A", 1)} {
		rec = httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Cookie", ck)
		app.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body)
	}
	// Output:
	// 200 hello ada
	// 401 who are you?
}
