module github.com/graftgo/graft/openapi/kintest

go 1.26

require go.uber.org/goleak v1.3.0

require (
	github.com/getkin/kin-openapi v0.153.0
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/text v0.14.0 // indirect
)

require github.com/graftgo/graft v0.0.0

require (
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.9.1 // indirect
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
)

replace github.com/graftgo/graft => ../..
