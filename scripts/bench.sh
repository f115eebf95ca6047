#!/usr/bin/env bash
# Whole-process benchmark of a cache hit (see BENCHMARKS.md).
#
# Builds the three programs of cmd/... (default flags and -ldflags="-s -w")
# and a Go hello world with the same toolchain, prints the binary sizes, then
# runs scripts/benchhit: cache hits of the front and of the engine run
# directly (every command in one program) (and gke-gcloud-auth-plugin
# answering from its own cache when it is on PATH), each timed right after a
# hello world run, their median ratios and peak RSS, and the 64-process
# cold-cache scenario against the in-process emulator.
#
#   scripts/bench.sh                 # 200 rounds
#   ROUNDS=500 scripts/bench.sh      # more rounds
#   BENCH_ARGS="-concurrent 0" scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The three programs side by side, as installed: the front execs the engine
# next to it for everything but a cache hit.
go build -o "$out/" ./cmd/...
go build -ldflags="-s -w" -o "$out/stripped/" ./cmd/...

mkdir -p "$out/hello"
cat >"$out/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
EOF
(cd "$out/hello" && GOFLAGS= GO111MODULE=on go mod init hello >/dev/null 2>&1 && go build -o "$out/hello-world" .)

# Every program is timed from a copy, as a package manager leaves it: a
# binary just written by the linker (through a memory mapping) started
# about 10 % slower than a copy of itself (hello world; the front 4 %) on
# Linux 6.18, most likely because the page cache holds it in smaller
# folios, so the ratios depended on how each file was last written.
for f in "$out"/veeam-credential-helper* "$out/hello-world"; do
  cp "$f" "$f.tmp" && mv "$f.tmp" "$f"
done

size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }
echo "$(go version)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(getconf _NPROCESSORS_ONLN) cores)"
for b in veeam-credential-helper veeam-credential-helper-engine veeam-credential-helper-plugin; do
  printf '%-32s %9s bytes, %9s with -ldflags="-s -w"\n' "$b" "$(size "$out/$b")" "$(size "$out/stripped/$b")"
done
printf '%-32s %9s bytes\n\n' "go hello world" "$(size "$out/hello-world")"

gke=()
if p=$(command -v gke-gcloud-auth-plugin); then
  gke=(-gke "$p")
else
  echo "# gke-gcloud-auth-plugin is not on PATH: not timed"
fi

# shellcheck disable=SC2086
go run ./scripts/benchhit -bin "$out/veeam-credential-helper" -hello "$out/hello-world" \
  -bin2 "$out/veeam-credential-helper-engine" -bin2-label "engine run directly" \
  -n "${ROUNDS:-200}" "${gke[@]}" ${BENCH_ARGS:-}
