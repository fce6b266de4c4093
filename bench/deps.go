//go:build tools

package bench

// Peers that the bench module pins for benchmarks kept in other files (typed
// endpoints against Huma, WebSockets against gorilla and coder): importing
// them here keeps them in go.mod until those files exist.
import (
	_ "github.com/coder/websocket"
	_ "github.com/danielgtaylor/huma/v2"
	_ "github.com/gorilla/websocket"
)
