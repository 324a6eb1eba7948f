#!/usr/bin/env bash
# Runs one fuzzer for a bounded time: hack/fuzz.sh PACKAGE FUZZER FUZZTIME.
#
# Go 1.26's fuzzing coordinator can fail a run that found nothing with a
# bare "context deadline exceeded" when -fuzztime ends while a worker is
# busy (go.dev/issue/75804, fixed in Go 1.27). Such a run writes no failing
# input. So a failure counts when the fuzzer wrote an input to
# testdata/fuzz/FUZZER, or failed in any other way; the coordinator's race
# alone is reported, the whole corpus is run again as a plain test, and the
# fuzzer gets one more run.
set -uo pipefail
pkg="$1" fuzzer="$2" fuzztime="$3"
corpus="$pkg/testdata/fuzz/$fuzzer"
inputs() { ls "$corpus" 2>/dev/null | sort; }

for try in 1 2; do
  before="$(inputs)"
  out="$(mktemp)"
  "${GO:-go}" test "./$pkg" -run '^$' -fuzz "^$fuzzer\$" -fuzztime "$fuzztime" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  new="$(comm -13 <(echo "$before") <(inputs))"
  race=0
  if [ "$rc" -ne 0 ] && [ -z "$new" ] && grep -q '^    context deadline exceeded$' "$out" &&
    [ "$(grep -c '^--- FAIL' "$out")" -eq 1 ]; then
    race=1
  fi
  rm -f "$out"
  if [ "$rc" -eq 0 ]; then
    exit 0
  fi
  if [ "$race" -eq 0 ]; then
    [ -n "$new" ] && echo "fuzz $fuzzer: failing input written: $corpus/$new"
    exit 1
  fi
  echo "fuzz $fuzzer: the coordinator's deadline race (go.dev/issue/75804), no failing input; running the corpus again"
  "${GO:-go}" test "./$pkg" -run "^$fuzzer\$" -count=1 || exit 1
done
echo "fuzz $fuzzer: the coordinator's deadline race twice in a row"
exit 1
