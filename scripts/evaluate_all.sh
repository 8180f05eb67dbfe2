#!/usr/bin/env bash
# The quality reports of eval/: the shipped model on the in-domain dev set and on ANERcorp test (LOCATION only).
# Needs data/build (rasd data build --sources ../shared/data --out data/build).
set -euo pipefail
MODEL=${1:-models/rasd-ar-base}
rasd evaluate --model "$MODEL" --data data/build/indomain_dev.jsonl --out eval/dev \
  --title "rasd-ar-base on the in-domain dev set"
rasd evaluate --model "$MODEL" --data data/build/transfer/anercorp_test.jsonl --types LOCATION \
  --out eval/anercorp_test --title "rasd-ar-base on ANERcorp test: LOCATION against gold LOC (external check)"
