package redis_test

import (
	"log"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/sessions"
	"github.com/graftgo/graft/ext/sessions/redis"
	"github.com/redis/rueidis"
)

// Example wires the Redis store into the sessions extension (it needs a
// redis-server on 127.0.0.1:6379, so it is compiled, not run).
func Example() {
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}, DisableCache: true})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	store, err := redis.New(client, redis.Options{Prefix: "shop:session:"})
	if err != nil {
		log.Fatal(err)
	}
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(sessions.Extension(sessions.Options{Store: store, Secure: true}))
	app.GET("/cart", func(c *Ctx) error {
		n, _ := c.Session().Get("items")
		return c.Text(200, n)
	})
	log.Fatal(app.Run())
}
