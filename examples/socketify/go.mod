module github.com/graftgo/graft/examples/socketify

go 1.26.0

require (
	github.com/graftgo/graft v0.0.0
	github.com/graftgo/graft/ext/msgpack v0.0.0
	github.com/lxzan/gws v1.9.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nats.go v1.55.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

require (
	github.com/graftgo/graft/broker/nats v0.0.0
	github.com/graftgo/graft/broker/redis v0.0.0
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/nats-io/nats-server/v2 v2.15.2
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	github.com/redis/rueidis v1.0.79
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/graftgo/graft => ../../
	github.com/graftgo/graft/broker/nats => ../../broker/nats
	github.com/graftgo/graft/broker/redis => ../../broker/redis
	github.com/graftgo/graft/ext/msgpack => ../../ext/msgpack
)
