#!/usr/bin/env bash
# Runs the side-by-side comparison of vnfsd and NFS-Ganesha (bench/compare)
# from a clean clone: installs what it needs from Debian (nfs-ganesha,
# nfs-ganesha-vfs, rpcbind, iproute2) when missing, makes sure Go is there,
# then runs `go run ./bench/compare` with the arguments given, e.g.
#
#	sudo bench/compare/run.sh                       # full comparison, NFSv3 (~12 min)
#	sudo bench/compare/run.sh -vers 4.1             # the same over NFSv4.1 (~12 min)
#	sudo bench/compare/run.sh -vers 3,4.1           # both (~24 min)
#	sudo bench/compare/run.sh -rounds 1 -duration 3s -workloads read4k,getattr
#	sudo bench/compare/run.sh -json-out /tmp/compare.json
#
# Must run as root (network namespace, ganesha). Nothing it starts outlives
# it; see bench/compare/main.go.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: must run as root" >&2
	exit 1
fi
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v rpcbind >/dev/null 2>&1 || need+=(rpcbind)
command -v ganesha.nfsd >/dev/null 2>&1 || need+=(nfs-ganesha)
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || need+=(nfs-ganesha-vfs)
if [ ${#need[@]} -gt 0 ]; then
	echo "run.sh: installing ${need[*]}" >&2
	apt-get update -qq
	# Keep the packages from starting host-wide rpcbind and ganesha
	# services: the comparison starts its own inside a network namespace.
	prc=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		prc=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$prc"
		chmod +x "$prc"
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || rc=$?
	[ -z "$prc" ] || rm -f "$prc"
	[ $rc = 0 ] || { echo "run.sh: apt-get install failed" >&2; exit $rc; }
fi
source scripts/ensure-go.sh
exec go run ./bench/compare "$@"
