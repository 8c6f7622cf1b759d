#!/usr/bin/env bash
# Local infrastructure for `make run` and `make test`: Apache Kafka (KRaft, single
# node), PostgreSQL and Redis. `up` starts only what does not already answer on its
# port and records what it started; `down` stops exactly those, so a developer's own
# services are never touched. `stop NAME` and `start NAME` stop and start one of them,
# its data kept (the fault tests do this to private instances: TFT_RUN_DIR and the
# *_PORT variables give those their own folder and ports).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN="${TFT_RUN_DIR:-$ROOT/.run}"
STARTED="$RUN/started"
KAFKA_LIBS="$ROOT/.kafka/libs"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
# Set to add a SASL_PLAINTEXT listener (PLAIN and SCRAM-SHA-512) for one user, as the
# security tests do; KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD name that user.
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-}"
# Set both to add a listener that clients reach through a proxy, as the network fault
# tests do with Toxiproxy: the broker listens on KAFKA_PROXIED_PORT and tells clients
# that it is at KAFKA_PROXY_PORT, so that every connection goes through the proxy.
KAFKA_PROXIED_PORT="${KAFKA_PROXIED_PORT:-}"
KAFKA_PROXY_PORT="${KAFKA_PROXY_PORT:-}"
PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
mkdir -p "$RUN"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # port name seconds
  for _ in $(seq 1 $(( $3 * 5 ))); do listening "$1" && return 0; sleep 0.2; done
  echo "services: $2 did not answer on port $1 within $3 s" >&2
  return 1
}

as_postgres() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

kafka_up() {
  listening "$KAFKA_PORT" && { echo "services: kafka already on $KAFKA_PORT"; return; }
  [ -d "$KAFKA_LIBS" ] || { echo "services: $KAFKA_LIBS missing, run make setup" >&2; exit 1; }
  local data="$RUN/kafka" conf="$RUN/kafka.properties"
  sed -e "s#@DATA@#$data/log#" -e "s#@PORT@#$KAFKA_PORT#" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#" "$ROOT/scripts/kafka/server.properties" > "$conf"
  local scram=() listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
  local advertised="PLAINTEXT://127.0.0.1:$KAFKA_PORT" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [ -n "$KAFKA_PROXIED_PORT" ]; then
    listeners+=",PROXIED://127.0.0.1:$KAFKA_PROXIED_PORT"
    advertised+=",PROXIED://127.0.0.1:${KAFKA_PROXY_PORT:?}"
    protocols+=",PROXIED:PLAINTEXT"
  fi
  if [ -n "$KAFKA_SASL_PORT" ]; then
    local user="${KAFKA_SASL_USERNAME:?}" password="${KAFKA_SASL_PASSWORD:?}"
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT"
    advertised+=",SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
    cat >> "$conf" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user="$password";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
    chmod 600 "$conf"
    scram=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
  fi
  # Later keys win in a properties file: these replace the listener lines of the template.
  printf 'listeners=%s\nadvertised.listeners=%s\nlistener.security.protocol.map=%s\n' \
    "$listeners" "$advertised" "$protocols" >> "$conf"
  local cp="$KAFKA_LIBS/*" log4j="-Dlog4j.configuration=file:$ROOT/scripts/kafka/log4j.properties"
  if [ ! -f "$data/log/meta.properties" ]; then
    mkdir -p "$data/log"
    java $log4j -cp "$cp" kafka.tools.StorageTool format -t "$(java $log4j -cp "$cp" kafka.tools.StorageTool random-uuid)" -c "$conf" "${scram[@]}" >/dev/null
  fi
  nohup java -Xms256m -Xmx1g $log4j -Dkafka.logs.dir="$data" -cp "$cp" kafka.Kafka "$conf" > "$data/server.out" 2>&1 &
  echo $! > "$RUN/kafka.pid"
  wait_for "$KAFKA_PORT" kafka 90
  echo kafka >> "$STARTED"; echo "services: kafka started on $KAFKA_PORT"
}

kafka_stop() {
  [ -f "$RUN/kafka.pid" ] || return 0
  local pid; pid=$(cat "$RUN/kafka.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN/kafka.pid"
}

kafka_down() {
  kafka_stop
  # The broker's data is test and demo data: start the next run from a clean log. The
  # worker's table state (default TFT_STATE_DIR) points into that log, so it goes too;
  # Faust would rightly refuse offsets beyond the end of a new, empty changelog.
  rm -rf "$RUN/kafka" "$RUN/faust"
}

postgres_up() {
  listening "$PG_PORT" && { echo "services: postgres already on $PG_PORT"; return; }
  local bin data="$RUN/pgdata"; bin=$(pg_bin)
  [ -n "$bin" ] || { echo "services: PostgreSQL not installed, run make setup" >&2; exit 1; }
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data" "$RUN"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$data" -l "$RUN/postgres.log" -w \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  wait_for "$PG_PORT" postgres 30
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" \
    | grep -q 1 || "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres test
  echo postgres >> "$STARTED"; echo "services: postgres started on $PG_PORT"
}

postgres_stop() { as_postgres "$(pg_bin)/pg_ctl" -D "$RUN/pgdata" -m fast -w stop >/dev/null || true; }
postgres_down() { postgres_stop; }

redis_up() {
  listening "$REDIS_PORT" && { echo "services: redis already on $REDIS_PORT"; return; }
  command -v redis-server >/dev/null || { echo "services: redis-server not installed, run make setup" >&2; exit 1; }
  mkdir -p "$RUN/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
    --dir "$RUN/redis" --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
  wait_for "$REDIS_PORT" redis 10
  echo redis >> "$STARTED"; echo "services: redis started on $REDIS_PORT"
}

redis_stop() {
  [ -f "$RUN/redis.pid" ] || return 0
  local pid; pid=$(cat "$RUN/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$RUN/redis.pid"
}
redis_down() { redis_stop; }

case "${1:-}" in
  up) postgres_up; redis_up; kafka_up ;;
  down)
    [ -f "$STARTED" ] || exit 0
    for s in $(tac "$STARTED" | awk '!seen[$0]++'); do "${s}_down"; echo "services: $s stopped"; done
    rm -f "$STARTED" ;;
  stop) "${2:?name}_stop"; echo "services: $2 stopped" ;;
  start) "${2:?name}_up" ;;
  *) echo "usage: $0 up|down|stop NAME|start NAME" >&2; exit 2 ;;
esac
