package graft

import (
	"fmt"
	"io"
	"reflect"

	"github.com/graftgo/graft/config"
	"github.com/graftgo/graft/di"
)

// ConfigSectioner is implemented by extensions that have settings of their
// own: ConfigSection runs when the extension is registered and returns the
// section's name and a pointer to the struct holding its settings. The app's
// config loader fills the struct from the TOML file ([name]), the
// environment (GRAFT_NAME_KEY) and flags (--name.key) when Run or
// ParseFlags parses the command line, before Extend runs; the struct is
// also put in the app's dependency graph (a singleton of the pointer's
// type). See docs/config.md.
type ConfigSectioner interface {
	ConfigSection() (name string, target any)
}

// ConfigSection adds a section of settings to the app's config, for
// plugins and app code (extensions implement ConfigSectioner instead):
// target, a pointer to a struct, is filled from the file, the environment
// and flags by ParseFlags and Run, and put in the dependency graph at
// start. Call it before ParseFlags: afterwards it fails, as it does for a
// field of an unsupported type or a name already taken, naming the field.
func (a *core) ConfigSection(name string, target any) error {
	if err := a.conf.Add(name, target); err != nil {
		return err
	}
	a.confTargets = append(a.confTargets, target)
	return nil
}

// ConfigLoader returns the app's config loader: where each value came from
// (Source), the keys, --print-config's output (PrintConfig).
func (a *core) ConfigLoader() *config.Loader { return a.conf }

// newConfigLoader makes the loader of a new app: the core Config's keys
// with their documented defaults filled in, --config and --print-config,
// all defined on the app's flag set.
func (a *core) newConfigLoader() {
	a.conf = config.New("GRAFT")
	if err := a.conf.Add("", &a.cfg); err != nil {
		panic(err) // Config's own fields: a bug in graft
	}
	a.conf.FillDefaults()
	a.conf.DefineFlags(a.flags)
	a.exts.section = func(id string, e ConfigSectioner) error {
		name, target := e.ConfigSection()
		if err := a.ConfigSection(name, target); err != nil {
			return fmt.Errorf("graft: extension %s: %w (register it before ParseFlags or Run)", id, err)
		}
		return nil
	}
}

// printConfig writes the merged config for --print-config.
func (a *core) printConfig(w io.Writer) error { return a.conf.PrintConfig(w) }

var (
	typeConfig = reflect.TypeFor[Config]()
	typeLoader = reflect.TypeFor[*config.Loader]()
	typeError  = reflect.TypeFor[error]()
)

// provideConfig puts the loaded config in the dependency graph: the app's
// Config, the *config.Loader and every section's struct pointer, unless
// the app registered its own.
func (a *core) provideConfig() {
	if !a.graph.Provides(typeConfig) {
		di.Value(a.graph, a.cfg)
	}
	if !a.graph.Provides(typeLoader) {
		di.Value(a.graph, a.conf)
	}
	for _, t := range a.confTargets {
		v := reflect.ValueOf(t)
		if a.graph.Provides(v.Type()) {
			continue
		}
		ft := reflect.FuncOf(nil, []reflect.Type{v.Type(), typeError}, false)
		fn := reflect.MakeFunc(ft, func([]reflect.Value) []reflect.Value {
			return []reflect.Value{v, reflect.Zero(typeError)}
		})
		di.ProvideFunc(a.graph, di.Singleton, fn.Interface())
	}
}
