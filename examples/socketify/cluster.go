package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	natsbroker "github.com/graftgo/graft/broker/nats"
	redisbroker "github.com/graftgo/graft/broker/redis"
	"github.com/graftgo/graft/ws"
	"github.com/redis/rueidis"
)

// Cluster is the example's [cluster] config section: the pub/sub bus
// that makes several socketify processes one server (at most one of the
// two). Like every key it comes from the TOML file, GRAFT_CLUSTER_NATS /
// GRAFT_CLUSTER_REDIS or the flags.
type Cluster struct {
	// NATS is the NATS server's URL, or a comma-separated list of them.
	NATS string `toml:"nats" flag:"nats,cluster.nats" help:"NATS server URL (nats://host:4222; comma-separated for several) whose bus joins this process to the others"`
	// Redis is the Redis server's URL: redis://[user:password@]host:port[/db]
	// (rediss:// for TLS), or a bare host:port.
	Redis string `toml:"redis" flag:"redis,cluster.redis" help:"Redis server URL (redis://[user:password@]host:port[/db]) whose pub/sub joins this process to the others"`
}

// cluster is the extension that reads Cluster and gives the WebSocket
// hub its broker.
type cluster struct{ cfg Cluster }

func (*cluster) ID() string { return "example.cluster" }

// Requires makes the WebSocket extension available to Extend.
func (*cluster) Requires() []string { return []string{ws.ExtensionID} }

// ConfigSection makes Cluster the app's [cluster] section.
func (c *cluster) ConfigSection() (string, any) { return "cluster", &c.cfg }

// Extend makes the broker the loaded config names and sets it on the hub,
// which connects it at start-up (waiting --broker-wait) and closes it at
// shutdown.
func (c *cluster) Extend(b *graft.Builder) error {
	hub, err := graft.Require[*ws.Hub](b)
	if err != nil {
		return err
	}
	br, err := c.broker(b)
	if err != nil || br == nil {
		return err
	}
	hub.SetBroker(br)
	return nil
}

// broker returns the broker Cluster names, or nil for a single process.
func (c *cluster) broker(b *graft.Builder) (broker.Broker, error) {
	log := b.Logger()
	switch {
	case c.cfg.NATS != "" && c.cfg.Redis != "":
		return nil, errors.New("example.cluster: both --nats and --redis are set; give one bus")
	case c.cfg.NATS != "":
		br, err := natsbroker.New(natsbroker.Options{URL: c.cfg.NATS, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("example.cluster: --nats %s: %w", c.cfg.NATS, err)
		}
		return br, nil
	case c.cfg.Redis != "":
		opts := redisbroker.Options{Logger: log}
		if strings.Contains(c.cfg.Redis, "://") {
			co, err := rueidis.ParseURL(c.cfg.Redis)
			if err != nil {
				return nil, fmt.Errorf("example.cluster: --redis %s: %w; use redis://[user:password@]host:port[/db]", c.cfg.Redis, err)
			}
			opts.Client = co
		} else {
			opts.Addr = c.cfg.Redis
		}
		br, err := redisbroker.New(opts)
		if err != nil {
			return nil, fmt.Errorf("example.cluster: --redis %s: %w", c.cfg.Redis, err)
		}
		return br, nil
	}
	return nil, nil
}
