package healthcheck_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/healthcheck"
)

// Queue is an extension with a dependency: it contributes a readiness
// check to the health-check extension it requires.
type Queue struct{ connected atomic.Bool }

func (*Queue) ID() string         { return "example.queue" }
func (*Queue) Requires() []string { return []string{healthcheck.ID} }
func (q *Queue) Extend(b *graft.Builder) error {
	hc, err := graft.Require[*healthcheck.Health](b)
	if err != nil {
		return err
	}
	return hc.AddCheck("queue", func(context.Context) error {
		if !q.connected.Load() {
			return errors.New("not connected")
		}
		return nil
	})
}

func Example() {
	q := &Queue{}
	app := graft.New(graft.Config{})
	app.Register(healthcheck.Extension(healthcheck.Options{}), q)
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	show := func(p string) {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(p, res.StatusCode, string(b))
	}
	show("/healthz")
	show("/readyz")
	q.connected.Store(true)
	show("/readyz")
	// Output:
	// /healthz 200 {"status":"ok"}
	// /readyz 503 {"status":"unavailable","checks":{"queue":"not connected"},"failed":["queue"]}
	// /readyz 200 {"status":"ok","checks":{"queue":"ok"}}
}
