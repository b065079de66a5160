#!/usr/bin/env bash
# A local cluster until Ctrl-C: a throwaway PostgreSQL (initdb in data/cluster/pg), Redis, N server instances
# and HAProxy in front of them on port 8001 (IZI_PORT). Called by `scripts/run --cluster N`; everything it
# starts is stopped when it ends. Logs: data/cluster/*.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

count="${1:-2}"
[[ "$count" =~ ^[1-9][0-9]*$ ]] || fail "usage: scripts/run --cluster N (N instances, 1 or more)"
shift || true

ensure_tools
load_env
build_app
step "Building the server"
cargo build --quiet -p server
server_bin="target/debug/server"

dir="$PWD/data/cluster"
rm -rf "$dir"
mkdir -p "$dir"
pids=()
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
# PostgreSQL refuses to run as root: then it runs as Debian's `postgres` user.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  chown postgres "$dir"
fi

stop_all() {
  trap - INT TERM EXIT
  step "Stopping the cluster"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  exit 0
}
trap stop_all INT TERM EXIT

# The first port from $1 up that nothing listens on.
free_port() {
  local port="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Whether http://127.0.0.1:$1/api/ready answers 200 (bash alone: a fresh machine may lack curl).
ready() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /api/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  local status
  read -r _ status _ <&3 || return 1
  exec 3<&-
  [ "$status" = 200 ]
}

wait_for() { # what, command...
  local what="$1"
  shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "$what did not come up: see $dir"
}

balancer_port="${IZI_PORT:-8001}"
if (exec 3<>"/dev/tcp/127.0.0.1/$balancer_port") 2>/dev/null; then
  fail "port $balancer_port is taken: stop what runs there or set IZI_PORT"
fi

step "Starting PostgreSQL"
pg_port="$(free_port 55432)"
"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/pg" -U izi --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w \
  -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400" start >/dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U izi -d postgres -qc "CREATE DATABASE izishopin"
database_url="postgres://izi@127.0.0.1:$pg_port/izishopin"

step "Starting Redis"
redis_port="$(free_port 56379)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$dir/redis.log" 2>&1 &
pids+=($!)
wait_for "Redis" bash -c "exec 3<>/dev/tcp/127.0.0.1/$redis_port"

# Every instance signs and checks tokens with the same secret.
secret="${IZI_JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
origins="http://localhost:$balancer_port,http://127.0.0.1:$balancer_port"
servers=""
instance_ports=()
next=8101
for n in $(seq 1 "$count"); do
  port="$(free_port "$next")"
  next=$((port + 1))
  step "Starting instance $n on port $port"
  IZI_JWT_SECRET="$secret" "$server_bin" --port "$port" --database-url "$database_url" \
    --redis-url "redis://127.0.0.1:$redis_port" --trusted-proxies 127.0.0.1 --allowed-origins "$origins" \
    "$@" >"$dir/instance-$n.log" 2>&1 &
  pids+=($!)
  # One at a time: the first migrates and seeds the database.
  wait_for "instance $n" ready "$port"
  instance_ports+=("$port")
  servers+="    server i$n 127.0.0.1:$port check"$'\n'
done

step "Starting HAProxy on port $balancer_port"
haproxy_bin="$(command -v haproxy || echo /usr/sbin/haproxy)"
config="$(<scripts/cluster/haproxy.cfg)"
config="${config//@PORT@/$balancer_port}"
printf '%s\n' "${config//@SERVERS@/$servers}" >"$dir/haproxy.cfg"
"$haproxy_bin" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)
wait_for "HAProxy" ready "$balancer_port"

cat <<EOF

IziShopin Live, cluster of $count: http://localhost:$balancer_port (HAProxy, Ctrl-C stops everything)
  instances:   ${instance_ports[*]/#/127.0.0.1:}   (metrics: http://127.0.0.1:${instance_ports[0]}/metrics)
  PostgreSQL:  $database_url
  Redis:       redis://127.0.0.1:$redis_port
  logs:        $dir/*.log
Demo logins: admin@izishopin.test, owner1@izishopin.test, customer1@izishopin.test (password: demo1234)
EOF
wait -n "${pids[@]}" || true
fail "a process of the cluster stopped: see $dir/*.log"
