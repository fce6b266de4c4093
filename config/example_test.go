package config_test

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/graftgo/graft/config"
)

// Server is one concern's settings; the zero value means the documented
// default.
type Server struct {
	Port        int           `help:"TCP port" default:"8080"`
	IdleTimeout time.Duration `help:"keep-alive idle timeout" default:"2m0s"`
}

// Limits is a plugin's section: [limits] in the file, --limits.* flags,
// MYAPP_LIMITS_* variables.
type Limits struct {
	MaxRequests int `help:"requests allowed per window"`
}

func Example() {
	var srv Server
	var lim Limits
	l := config.New("MYAPP")
	l.SetEnviron(func() []string { return []string{"MYAPP_LIMITS_MAX_REQUESTS=50"} })
	if err := l.Add("", &srv); err != nil {
		panic(err)
	}
	if err := l.Add("limits", &lim); err != nil {
		panic(err)
	}
	fs := flag.NewFlagSet("myapp", flag.ContinueOnError)
	l.DefineFlags(fs)
	if err := l.Load(fs, []string{"--port=9000", "--print-config"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(srv.Port, lim.MaxRequests)
	if l.PrintRequested() {
		_ = l.PrintConfig(os.Stdout)
	}
	// Output:
	// 9000 50
	// # merged config; after each value, where it came from
	// port = 9000 # flag --port
	// idle-timeout = "2m0s" # default
	//
	// [limits]
	// max-requests = 50 # env MYAPP_LIMITS_MAX_REQUESTS
}

func ExampleError() {
	var srv Server
	l := config.New("MYAPP")
	l.SetEnviron(func() []string { return []string{"MYAPP_PORT=http"} })
	_ = l.Add("", &srv)
	fs := flag.NewFlagSet("myapp", flag.ContinueOnError)
	l.DefineFlags(fs)
	fmt.Println(l.Load(fs, []string{}))
	// Output:
	// config: env MYAPP_PORT: key "port" = "http": expected an integer (64 bits)
}
