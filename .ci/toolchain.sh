# Sourced by .ci/run and scripts/govulncheck: the project builds and tests
# with Go 1.26.10 or newer. Go 1.26.8 and 1.26.9 have known vulnerabilities
# in net/http (HTTP/2 server among them), crypto/tls, crypto/x509,
# net/textproto and html/template that graft's code paths reach (see
# docs/reliability.md, Vulnerability scan). When the machine's Go is older,
# the go command fetches go1.26.10 through the Go module proxy (about 76 MB,
# once per machine) and runs it in its place.
min_go=go1.26.10
graft_local_go=$(GOTOOLCHAIN=local go env GOVERSION)
if [ "$(printf '%s\n%s\n' "$min_go" "$graft_local_go" | sort -V | head -1)" != "$min_go" ]; then
  export GOTOOLCHAIN=$min_go
fi
unset graft_local_go
