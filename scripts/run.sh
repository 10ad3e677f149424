#!/usr/bin/env bash
# Builds vnfsd and runs it with its embedded default: state and data under
# ./vnfsd-data (or the directory given with --data), the directory
# ./vnfsd-data/export served as /export over NFSv3 on 127.0.0.1
# (NFS 2049, MOUNT 20048, portmapper 111). Extra arguments go to `vnfsd serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-go.sh
mkdir -p bin
go build -o bin/vnfsd ./cmd/vnfsd
exec ./bin/vnfsd serve "$@"
