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

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages"
  npm ci --no-audit --no-fund
fi

# Native pieces (setns addon, CNI forwarder): each src/*/native/build.sh builds into build/.
for script in src/*/native/build.sh; do
  [ -f "$script" ] && bash "$script"
done
exit 0
