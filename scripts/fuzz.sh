#!/usr/bin/env bash
# Runs every Go fuzz target of the module (each `func FuzzXxx(f *testing.F)`
# in a *_test.go file) for a short time each, one after the other, and fails
# on the first crash, printing the failing input's path.
#
#   scripts/fuzz.sh [FUZZTIME] [REGEXP]
#
# FUZZTIME is go test's -fuzztime (default 10s; "5s", "1m", "10000x").
# REGEXP, when given, only runs targets whose "dir.FuzzName" matches it.
# A crash leaves its input in <package>/testdata/fuzz/<FuzzName>/, where
# `go test` replays it from then on (commit it with the fix).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${1:-10s}"
filter="${2:-}"

# dir<TAB>FuzzName for every fuzz target, in a stable order.
targets=$(
  find . -name node_modules -prune -o -name testdata -prune -o -name '.*' ! -name . -prune -o \
    -name '*_test.go' -type f -print |
    while read -r f; do
      sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)([A-Za-z0-9_]* *\*testing\.F).*/\1/p' "$f" |
        while read -r name; do printf '%s\t%s\n' "$(dirname "$f")" "$name"; done
    done | sort -u
)
if [ -z "$targets" ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

# deadline_race reports whether a failed run is Go's fuzzing coordinator
# racing its own -fuzztime deadline (go.dev/issue/75804, fixed in Go 1.27):
# "context deadline exceeded", no crashing input written, and the target's
# corpus replays clean. Under load it fails a run that found nothing.
deadline_race() {
  local log=$1 corpus=$2 before=$3 dir=$4 name=$5
  grep -q 'context deadline exceeded' "$log" || return 1
  [ "$(ls "$corpus" 2>/dev/null | sort || true)" = "$before" ] || return 1
  go test -count=1 -run="^${name}\$" "$dir" >/dev/null 2>&1 || return 1
  echo "   the fuzzing coordinator's deadline race (go.dev/issue/75804): no crashing input; the corpus replays clean"
}

summary=""
failed=0
ran=0
while IFS=$'\t' read -r dir name; do
  if [ -n "$filter" ] && ! printf '%s.%s\n' "$dir" "$name" | grep -Eq -- "$filter"; then
    continue
  fi
  echo "== $dir $name ($fuzztime)"
  log=$(mktemp)
  corpus="$dir/testdata/fuzz/$name"
  before=$(ls "$corpus" 2>/dev/null | sort || true)
  if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir" >"$log" 2>&1 ||
    deadline_race "$log" "$corpus" "$before" "$dir" "$name"; then
    if grep -q 'matches no fuzz tests' "$log"; then
      # A target behind a build constraint for another platform.
      echo "   not built on this platform: skipped"
      summary+=$(printf '%-48s %s' "$dir $name" "skipped")$'\n'
    else
      execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
      echo "   ok, ${execs:-?} execs"
      summary+=$(printf '%-48s %s execs' "$dir $name" "${execs:-?}")$'\n'
      ran=$((ran + 1))
    fi
  else
    failed=1
    cat "$log"
    summary+=$(printf '%-48s %s' "$dir $name" "FAILED")$'\n'
    echo "fuzz.sh: $name in $dir failed; a crashing input is in $dir/testdata/fuzz/$name/" >&2
  fi
  rm -f "$log"
  [ "$failed" = 0 ] || break
done <<<"$targets"

echo
echo "== fuzz summary ($fuzztime each)"
printf '%s' "$summary"
if [ "$failed" != 0 ]; then
  exit 1
fi
if [ "$ran" = 0 ]; then
  echo "fuzz.sh: no fuzz target ran" >&2
  exit 1
fi
