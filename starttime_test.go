package graft_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// TestStartTime: the extensions of a request share the first StartTime
// reading, taken when the first of them asked, and each request has its
// own.
func TestStartTime(t *testing.T) {
	var outer, inner, handler time.Time
	app := graft.New(graft.Config{RequestPoolMaxItems: 1})
	timing := func(seen *time.Time) graft.Extension {
		return graft.ExtensionFunc(fmt.Sprintf("test.timing%p", seen), func(b *graft.Builder) error {
			b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
				return func(c *graft.Ctx) error {
					*seen = c.StartTime()
					return next(c)
				}
			})
			return nil
		})
	}
	app.Register(timing(&outer), timing(&inner))
	app.GET("/", func(c *graft.Ctx) error {
		time.Sleep(time.Millisecond)
		handler = c.StartTime()
		if d := time.Since(c.StartTime()); d < time.Millisecond {
			return fmt.Errorf("time.Since(StartTime()) = %v after a 1ms sleep", d)
		}
		return c.NoContent()
	})
	var prev time.Time
	for i := range 2 {
		// ServeHTTP directly, so that the readings are not shared with
		// another goroutine.
		before := time.Now()
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		after := time.Now()
		if w.Code != http.StatusNoContent {
			t.Fatalf("request %d: status %d: %s", i, w.Code, w.Body)
		}
		if !outer.Equal(inner) || !outer.Equal(handler) {
			t.Errorf("request %d: readings differ: outer %v, inner %v, handler %v", i, outer, inner, handler)
		}
		if outer.Before(before) || outer.After(after) {
			t.Errorf("request %d: StartTime %v outside the request (%v to %v)", i, outer, before, after)
		}
		if i > 0 && !outer.After(prev) {
			t.Errorf("request %d: StartTime %v is the previous request's (%v)", i, outer, prev)
		}
		prev = outer
	}
}
