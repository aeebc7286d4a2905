#!/usr/bin/env bash
# Audit on Kubernetes: the four sketch phases as indexed Jobs, one after the other, then the audit
# Job (a failed gate fails it, so this script exits non-zero; the report in /data/report says why).
#   SHARDS=32 bash run.sh
# The image needs synthproof installed (e.g. pip install -c constraints.txt synthproof in a layer).
set -euo pipefail
cd "$(dirname "$0")"
SHARDS=${SHARDS:-8}
for phase in 1 2 3 4; do
  sed -e "s/PHASE/$phase/g" -e "s/SHARDS/$SHARDS/g" sketch-job.yaml | kubectl apply -f -
  kubectl wait --for=condition=complete --timeout=4h "job/synthproof-sketch-$phase"
done
kubectl apply -f audit-job.yaml
kubectl wait --for=condition=complete --timeout=4h job/synthproof-audit
