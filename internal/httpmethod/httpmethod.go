// Package httpmethod indexes the HTTP methods OpenTelemetry's HTTP semantic
// conventions name (others are "_OTHER"), so that the observability plugins
// (logging, metrics, tracing) keep per-route tables by method without a map
// lookup or a label set a client could grow.
package httpmethod

// Known are the methods the conventions name, in index order.
var Known = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}

// Other is the index of every method not in Known.
const Other = len(Known)

// Index returns m's index in Known, or Other.
func Index(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "CONNECT":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "PATCH":
		return 8
	case "QUERY":
		return 9
	}
	return Other
}
