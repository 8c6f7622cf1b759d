#!/usr/bin/env bash
# Run a command with Kafka, PostgreSQL and Redis up; stop afterwards what was started
# for it, also on Ctrl-C. The command's exit status is the script's.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
trap '"$here/services.sh" down' EXIT
"$here/services.sh" up || exit 1
"$@" &
child=$!
# Ctrl-C reaches the whole process group; TERM makes sure the child shuts down cleanly.
trap 'kill -TERM "$child" 2>/dev/null' INT TERM
rc=0
wait "$child" || rc=$?
while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
exit "$rc"
