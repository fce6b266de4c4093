// Package config loads settings into Go structs from four sources, lowest
// to highest precedence: the structs' own values (the zero value meaning the
// documented default), a TOML file (--config FILE or the env CONFIG name),
// the environment (PREFIX_KEY, nested sections joined with _) and
// command-line flags generated from the structs (dotted names for sections:
// --ws.idle-timeout).
//
// One struct per concern: Loader.Add registers a struct under a section name
// ("" for top-level keys). Each exported field of a supported type is a key;
// a nested struct field is a sub-section. Keys, flags and env names are
// derived from field names (IdleTimeout becomes idle-timeout, flag
// --idle-timeout, env GRAFT_IDLE_TIMEOUT) or set with tags:
//
//	type Server struct {
//		Port        int           `help:"TCP port" default:"8080"`
//		IdleTimeout time.Duration `toml:"idle-timeout" flag:"idle-timeout" env:"GRAFT_IDLE" help:"keep-alive idle timeout" default:"2m0s"`
//		Logger      *slog.Logger  // not a key: funcs, pointers, interfaces and channels are skipped
//		Secret      string        `toml:"-"` // not a key
//	}
//
// The flag tag may list aliases after the name (`flag:"ws.idle-timeout,ws-idle-timeout"`),
// which keeps old flag spellings working; on a bool key an alias written
// !name sets the key's negation (`flag:"ws.disable-pings,!ws-auto-ping"`:
// --ws-auto-ping=false disables pings). The default tag only documents:
// it is what --help and --print-config show for a zero value.
//
// Supported types: string, bool, every int and uint size, float32, float64,
// time.Duration (written "1m30s") and []string (a TOML array; comma-separated
// in env and flags).
//
// Every mistake fails Load with an *Error naming the source (file:line, env
// name or flag), the key, the value and what was expected: an unknown key in
// the file, an unknown PREFIX_ variable, a bad value, a missing file, an
// unknown flag.
//
// --help lists every flag with its type, default and env name
// (Loader.WriteHelp); --print-config prints the merged config as TOML, each
// value followed by a comment saying where it came from
// (Loader.PrintConfig).
//
// The TOML reader is github.com/pelletier/go-toml/v2: TOML 1.0, no
// dependencies of its own, and a parser API (unstable.Parser) that gives the
// line of every key, which the errors and --print-config report.
package config
