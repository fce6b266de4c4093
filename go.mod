module github.com/graftgo/graft

go 1.26

require (
	github.com/klauspost/compress v1.17.9
	github.com/lxzan/gws v1.9.1
	github.com/pelletier/go-toml/v2 v2.4.3
	go.uber.org/goleak v1.3.0
)
