#!/usr/bin/env bash
# Three imagegate replicas, Redis, an S3-compatible store (moto) and nginx, all on 127.0.0.1.
# Ctrl-C stops everything. Needs redis-server, nginx and envsubst on PATH, and the imagegate
# command with the redis, storage-s3 and http plugins (`make install`, or pip install 'imagegate[all]').
#
#   deploy/run-local.sh                # REPLICAS=3 PORT=8080 REDIS_PORT=6379 S3_PORT=5000
#   curl -s http://127.0.0.1:8080/v1/models
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
replicas="${REPLICAS:-3}" port="${PORT:-8080}" redis_port="${REDIS_PORT:-6379}" s3_port="${S3_PORT:-5000}"
work="$(mktemp -d "${TMPDIR:-/tmp}/imagegate-deploy.XXXXXX")"
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; rm -rf "$work"; }
trap stop EXIT INT TERM

wait_for() {  # URL: poll until it answers 200
  for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; return 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" & pids+=($!)
moto_server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$s3_port/moto-api/data.json"

set -a
# shellcheck source=/dev/null
. "$here/replica.env"
REDIS__URL="redis://127.0.0.1:$redis_port/0"
GATEWAY__PUBLIC_URL="http://127.0.0.1:$port"
STORAGE__S3__ENDPOINT_URL="http://127.0.0.1:$s3_port"
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
set +a
curl -fs -X PUT "$STORAGE__S3__ENDPOINT_URL/$STORAGE__S3__BUCKET" >/dev/null   # moto: make the bucket

upstreams=""
for i in $(seq "$replicas"); do
  replica_port=$((port + i))
  STORAGE__SPOOL_DIR="$work/replica$i/spool" imagegate serve http --host 127.0.0.1 --port "$replica_port" \
    >"$work/replica$i.log" 2>&1 & pids+=($!)
  upstreams+="server 127.0.0.1:$replica_port max_fails=2 fail_timeout=5s;"$'\n        '
done
for i in $(seq "$replicas"); do wait_for "http://127.0.0.1:$((port + i))/healthz"; done

mkdir -p "$work/nginx"
LISTEN="127.0.0.1:$port" REPLICAS="$upstreams" envsubst '${LISTEN} ${REPLICAS}' \
  <"$here/nginx.conf.template" >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
wait_for "http://127.0.0.1:$port/healthz"

echo "imagegate: http://127.0.0.1:$port ($replicas replicas; logs in $work)"
wait
