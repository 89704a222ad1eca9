#!/usr/bin/env bash
# Builds the CNI forwarder into build/native/vpcnet-cni (deploy/bootstrap.sh runs this).
# Overrides: VPCNET_SOCKET (compiled-in agent socket), VPCNET_TIMEOUT_MS.
set -euo pipefail
cd "$(dirname "$0")/../../.."
src=src/cni/native/forwarder.c
out=build/native/vpcnet-cni
mkdir -p build/native
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then exit 0; fi
cc -O2 -std=c11 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
  -DVPCNET_SOCKET="\"${VPCNET_SOCKET:-/run/vpcnet/cni.sock}\"" \
  -DVPCNET_TIMEOUT_MS="${VPCNET_TIMEOUT_MS:-60000}" \
  -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
echo "build: $out"
