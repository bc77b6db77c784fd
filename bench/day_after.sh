#!/bin/bash
# The day after, before and after a change: one lakehouse, days landed one at a time, each built by
# `sparkify daily --no-maintain` from the two checkouts in turn (after, before, after, before), so
# both see the same lakehouse size and page cache. Each checkout needs its own `make setup`.
#
#   bench/day_after.sh AFTER_CHECKOUT BEFORE_CHECKOUT WORK USERS
#
# WORK gets raw/ (a log of USERS users, full-scale catalogue, seed 1), lakehouse/ (ingest, build,
# train by AFTER), then four days from 2018-12-03; per-run logs are WORK/daily-<day>-<after|before>.log
# and dbt's node timings are in WORK/dbt-logs/dbt.log. BEFORE_CHECKOUT "-" runs every day with AFTER
# (for a change whose tables the code before it cannot continue); DAYS (default 4) sets how many.
# Last, each mart's full rebuild is timed in the same lakehouse, for the incremental ones' comparison.
set -euo pipefail
after=$(realpath "$1") work=$(realpath -m "$3") users=$4
before=$after
if [ "$2" != "-" ]; then before=$(realpath "$2"); fi
mkdir -p "$work"
export SPARKIFY_LAKEHOUSE=$work/lakehouse SPARKIFY_RAW_DIR=$work/raw DBT_LOG_PATH=$work/dbt-logs
export DBT_TARGET_PATH=$work/dbt-target-after

seconds_since() { echo "$(date +%s.%N) - $1" | bc; }

"$after/.venv/bin/python" -m sparkify.app generate --scale full --users "$users" --seed 1 --out "$work/raw" --quiet
for stage in ingest build train; do
  start=$(date +%s.%N)
  (cd "$after" && .venv/bin/python -m sparkify.app "$stage" > "$work/base-$stage.log" 2>&1)
  echo "base $stage $(seconds_since "$start") s"
done
turn=0
for offset in $(seq 0 $((${DAYS:-4} - 1))); do
  day=$(date -d "2018-12-03 + $offset day" +%F)
  "$after/.venv/bin/python" -m sparkify.app generate --scale full --users "$users" --seed 1 --out "$work/raw" \
    --start "$day" --end "$(date -d "$day + 1 day" +%F)" --quiet
  version=after root=$after
  if [ $((turn % 2)) = 1 ] && [ "$before" != "$after" ]; then version=before root=$before; fi
  export DBT_TARGET_PATH=$work/dbt-target-$version
  start=$(date +%s.%N)
  (cd "$root" && .venv/bin/python -m sparkify.app daily --no-maintain > "$work/daily-$day-$version.log" 2>&1) \
    || echo "exit $?"
  echo "$day $version $(seconds_since "$start") s"
  turn=$((turn + 1))
done
for model in fct_user_features int_sessions; do
  start=$(date +%s.%N)
  (cd "$after" && .venv/bin/python -m sparkify.app build --full-refresh --select "$model" \
    > "$work/full-refresh-$model.log" 2>&1)
  echo "full refresh of $model: $(grep -o "OK created[^[]*\[[^]]*in [0-9.]*s" "$work/full-refresh-$model.log" \
    | grep -o '[0-9.]*s$') node, $(seconds_since "$start") s command"
done
