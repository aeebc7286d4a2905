#!/usr/bin/env bash
# Audit sharded inputs on a Slurm cluster: four array jobs (one per sketch phase: rows, sample, scan,
# count), each after the one before, then one audit job that merges the states and judges.
#
#   REAL=/shared/real SYNTHETIC=/shared/synthetic HOLDOUT=/shared/holdout CONFIG=/shared/audit.yaml \
#   STATES=/shared/states OUT=/shared/report SHARDS=64 bash submit.sh
#
# Every task reads only its shard's rows (a fixed span of row ids, the same on any scheduler) from
# shared storage or object-store URLs; states and the report go to shared storage.
set -euo pipefail
cd "$(dirname "$0")"
: "${REAL:?}" "${SYNTHETIC:?}" "${CONFIG:?}" "${STATES:?}" "${OUT:?}"
SHARDS=${SHARDS:-16}
HOLDOUT=${HOLDOUT:-}
export REAL SYNTHETIC CONFIG STATES OUT SHARDS HOLDOUT
prev=""
for phase in 1 2 3 4; do
  prev=$(sbatch --parsable --export=ALL --array=0-$((SHARDS - 1)) ${prev:+--dependency=afterok:$prev} \
    --job-name="synthproof-sketch-$phase" sketch.sbatch)
done
sbatch --parsable --export=ALL --dependency=afterok:"$prev" audit.sbatch
