#!/usr/bin/env bash
# Prepares a Linux host for vpcnet's demo and tests: Debian packages (when root), npm packages
# (Node 24 arrives with them as a devDependency), and the native pieces built from source.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(grep -vE '^\s*(#|$)' deploy/debian-packages.txt)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
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

# npm packages, reinstalled when package-lock.json changes. `npm install --no-save` rather
# than `npm ci`: npm 11 drops other platforms' optional binaries (@swc/core-*) from the lock
# and then `npm ci` refuses it; install still honours every locked version.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/node ] || [ "$(cat node_modules/.vpcnet-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "bootstrap: installing npm packages"
  npm install --no-save --no-audit --no-fund
  echo "$lock_hash" > node_modules/.vpcnet-lock-hash
fi

# Native pieces (setns addon, CNI forwarder): each src/*/native/build.sh builds into build/.
for script in src/*/native/build.sh; do
  [ -f "$script" ] && bash "$script"
done
exit 0
