package msgpack_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
)

// Ctx is an app context with the Msgpack response method.
type Ctx struct {
	graft.Ctx
	msgpack.Responder
}

func Example() {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(msgpack.Extension())
	app.GET("/user", func(c *Ctx) error { return c.Msgpack(map[string]string{"name": "Test"}) })
	app.GET("/render", func(c *Ctx) error { return c.Render(http.StatusOK, []int{1, 2}) })

	for _, path := range []string{"/user", "/render"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", msgpack.MediaType)
		app.ServeHTTP(rec, req)
		var v any
		err := msgpack.Unmarshal(rec.Body.Bytes(), &v)
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"), v, err)
	}
	// Output:
	// /user 200 application/msgpack map[name:Test] <nil>
	// /render 200 application/msgpack [1 2] <nil>
}

func TestBindMsgpack(t *testing.T) {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(msgpack.Extension())
	app.POST("/echo", func(c *Ctx) error {
		var v struct {
			Name string `json:"name"`
			Age  uint8  `json:"age,omitempty"`
		}
		if err := c.Bind(&v); err != nil {
			return err
		}
		return c.Msgpack(v)
	})
	ann := mustMarshal(map[string]any{"name": "Ann"})
	for _, tc := range []struct {
		body   []byte
		status int
		want   string // the answer, or a part of the problem's detail
	}{
		{ann, 200, string(ann)}, // json names; age omitted (omitempty)
		{mustMarshal(map[string]any{"name": "Ann", "colour": 1}), 200, string(ann)},
		{[]byte{0xc1}, 400, "byte 0xc1 is never used"},
		{[]byte{0xd6, 0xff, 0, 0}, 400, "unexpected end"},
		{append(ann, 0xc0), 400, "1 bytes after the value"},
		{mustMarshal(map[string]any{"name": "Ann", "age": -1}), 400, "body.age must be a non-negative integer, got number -1"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/echo", bytesReader(tc.body))
		req.Header.Set("Content-Type", msgpack.MediaType)
		app.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("body %x: %d %q, want %d %q", tc.body, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
}
