#!/usr/bin/env bash
# PostgreSQL and Redis from Debian's packages, and Chromium for the status page's browser
# test, installed only when missing.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q "${missing[@]}" >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
# The packages start their own services on the default ports; ours are started by
# scripts/services.sh, so stop the distribution's to leave the ports to it.
for s in redis-server postgresql; do $sudo service "$s" stop >/dev/null 2>&1 || true; done
