module github.com/graftgo/graft/plugins/auth/jwt

go 1.26

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/graftgo/graft v0.0.0
)

require (
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.9.1 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/graftgo/graft => ../../..
