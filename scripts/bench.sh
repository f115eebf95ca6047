#!/usr/bin/env bash
# Whole-process benchmark of a cache hit (see BENCHMARKS.md).
#
# Builds veeam-credential-helper (default flags, -ldflags="-s -w" and
# CGO_ENABLED=0), veeam-credential-helper-plugin (size only) and a
# Go hello world with the same toolchain, prints the binary sizes, then runs
# scripts/benchhit: cache hits timed alternately with the hello world (and
# with gke-gcloud-auth-plugin answering from its own cache when it is on
# PATH), their median ratios and peak RSS, and the 64-process cold-cache
# scenario against the in-process emulator.
#
#   scripts/bench.sh                 # 200 rounds
#   ROUNDS=500 scripts/bench.sh      # more rounds
#   BENCH_ARGS="-concurrent 0" scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

go build -o "$out/veeam-credential-helper" ./cmd/veeam-credential-helper
go build -ldflags="-s -w" -o "$out/veeam-credential-helper-stripped" ./cmd/veeam-credential-helper
# Without cgo the binary is statically linked: no dynamic loader at start-up.
CGO_ENABLED=0 go build -o "$out/veeam-credential-helper-static" ./cmd/veeam-credential-helper
go build -o "$out/veeam-credential-helper-plugin" ./cmd/veeam-credential-helper-plugin

mkdir -p "$out/hello"
cat >"$out/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
EOF
(cd "$out/hello" && GOFLAGS= GO111MODULE=on go mod init hello >/dev/null 2>&1 && go build -o "$out/hello-world" .)

size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }
echo "$(go version)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(getconf _NPROCESSORS_ONLN) cores)"
printf 'veeam-credential-helper: %s bytes default, %s bytes with -ldflags="-s -w", %s bytes with CGO_ENABLED=0\n' \
  "$(size "$out/veeam-credential-helper")" "$(size "$out/veeam-credential-helper-stripped")" "$(size "$out/veeam-credential-helper-static")"
printf 'veeam-credential-helper-plugin (go-plugin server, not on the hit path): %s bytes; hello world %s bytes\n\n' \
  "$(size "$out/veeam-credential-helper-plugin")" "$(size "$out/hello-world")"

gke=()
if p=$(command -v gke-gcloud-auth-plugin); then
  gke=(-gke "$p")
else
  echo "# gke-gcloud-auth-plugin is not on PATH: not timed"
fi

# shellcheck disable=SC2086
go run ./scripts/benchhit -bin "$out/veeam-credential-helper" -hello "$out/hello-world" \
  -bin2 "$out/veeam-credential-helper-static" -bin2-label "CGO_ENABLED=0 build" \
  -n "${ROUNDS:-200}" "${gke[@]}" ${BENCH_ARGS:-}
