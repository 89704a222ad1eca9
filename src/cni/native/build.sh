#!/usr/bin/env bash
# Builds the CNI forwarder into build/native/vpcnet-cni (deploy/bootstrap.sh runs this).
# Static when the C library allows: the binary is copied onto hosts whose libc may differ from
# the build's, and it skips the dynamic loader on every call (~1 ms CPU here).
# Override: VPCNET_TIMEOUT_MS. The agent socket comes from the network config ("agentSocket").
set -euo pipefail
cd "$(dirname "$0")/../../.."
src=src/cni/native/forwarder.c
out=build/native/vpcnet-cni
mkdir -p build/native
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then exit 0; fi
flags=(-O2 -std=c11 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong
  -DVPCNET_TIMEOUT_MS="${VPCNET_TIMEOUT_MS:-60000}")
if ! cc "${flags[@]}" -static -o "$out.tmp" "$src" 2>/dev/null; then
  echo "build: static link unavailable, linking dynamically" >&2
  cc "${flags[@]}" -o "$out.tmp" "$src"
fi
mv "$out.tmp" "$out"
echo "build: $out"
