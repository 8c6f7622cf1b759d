#!/usr/bin/env bash
# PostgreSQL and Redis from Debian's packages, Chromium for the status page's browser
# test, and Prometheus (promtool and the server) for the alert rules' tests, installed
# only when missing.
set -euo pipefail
missing=(); bare=()  # bare: without the recommended packages
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
# Prometheus recommends the node exporter, smartd and more: services we do not want.
command -v promtool >/dev/null || bare+=(prometheus)
[ ${#missing[@]} -eq 0 ] && [ ${#bare[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
echo installing "${missing[@]}" "${bare[@]}" "from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt_install() {  # apt-get install's arguments; the package lists are refreshed if they are stale
  $sudo apt-get install -y -q "$@" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
[ ${#bare[@]} -eq 0 ] || apt_install --no-install-recommends "${bare[@]}"
# The packages start their own services on the default ports; ours are started by
# scripts/services.sh, so stop the distribution's to leave the ports to it. The tests
# start their own Prometheus, so the distribution's is not started at boot either.
for s in redis-server postgresql prometheus; do $sudo service "$s" stop >/dev/null 2>&1 || true; done
if [ ${#bare[@]} -gt 0 ]; then
  $sudo systemctl disable prometheus >/dev/null 2>&1 || $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
