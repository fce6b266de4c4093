package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	natsbroker "github.com/graftgo/graft/broker/nats"
	redisbroker "github.com/graftgo/graft/broker/redis"
	"github.com/graftgo/graft/ext/sqlite"
	"github.com/graftgo/graft/ws"
	"github.com/redis/rueidis"
)

// Settings is the chat's [chat] config section. Like every key it comes
// from the TOML file (--config), GRAFT_CHAT_… variables or the flags.
type Settings struct {
	// DB is the SQLite file: users, rooms, messages and the token key.
	// Nodes of one cluster share it. ":memory:" keeps nothing.
	DB string `toml:"db" flag:"db" help:"SQLite database file (:memory: keeps nothing); nodes of a cluster share it" default:"chat.db"`
	// JWTKey signs the tokens; empty: a key kept in the database, made on
	// first start, which every node on the same database shares.
	JWTKey string `toml:"jwt-key" flag:"jwt-key" help:"token signing key (empty: one kept in the database)"`
	// NATS joins this process to the others of a cluster over NATS
	// (JetStream keeps the rooms' history).
	NATS string `toml:"nats" flag:"nats" help:"NATS server URL (nats://host:4222) whose bus and JetStream join this node to the others"`
	// Redis joins this process to the others over Redis (pub/sub, and
	// Streams for the rooms' history).
	Redis string `toml:"redis" flag:"redis" help:"Redis server URL (redis://[user:password@]host:port[/db]) whose pub/sub and streams join this node to the others"`
	// AuthRate is how many sign-ups and logins one client address may
	// make per minute (GCRA, with a burst of as many).
	AuthRate int `toml:"auth-rate" flag:"auth-rate" help:"sign-ups and logins allowed per minute and client address" default:"30"`
	// OTLP is an OpenTelemetry collector's OTLP/HTTP traces endpoint
	// (http://host:4318/v1/traces); empty: no tracing.
	OTLP string `toml:"otlp" flag:"otlp" help:"OTLP/HTTP endpoint for traces (http://host:4318/v1/traces); empty: no tracing"`
}

// authRate is AuthRate with its default.
func (s Settings) authRate() int {
	if s.AuthRate <= 0 {
		return 30
	}
	return s.AuthRate
}

// chatExt is the chat's router-level extension: it reads [chat], names the
// SQLite file, gives the WebSocket hub its broker and, at start, loads the
// token key and publishes the store and the keys as scope values.
type chatExt struct {
	cfg    Settings
	traces *lateProvider
	db     *sqlite.SQLite
	keys   *keys
	b      *graft.Builder
}

func (*chatExt) ID() string { return "example.chat" }

// Requires orders the chat after the database and the hub, and gives
// Extend their handles.
func (e *chatExt) Requires() []string { return []string{e.db.ID(), ws.ExtensionID} }

// ConfigSection makes Settings the app's [chat] section.
func (e *chatExt) ConfigSection() (string, any) { return "chat", &e.cfg }

func (e *chatExt) Extend(b *graft.Builder) error {
	e.b = b
	db, err := graft.Require[*sqlite.SQLite](b)
	if err != nil {
		return err
	}
	file := e.cfg.DB
	if file == "" {
		file = "chat.db"
	}
	db.Configure(func(c *sqlite.Config) { c.File = file })
	hub, err := graft.Require[*ws.Hub](b)
	if err != nil {
		return err
	}
	br, err := e.broker(b)
	if err != nil {
		return err
	}
	if br != nil {
		hub.SetBroker(br)
	}
	Tokens.Set(b, e.keys)
	return nil
}

// Stop flushes the traces.
func (e *chatExt) Stop(ctx context.Context) error { return e.traces.stop(ctx) }

// Start starts the OTLP exporter when --otlp names one and loads the
// token key: --jwt-key, or the database's.
func (e *chatExt) Start(ctx context.Context) error {
	if e.cfg.OTLP != "" {
		if err := e.traces.startOTLP(ctx, e.cfg.OTLP); err != nil {
			return fmt.Errorf("example.chat: --otlp %s: %w", e.cfg.OTLP, err)
		}
	}
	if e.cfg.JWTKey != "" {
		if len(e.cfg.JWTKey) < 32 {
			return errors.New("example.chat: --jwt-key must be at least 32 bytes")
		}
		e.keys.set([]byte(e.cfg.JWTKey))
		return nil
	}
	k, err := store{e.db.DB()}.signingKey(ctx)
	if err != nil {
		return fmt.Errorf("example.chat: loading the token key: %w", err)
	}
	e.keys.set(k)
	return nil
}

// broker returns the broker the settings name, or nil for one node.
func (e *chatExt) broker(b *graft.Builder) (broker.Broker, error) {
	log := b.Logger()
	switch {
	case e.cfg.NATS != "" && e.cfg.Redis != "":
		return nil, errors.New("example.chat: both --nats and --redis are set; give one bus")
	case e.cfg.NATS != "":
		br, err := natsbroker.New(natsbroker.Options{URL: e.cfg.NATS, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("example.chat: --nats %s: %w", e.cfg.NATS, err)
		}
		return br, nil
	case e.cfg.Redis != "":
		opts := redisbroker.Options{Logger: log}
		if strings.Contains(e.cfg.Redis, "://") {
			co, err := rueidis.ParseURL(e.cfg.Redis)
			if err != nil {
				return nil, fmt.Errorf("example.chat: --redis %s: %w; use redis://[user:password@]host:port[/db]", e.cfg.Redis, err)
			}
			opts.Client = co
		} else {
			opts.Addr = e.cfg.Redis
		}
		br, err := redisbroker.New(opts)
		if err != nil {
			return nil, fmt.Errorf("example.chat: --redis %s: %w", e.cfg.Redis, err)
		}
		return br, nil
	}
	return nil, nil
}
