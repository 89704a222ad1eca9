#!/usr/bin/env bash
# Builds the setns N-API addon into build/native/setns.node with gcc. N-API is ABI-stable,
# so the system Node headers (/usr/include/node) serve any newer Node runtime.
set -euo pipefail
cd "$(dirname "$0")/../../.."
src=src/datapath/native/setns.c
out=build/native/setns.node
[ -f "$out" ] && [ "$out" -nt "$src" ] && exit 0
inc=""
for d in /usr/include/node /usr/local/include/node "$(dirname "$(command -v node)")/../include/node"; do
  [ -f "$d/node_api.h" ] && { inc="$d"; break; }
done
[ -n "$inc" ] || { echo "setns addon: node_api.h not found (install nodejs headers, e.g. libnode-dev)" >&2; exit 1; }
mkdir -p build/native
gcc -O2 -Wall -Wextra -fPIC -shared -DNODE_GYP_MODULE_NAME=setns -I"$inc" -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
echo "setns addon: built $out"
