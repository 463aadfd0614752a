#!/bin/bash
# postgres-compare.sh ROUNDS CALLBOOK [BEFORE]: the PostgreSQL booking
# figures of docs/PERFORMANCE.md in one run. First pgbench's own write
# ceiling (-N, 16 clients, 20 s, on a fresh pgbench database), then
# ROUNDS rounds of postgres-run.sh with one replica and three, one host
# and eight, for the binary CALLBOOK and, when given, BEFORE, alternating,
# each on a fresh database. It prints one line per run.
set -e
ROUNDS=${1:?rounds}; NEW=${2:?callbook binary}; OLD=$3
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
HERE=$(cd "$(dirname "$0")" && pwd)
echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
dropdb --if-exists pgbench_compare >/dev/null 2>&1 || true
createdb pgbench_compare
pgbench -i -q pgbench_compare >/dev/null 2>&1
pgbench -N -c 16 -j 2 -T 20 pgbench_compare 2>&1 | awk '/^latency average/ {l=$4} /^tps/ {t=$3} END {printf "pgbench -N 16 clients: %.0f tps, latency average %s ms\n", t, l}'
dropdb pgbench_compare
for round in $(seq 1 "$ROUNDS"); do
  for config in "1 1" "3 1" "1 8" "3 8"; do
    for bin in $NEW $OLD; do
      out=$(bash "$HERE/postgres-run.sh" "$bin" $config 2>&1)
      echo "$out" | awk -v bin="$(basename "$bin")" -v cfg="$config" '
        /^throughput/ {t=$2} /^latency/ {p50=$2; p99=$4}
        /^server peak RSS by kind/ {anon=$8; file=$11}
        /^CPU/ {pg=$6; cb=$8}
        /^status codes/ {codes=$3}
        END {split(cfg, c, " "); sub(",", "", pg);
             printf "%s replicas=%s hosts=%s: %s bookings/s %s %s %s pg_cpu_cs=%s callbook_cpu_cs=%s rss_anon_kB=%s rss_file_kB=%s\n",
               bin, c[1], c[2], t, p50, p99, codes, pg, cb, anon, file}'
    done
  done
done
echo "end $(date -u +%FT%TZ)"
