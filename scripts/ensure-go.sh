#!/usr/bin/env bash
# Sourced by the other scripts: makes sure a Go toolchain at least as new as
# go.mod's is on PATH. The machines this project runs on ship Go in
# /usr/local/go; a fresh Debian 12 has only Go 1.19 in its archive, so there
# we install that and use it to fetch the real toolchain from the Go module
# proxy (module golang.org/toolchain), which is how the go command itself
# upgrades.
set -euo pipefail
want=$(awk '/^go /{print $2; exit}' "$(dirname "${BASH_SOURCE[0]}")/../go.mod")
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

go_ok() {
	command -v go >/dev/null 2>&1 || return 1
	local have
	have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
	[ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

if ! go_ok; then
	echo "ensure-go: need Go >= $want; installing a bootstrap Go from Debian and the toolchain module" >&2
	if ! command -v go >/dev/null 2>&1; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go ca-certificates >/dev/null
	fi
	tc="golang.org/toolchain@v0.0.1-go${want}.linux-$(go env GOARCH)"
	dir=$(GOFLAGS=-mod=mod go mod download -json "$tc" | awk -F'"' '/"Dir"/{print $4}')
	# Module zips carry no file modes; the go command marks these executable
	# when it switches toolchains itself, and so do we.
	chmod a+x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
	[ -x "$dir/bin/go" ] || { echo "ensure-go: could not fetch $tc" >&2; exit 1; }
	export PATH="$dir/bin:$PATH"
	go_ok || { echo "ensure-go: $dir/bin/go is not Go $want" >&2; exit 1; }
fi
