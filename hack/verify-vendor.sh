#!/usr/bin/env bash
# Verifies that go.mod and go.sum are tidy and that vendor/ matches them.
# Changes nothing in the repository: vendor/ is regenerated into a temporary
# directory and compared.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Module mode for this module alone, whatever the caller's environment says.
export GOWORK=off
GO="${GO:-go}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail=0

# go mod tidy -diff prints the changes tidy would make and exits non-zero
# when there are any, without touching go.mod or go.sum.
if ! "$GO" mod tidy -diff >"$tmp/tidy.diff" 2>&1; then
	echo "go.mod/go.sum are not tidy:" >&2
	cat "$tmp/tidy.diff" >&2
	fail=1
fi

if ! "$GO" mod vendor -o "$tmp/vendor" >"$tmp/vendor.log" 2>&1; then
	echo "go mod vendor failed:" >&2
	cat "$tmp/vendor.log" >&2
	fail=1
elif [[ ! -d vendor ]]; then
	echo "vendor/ is missing" >&2
	fail=1
elif ! diff -r vendor "$tmp/vendor" >"$tmp/vendor.diff"; then
	echo "vendor/ differs from go.mod:" >&2
	cat "$tmp/vendor.diff" >&2
	fail=1
fi

if [[ "$fail" -ne 0 ]]; then
	echo "vendor/ is out of date: run go mod tidy && go mod vendor" >&2
	exit 1
fi
echo "go.mod, go.sum and vendor/ are up to date"
