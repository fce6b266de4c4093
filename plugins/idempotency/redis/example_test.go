package redis_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/idempotency"
	"github.com/graftgo/graft/plugins/idempotency/redis"
)

type signupIn struct {
	Body struct {
		Email string `json:"email"`
	}
}

type signupOut struct {
	Status int `default:"201"`
	Body   struct {
		Account int `json:"account"`
	}
}

// Two nodes share their keys in Redis: a retry that lands on the other
// node gets the first node's answer.
func Example() {
	addr, stop, err := exampleRedis()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	accounts := 0
	var urls []string
	for range 2 {
		store, err := redis.New(redis.Options{Addr: addr})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer store.Close()
		app := graft.New(graft.Config{})
		app.UsePlugins(idempotency.New(idempotency.Config{Store: store}))
		graft.Post(app, "/signup", func(_ context.Context, in *signupIn) (*signupOut, error) {
			accounts++
			out := &signupOut{}
			out.Body.Account = accounts
			return out, nil
		})
		if err := app.Start(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
		defer app.Stop(context.Background())
		srv := httptest.NewServer(app)
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	for _, u := range urls {
		req, _ := http.NewRequest("POST", u+"/signup", strings.NewReader(`{"email":"ada@example.com"}`))
		req.Header.Set("Idempotency-Key", `"signup-ada"`)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Idempotent-Replayed"), strings.TrimSpace(string(b)))
	}
	fmt.Println("accounts made:", accounts)
	// Output:
	// 201  {"account":1}
	// 201 true {"account":1}
	// accounts made: 1
}

// exampleRedis starts a throwaway redis-server on a free loopback port.
func exampleRedis() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("redis-server: %w (apt-get install -y redis-server)", err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("redis-server on %s not ready within 10s", addr)
}
