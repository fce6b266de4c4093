module github.com/graftgo/graft/plugins/idempotency/redis

go 1.26

require (
	github.com/graftgo/graft v0.0.0
	github.com/redis/rueidis v1.0.79
	go.uber.org/goleak v1.3.0
)

require (
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.9.1 // indirect
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/graftgo/graft => ../../..
