module github.com/graftgo/graft/ext/sqlite

go 1.26.0

require (
	github.com/graftgo/graft v0.0.0
	github.com/ncruces/go-sqlite3 v0.37.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/ncruces/go-sqlite3-wasm/v6 v6.5.35401 // indirect
	github.com/ncruces/julianday v1.0.0 // indirect
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/graftgo/graft => ../../
