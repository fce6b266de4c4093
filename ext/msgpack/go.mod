module github.com/graftgo/graft/ext/msgpack

go 1.26

require (
	github.com/graftgo/graft v0.0.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/graftgo/graft => ../../
