#!/usr/bin/env bash
# Prepares a Linux host for vpcnet's demo and tests: Debian packages (when root), npm packages
# (Node 24 arrives with them as a devDependency), and the native pieces built from source.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(grep -vE '^\s*(#|$)' deploy/debian-packages.txt)
# One dpkg-query for all of them (one call per package costs ~60 ms each on a busy machine).
mapfile -t installed < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }')
missing=()
for p in "${wanted[@]}"; do
  [[ " ${installed[*]} " == *" $p "* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: WARNING missing Debian packages (need root to install): ${missing[*]}" >&2
  fi
fi

# npm packages from the committed lockfile (`npm ci`), reinstalled only when it changes.
# npm runs on the project's Node 24 (the `node` devDependency): run by an older system Node it
# would warn that packages need Node >= 22/24, although nothing here ever runs on that Node.
# On a fresh machine that Node is fetched once into a temporary prefix first.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat node_modules/.vpcnet-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "bootstrap: installing npm packages (npm ci)"
  npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  node_bin=node
  want=$(node -p 'require("./package.json").devDependencies?.node ?? ""' 2>/dev/null || true)
  have=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
  tmp_node=""
  if [ -x node_modules/.bin/node ]; then
    node_bin=node_modules/.bin/node
  elif [ -n "$want" ] && [ "${have%%.*}" != "${want%%.*}" ]; then
    tmp_node=$(mktemp -d)
    npm install --prefix "$tmp_node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$want" >/dev/null
    node_bin="$tmp_node/node_modules/.bin/node"
  fi
  "$node_bin" "$npm_cli" ci --no-audit --no-fund
  if [ -n "$tmp_node" ]; then rm -rf "$tmp_node"; fi
  echo "$lock_hash" > node_modules/.vpcnet-lock-hash
fi

# Native pieces (setns addon, CNI forwarder): each src/*/native/build.sh builds into build/.
for script in src/*/native/build.sh; do
  [ -f "$script" ] && bash "$script"
done
exit 0
