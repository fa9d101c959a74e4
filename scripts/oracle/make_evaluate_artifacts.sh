#!/usr/bin/env bash
# Makes a small real workspace with an InvarLock release of the 0.5+ line, where `invarlock run`
# is gone and `invarlock evaluate` writes runs/source/<ts> and runs/edited/<ts> (with runtime
# manifests) and reports/eval/. Same tiny local model and data as the 0.3.6 corpus, offline.
#
#   scripts/oracle/make_evaluate_artifacts.sh RELEASE OUT_DIR      (made with 0.5.1)
#
# Environment: $ORACLE_VENVS/<RELEASE> holds `invarlock==RELEASE` with torch + transformers
# importable (tests/fixtures/releases/README.md). The subject is the same model directory with
# `--edit-label custom` (a "pre-edited" model): 0.5.1's built-in quant_rtn demo edit fails on
# any plan ("Unsupported RTN plan fields: module_selectors": the runner injects the model
# profile's module selectors into every edit plan and quant_rtn rejects them).
# --mode local + INVARLOCK_ALLOW_UNATTESTED_ARTIFACTS=1: no runtime container image here.
set -uo pipefail

rel="$1"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$(cd "${CORPUS:-$here/../../../shared/corpus}" && pwd)"
il="${ORACLE_VENVS:-/tmp/invarlock-artifacts}/$rel/bin/invarlock"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 COLUMNS=1000
unset INVARLOCK_ALLOW_NETWORK

scratch="$(mktemp -d /tmp/il-eval-XXXXXX)"
ln -s "$corpus/inputs" "$scratch/inputs"
mkdir -p "$scratch/workspace" "$scratch/logs"
# The dataset/eval/guards of the corpus's auto_* configs (spectral/rmt not run, as there).
cat >"$scratch/preset.yaml" <<'YAML'
dataset:
  provider: "local_jsonl"
  file: "../inputs/data/eval.jsonl"
  split: "validation"
  seq_len: 64
  stride: 64
  preview_n: 32
  final_n: 32
  seed: 42
eval:
  metric:
    kind: "ppl_causal"
  loss:
    type: "causal"
guards:
  order: ["invariants", "variance", "invariants"]
YAML
cd "$scratch/workspace"
"$il" version >../logs/version.txt
INVARLOCK_ALLOW_UNATTESTED_ARTIFACTS=1 INVARLOCK_STORE_EVAL_WINDOWS=1 "$il" evaluate \
  --baseline ../inputs/tiny-lm --subject ../inputs/tiny-lm --adapter hf_causal --device cpu \
  --profile ci --preset ../preset.yaml --edit-label custom --mode local --no-color \
  >../logs/evaluate.log 2>&1
echo "evaluate exit $?"
mkdir -p verify
for p in ci release; do
  "$il" verify --json --profile "$p" reports/eval/evaluation.report.json >"verify/$p.json" 2>"verify/$p.stderr"
  echo "$?" >"verify/$p.exit"
done
rm -rf "$out"
mkdir -p "$out/workspace"
cp -a runs reports "$out/workspace/"
cp -a verify "$out/"
cp -a ../logs "$out/logs"
cp ../preset.yaml "$out/logs/"
rm -rf "$scratch"
echo "wrote $out"
