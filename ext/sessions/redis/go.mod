module github.com/graftgo/graft/ext/sessions/redis

go 1.26

require (
	github.com/graftgo/graft v0.0.0
	github.com/redis/rueidis v1.0.79
	go.uber.org/goleak v1.3.0
)

require (
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/graftgo/graft => ../../../
