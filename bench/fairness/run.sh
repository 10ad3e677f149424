#!/bin/bash
# The fairness benchmark as docs/benchmarks.md reports it (as root).
# The server (this process's vservers and pool) runs on CPU 0, the
# clients (64-client load of A, probe of B) on the other CPUs, the probe
# at nice -20: as clients on other machines would be. On a 2-CPU machine
# the load and the probe share CPU 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ensure-go.sh >/dev/null
export PATH=/usr/local/go/bin:$PATH
n=$(nproc)
if [ "$n" -lt 2 ]; then
	echo "fairness: needs at least 2 CPUs to keep the clients off the server's CPU" >&2
	exit 1
fi
go build -o /tmp/vnfsd-fairness ./bench/fairness
taskset -c 0 /tmp/vnfsd-fairness -client-cpus "1-$((n - 1))" -probe-nice -20 \
	-variants shared,readers,none -rounds "${ROUNDS:-3}" "$@"
