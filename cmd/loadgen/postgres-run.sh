#!/bin/bash
# postgres-run.sh CALLBOOK REPLICAS HOSTS: one business-hours booking run
# on PostgreSQL, as docs/PERFORMANCE.md reports it. It makes a fresh
# database ($PGDATABASE, default callbook_perf) on the server at PGHOST
# (default 127.0.0.1, user postgres), migrates it with the binary CALLBOOK,
# adds HOSTS hosts when more than one (else the default host takes the
# calls), starts REPLICAS replicas on 127.0.0.1:18181…, runs loadgen
# (LOADGEN, default `go run ./cmd/loadgen`) with 16 clients, and prints its
# figures, the CPU the database and the replicas used, and the wait
# events of the database's active sessions sampled every 50 ms.
set -e
BIN=$1; R=${2:-1}; H=${3:-1}
LOADGEN=${LOADGEN:-go run ./cmd/loadgen}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
DB=${PGDATABASE:-callbook_perf}
OUT=$(mktemp -d)
dropdb --if-exists -f "$DB" >/dev/null 2>&1 || true
createdb "$DB"
export CALLBOOK_DATABASE_URL="postgres://$PGUSER@$PGHOST:5432/$DB?sslmode=disable" \
       CALLBOOK_SECRET=perf-secret-0123456789abcdef0123456789 CALLBOOK_RATE_LIMIT=0
$BIN migrate >/dev/null 2>&1
echo 'quiet-orchid-lantern-7719' | $BIN user add --email bench@example.com --name Loadrunner --role admin >/dev/null
if [ "$H" -gt 1 ]; then
  for i in $(seq 1 "$H"); do
    echo 'quiet-orchid-lantern-7719' | $BIN user add --email "host$i@example.com" --name "Host $i" --role sales --host >/dev/null
  done
fi
TOKEN=$($BIN token create --email bench@example.com --name bench)
PIDS=(); URLS=()
for i in $(seq 1 "$R"); do
  CALLBOOK_ADDR=127.0.0.1:$((18180+i)) $BIN serve >"$OUT/serve$i.log" 2>&1 & PIDS+=($!)
  URLS+=("http://127.0.0.1:$((18180+i))")
done
for u in "${URLS[@]}"; do for _ in $(seq 1 300); do curl -sf "$u/readyz" >/dev/null 2>&1 && break; sleep 0.1; done; done
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sum() { local s=0; for p in "$@"; do s=$((s+$(ticks "$p"))); done; echo $s; }
pg0=$(sum $(pgrep -u postgres postgres)); cb0=$(sum "${PIDS[@]}")
# One session samples, so the sampling costs no connection per sample.
while true; do
  echo "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '-'), count(*) FROM pg_stat_activity
    WHERE datname = '$DB' AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1, 2;"
  echo "SELECT pg_sleep(0.05);"
done | psql -d "$DB" -Atq >>"$OUT/waits.txt" 2>/dev/null & SAMPLER=$!
U=$(IFS=,; echo "${URLS[*]}")
$LOADGEN -workload business-hours -c 16 -token "$TOKEN" -url "$U" -pid "${PIDS[0]}" || true
kill $SAMPLER; wait $SAMPLER 2>/dev/null || true
pg1=$(sum $(pgrep -u postgres postgres)); cb1=$(sum "${PIDS[@]}")
kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true
echo "replicas=$R hosts=$H load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU (1/100 s): postgres backends $((pg1-pg0)), callbook $((cb1-cb0))"
echo "wait events (samples):"
awk -F'|' 'NF == 3 {a[$1"|"$2]+=$3} END {for (k in a) print a[k], k}' "$OUT/waits.txt" | sort -rn | head -8
