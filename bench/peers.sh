#!/usr/bin/env bash
# Whole-process wall time and peak RSS of the peer tools (bench/peers.py), each run as a fresh process.
#
#   bash bench/peers.sh DATA_DIR [REPEAT]        # REPEAT defaults to 3
#
# DATA_DIR holds real.parquet + synthetic.parquet (bench/perf.py --rows N --data-only DATA_DIR).
# Variants (override with TOOLS="..."):
#   sdmetrics           QualityReport as shipped (contingency pairs subsampled to 50k rows)
#   sdmetrics-all-rows  same with num_rows_subsample=None (every row, like synthproof)
#   evidently           Report([DataDriftPreset()])
# Interpreter: PEERS_PY (default /work/venv-peers/bin/python; set up with bench/requirements-peers.txt).
# Measures with /usr/bin/time -v when present, else a tiny Python wrapper around os.wait4 (same numbers:
# wall clock of the whole process, ru_maxrss of the child). Prints every run's JSON line from peers.py,
# then per variant: median wall seconds and max peak RSS in GiB.
set -euo pipefail

DATA_DIR=${1:?usage: bench/peers.sh DATA_DIR [REPEAT]}
REPEAT=${2:-3}
PY=${PEERS_PY:-/work/venv-peers/bin/python}
TOOLS=${TOOLS:-"sdmetrics sdmetrics-all-rows evidently"}
HERE=$(cd "$(dirname "$0")" && pwd)
[[ -f $DATA_DIR/real.parquet && -f $DATA_DIR/synthetic.parquet ]] || { echo "no real/synthetic.parquet in $DATA_DIR" >&2; exit 2; }
[[ -x $PY ]] || { echo "no interpreter $PY (see bench/requirements-peers.txt)" >&2; exit 2; }

HAVE_TIME=0; [[ -x /usr/bin/time && -z ${PEERS_NO_TIME:-} ]] && HAVE_TIME=1   # PEERS_NO_TIME=1 forces the wrapper
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# measure OUT_PREFIX CMD... -> OUT_PREFIX.out (stdout), OUT_PREFIX.m ("wall_s rss_kib")
measure() {
  local out=$1; shift
  if ((HAVE_TIME)); then
    /usr/bin/time -v -o "$out.time" "$@" >"$out.out"
    awk -F': ' '
      /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
      /Maximum resident set size/ { rss = $2 }
      END { printf "%s %s\n", wall, rss }' "$out.time" >"$out.m"
  else
    "$PY" - "$out.m" "$@" >"$out.out" <<'EOF'
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
open(sys.argv[1], "w").write(f"{wall:.3f} {ru.ru_maxrss}\n")  # ru_maxrss in KiB on Linux
sys.exit(os.waitstatus_to_exitcode(status))
EOF
  fi
}

timer="python os.wait4 wrapper"; ((HAVE_TIME)) && timer="/usr/bin/time -v"
echo "data=$DATA_DIR repeat=$REPEAT timer=$timer python=$PY"
for tool in $TOOLS; do
  case $tool in
    sdmetrics) args=(sdmetrics) ;;
    sdmetrics-all-rows) args=(sdmetrics --all-rows) ;;
    evidently) args=(evidently) ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
  for ((i = 1; i <= REPEAT; i++)); do
    measure "$WORK/$tool.$i" "$PY" "$HERE/peers.py" "${args[0]}" "$DATA_DIR" "${args[@]:1}"
    echo "$tool run $i: $(cat "$WORK/$tool.$i.out")  [process: $(awk '{printf "%.2f s, %.3f GiB", $1, $2 / 1048576}' "$WORK/$tool.$i.m")]"
  done
done

echo "--- summary (whole process, $REPEAT run(s) each) ---"
for tool in $TOOLS; do
  cat "$WORK/$tool".*.m | sort -n -k1,1 | awk -v t="$tool" '
    { w[NR] = $1; if ($2 > rss) rss = $2 }
    END { med = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2
          printf "%-20s median_wall_s=%.2f  max_peak_rss_gib=%.3f  (n=%d)\n", t, med, rss / 1048576, NR }'
done
