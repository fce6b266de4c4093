#!/usr/bin/env bash
# Plaintext end to end: serves GET / with graft, then with a bare net/http
# server (bench/cmd/plaintext), runs wrk against each one after the other on
# loopback and prints req/s and the ratio graft/nethttp.
#
#   bench/wrk.sh                    # wrk -t2 -c64 -d10s, one round
#   ROUNDS=5 DURATION=5s bench/wrk.sh   # on a noisy machine: quote the median
#
# Not part of the test suite. Needs wrk: apt-get install -y wrk (Debian,
# Ubuntu) or brew install wrk (macOS).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk.sh: wrk is not installed; install it first: apt-get install -y wrk (or brew install wrk)" >&2
  exit 1
fi

THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/plaintext" ./cmd/plaintext

# measure SERVER sets rps to the req/s wrk measured against it.
measure() {
  local server=$1 url="" i
  "$tmp/plaintext" -server "$server" -addr 127.0.0.1:0 >"$tmp/out" 2>&1 &
  pid=$!
  for i in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$tmp/out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "wrk.sh: the $server server did not start:" >&2
    cat "$tmp/out" >&2
    exit 1
  fi
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url/" >/dev/null
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$url/" >"$tmp/wrk"
  kill "$pid"
  wait "$pid" || true
  pid=""
  if grep -q 'Non-2xx' "$tmp/wrk"; then
    echo "wrk.sh: the $server server answered errors:" >&2
    cat "$tmp/wrk" >&2
    exit 1
  fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk")
}

echo "wrk -t$THREADS -c$CONNS -d$DURATION (after a $WARMUP warm-up), GET / plaintext, $ROUNDS round(s)"
results=""
for round in $(seq "$ROUNDS"); do
  measure graft
  g=$rps
  measure nethttp
  n=$rps
  results="$results$round $g $n
"
  awk -v r="$round" -v g="$g" -v n="$n" \
    'BEGIN { printf "round %d: graft %10.0f req/s   nethttp %10.0f req/s   graft/nethttp %.3f\n", r, g, n, g / n }'
done
printf '%s' "$results" | awk '
  { g += $2; n += $3; rounds++ }
  END { printf "mean:    graft %10.0f req/s   nethttp %10.0f req/s   graft/nethttp %.3f\n", g / rounds, n / rounds, g / n }'
# Other tenants of a shared machine can take the CPU away during one run;
# the median of the per-round ratios is the figure to quote.
printf '%s' "$results" | awk '{ printf "%.6f\n", $2 / $3 }' | sort -n | awk '
  { r[NR] = $1 }
  END { m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "median graft/nethttp ratio over %d round(s): %.3f\n", NR, m }'
