module github.com/graftgo/graft/plugins/auth/jwt

go 1.26

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/graftgo/graft v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	github.com/stretchr/testify v1.8.4 // indirect
)

replace github.com/graftgo/graft => ../../..
