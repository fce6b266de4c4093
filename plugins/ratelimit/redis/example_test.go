package redis_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/graftgo/graft/plugins/ratelimit"
	"github.com/graftgo/graft/plugins/ratelimit/redis"
)

// A limit kept in Redis: every node with a store on the same server
// counts into the same GCRA state.
func Example() {
	addr, stop, err := exampleRedis()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	store, err := redis.New(redis.Options{Addr: addr})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	lim := ratelimit.New(ratelimit.Config{
		Policy: ratelimit.Policy{Name: "login", Algorithm: ratelimit.GCRA, Limit: 5, Window: time.Minute, Burst: 2},
		Store:  store,
	})
	for range 3 {
		d, err := lim.Take(context.Background(), "user:ada")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(d.Allowed, d.Remaining, d.RetryAfter.Round(time.Second))
	}
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 12s
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
