package graft

import (
	"flag"
	"log/slog"
	"time"
)

// Config configures an App. The zero value of every field means the
// documented default, as with net/http's Server.
//
// Every field but Logger, ErrorHandler and PanicHandler is also a config key
// (docs/config.md): the app loads it from a TOML file (--config), the
// environment (GRAFT_PORT, GRAFT_IDLE_TIMEOUT…) and flags, in that order
// of precedence, when Run or ParseFlags parses the command line. The key,
// the flag and the env name of a field follow its toml tag or name.
type Config struct {
	// Host is the interface to listen on; "" means all interfaces.
	// Flag --host.
	Host string `help:"interface to listen on (empty: all)"`
	// Port is the TCP port; 0 means 8080 and -1 any free port (see App.Addr).
	// Flag --port.
	Port int `help:"TCP port to listen on (-1: any free port)" default:"8080"`
	// UDS, when set, is the path of a unix socket to listen on instead of
	// TCP. Flag --uds.
	UDS string `help:"unix socket path to listen on instead of TCP"`
	// SSLCert and SSLKey are PEM files; when both are set the server speaks
	// TLS, with HTTP/2. Flags --ssl-cert and --ssl-key.
	SSLCert string `help:"TLS certificate file (PEM); with --ssl-key serves HTTPS and HTTP/2"`
	SSLKey  string `help:"TLS private key file (PEM)"`
	// H2C enables HTTP/2 over cleartext TCP (prior knowledge), for use behind
	// proxies that speak it. Flag --h2c.
	H2C bool `help:"serve HTTP/2 over cleartext (prior knowledge)"`

	// ReadHeaderTimeout bounds reading request headers (slowloris);
	// default 10s. Flag --read-header-timeout.
	ReadHeaderTimeout time.Duration `help:"time allowed to read request headers" default:"10s"`
	// ReadTimeout bounds reading a whole request; default none.
	ReadTimeout time.Duration `help:"time allowed to read a whole request (0: none)"`
	// WriteTimeout bounds writing a response; default none.
	WriteTimeout time.Duration `help:"time allowed to write a response (0: none)"`
	// IdleTimeout bounds keep-alive idleness; default 120s.
	// Flag --idle-timeout.
	IdleTimeout time.Duration `help:"keep-alive idle timeout" default:"2m0s"`
	// MaxHeaderBytes bounds request headers; default 64 KiB. Larger headers
	// are answered 431.
	MaxHeaderBytes int `help:"largest request header in bytes (bigger: 431)" default:"65536"`
	// MaxConns caps the connections served at once (HTTP/1, HTTP/2, TLS,
	// unix socket; a WebSocket counts until it closes); 0 means no limit,
	// as with net/http's Server, which has none. At the cap the server
	// stops accepting: a new connection waits in the kernel's listen
	// backlog until a served one closes. A connection that sends nothing
	// holds its place at most ReadHeaderTimeout, an idle keep-alive one at
	// most IdleTimeout. Flag --max-conns.
	MaxConns int `help:"connections served at once (0: no limit; over it, new ones wait to be accepted)"`
	// ShutdownTimeout bounds graceful shutdown; default 10s.
	// Flag --shutdown-timeout.
	ShutdownTimeout time.Duration `help:"graceful shutdown deadline" default:"10s"`

	// BodyLimit bounds request bodies read through the Ctx; default 1 MiB,
	// -1 means no limit. Bigger bodies are answered 413. Flag --body-limit.
	BodyLimit int64 `help:"maximum request body in bytes (-1: none)" default:"1048576"`
	// DisallowUnknownFields makes JSON decoding reject fields the target
	// type lacks (400).
	DisallowUnknownFields bool `help:"reject JSON fields the target type lacks (400)"`

	// RequestPoolMaxItems is the number of request contexts made up front
	// and kept for reuse; default DefaultPoolMaxItems (128), -1 disables
	// pooling (every request allocates its context). Requests in flight
	// beyond it allocate their context, which is dropped when they end.
	// Every kept context is live memory the garbage collector marks on each
	// cycle, so raise it only for more requests in flight at once than the
	// default covers. Flag --req-res-factory-maxitems.
	RequestPoolMaxItems int `toml:"req-res-factory-maxitems" help:"request contexts pre-allocated and pooled (-1: no pooling)" default:"128"`

	// Logger receives the app's logs; default slog.Default().
	Logger *slog.Logger
	// ErrorHandler turns handler errors into responses; default
	// DefaultErrorHandler (RFC 9457 problem+json).
	ErrorHandler ErrorHandler
	// PanicHandler, when set, handles the panics graft recovers on every
	// route (plain handlers, middleware, typed endpoints without a panic
	// handler of their own) in place of the default: a log record with the
	// route and stack, then a 500 through ErrorHandler. See PanicHandler.
	PanicHandler PanicHandler
}

// Default values of Config fields.
const (
	DefaultPort              = 8080
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 10 * time.Second
	DefaultBodyLimit         = 1 << 20
	// DefaultPoolMaxItems is the default size of the request context
	// pool (Config.RequestPoolMaxItems) and of the WebSocket connection
	// pool (ws.Config.PoolMaxItems). It covers the requests a server has in
	// flight at once on a few cores; a bigger pool only adds marking work
	// to every garbage collection (1,024 kept contexts cost a plaintext
	// request about 4 % more instructions end to end than 128 do; see
	// docs/benchmarks.md).
	DefaultPoolMaxItems = 128
)

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (c *Config) bodyLimit() int64 {
	switch {
	case c.BodyLimit < 0:
		return 1<<63 - 1
	case c.BodyLimit == 0:
		return DefaultBodyLimit
	}
	return c.BodyLimit
}

func poolSize(n int) int {
	if n == 0 {
		return DefaultPoolMaxItems
	}
	return n
}

// RegisterFlags defines the command-line flags of the config on fs, with
// the config's current values (or their defaults) as flag defaults, for a
// flag set of the caller's own. An App does not use it: its flags, with
// the file and the environment, come from its config loader
// (App.ConfigLoader, docs/config.md).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Host, "host", c.Host, "interface to listen on (empty: all)")
	fs.IntVar(&c.Port, "port", orDefault(c.Port, DefaultPort), "TCP port to listen on (-1: any free port)")
	fs.StringVar(&c.UDS, "uds", c.UDS, "unix socket path to listen on instead of TCP")
	fs.StringVar(&c.SSLCert, "ssl-cert", c.SSLCert, "TLS certificate file (PEM); with --ssl-key serves HTTPS and HTTP/2")
	fs.StringVar(&c.SSLKey, "ssl-key", c.SSLKey, "TLS private key file (PEM)")
	fs.BoolVar(&c.H2C, "h2c", c.H2C, "serve HTTP/2 over cleartext (prior knowledge)")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", orDefault(c.ReadHeaderTimeout, DefaultReadHeaderTimeout), "time allowed to read request headers")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", orDefault(c.IdleTimeout, DefaultIdleTimeout), "keep-alive idle timeout")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "connections served at once (0: no limit; over it, new ones wait to be accepted)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", orDefault(c.ShutdownTimeout, DefaultShutdownTimeout), "graceful shutdown deadline")
	fs.Int64Var(&c.BodyLimit, "body-limit", orDefault(c.BodyLimit, DefaultBodyLimit), "maximum request body in bytes (-1: none)")
	fs.IntVar(&c.RequestPoolMaxItems, "req-res-factory-maxitems", poolSize(c.RequestPoolMaxItems), "request contexts pre-allocated and pooled (-1: no pooling)")
}
