#!/usr/bin/env bash
# Makes a small real workspace with one InvarLock release (0.3.x/0.4.0, which still have
# `invarlock run`), the way the 0.3.6 corpus was made: the corpus's tiny local model, data and
# configs, offline, cwd = workspace/.
#
#   scripts/oracle/make_artifacts.sh RELEASE OUT_DIR
#
# Needs a virtual environment with `invarlock==RELEASE` and torch + transformers importable in
# $ORACLE_VENVS/<RELEASE> (default /tmp/invarlock-artifacts/<RELEASE>); see
# tests/fixtures/releases/README.md for how they were made without a second copy of torch.
# CORPUS defaults to ../shared/corpus beside the repository.
#
# Runs (same configs and commands as corpus runs R02, R09, R11, R12):
#   runs/baseline       dev llama baseline (32+32 windows)
#   runs/ci_quant8      ci edit paired with the dev baseline: aborts (error attempt)
#   runs/rel_baseline   release baseline (400+400 windows)
#   runs/rel_quant8     release RTN int8 edit paired with rel_baseline
# then `invarlock report` of rel_quant8 against rel_baseline into reports/rel_quant8
# (`--format cert` before 0.3.8, `--format report` from 0.3.8), and `invarlock verify --json`
# of that certificate under dev/ci/release into verify/<profile>.json (stdout + exit code).
# The large per-window arrays stay in the reports (the daemon reads real files).
set -uo pipefail

rel="$1"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${CORPUS:-$here/../../../shared/corpus}"
corpus="$(cd "$corpus" && pwd)"
venv="${ORACLE_VENVS:-/tmp/invarlock-artifacts}/$rel"
il="$venv/bin/invarlock"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 COLUMNS=1000
unset INVARLOCK_ALLOW_NETWORK

# The model's path must not contain a family substring (gpt, opt, llama, ...): see the corpus
# README. A scratch directory outside the repository holds inputs/ + configs/ + workspace/.
scratch="$(mktemp -d /tmp/il-art-XXXXXX)"
ln -s "$corpus/inputs" "$scratch/inputs"
mkdir -p "$scratch/configs"
cp "$corpus"/configs/*.yaml "$scratch/configs/"
# 0.3.7 renamed the adapters (hf_llama and hf_causal_auto are gone; `invarlock run` answers
# "Unknown adapter 'hf_llama'. Available: [hf_auto, hf_causal, ...]"): the configs name
# hf_causal, the causal-LM adapter, from 0.3.7 on. Nothing else in them changes.
case "$rel" in
  0.3.[4-6]) ;;
  *) sed -i -e 's/"hf_llama"/"hf_causal"/' -e 's/"hf_causal_auto"/"hf_causal"/' "$scratch"/configs/*.yaml ;;
esac
mkdir -p "$scratch/workspace" "$scratch/logs"
cd "$scratch/workspace"

run() { # name cfg profile [baseline]
  local name="$1" cfg="$2" profile="$3" base="${4:-}"
  local args=(run -c "../configs/$cfg.yaml" --profile "$profile" --out "runs/$name")
  [ -n "$base" ] && args+=(--baseline "$base")
  echo "+ invarlock ${args[*]}" | tee -a ../logs/commands.txt
  "$il" "${args[@]}" >"../logs/run_$name.log" 2>&1
  echo "  exit $?" | tee -a ../logs/commands.txt
  sleep 1 # one attempt per second at most: directories are named by the second
}
latest() { ls -d "runs/$1"/2* | sort | tail -1; }

"$il" version | tee ../logs/version.txt
run baseline llama_baseline dev
base="$(latest baseline)/report.json"
run ci_quant8 auto_ci_quant8 ci "$base"
run rel_baseline auto_rel_baseline release
relbase="$(latest rel_baseline)/report.json"
run rel_quant8 auto_rel_quant8 release "$relbase"
subject="$(latest rel_quant8)/report.json"

case "$rel" in 0.3.[4-7]) fmt=cert cert=evaluation.cert.json ;; *) fmt=report cert=evaluation.report.json ;; esac
args=(report --run "$subject" --baseline "$relbase" --format "$fmt" --output reports/rel_quant8)
echo "+ invarlock ${args[*]}" | tee -a ../logs/commands.txt
"$il" "${args[@]}" >../logs/report.log 2>&1
echo "  exit $?" | tee -a ../logs/commands.txt

mkdir -p verify
for p in dev ci release; do
  "$il" verify --json --profile "$p" "reports/rel_quant8/$cert" >"verify/$p.json" 2>"verify/$p.stderr"
  echo "$?" >"verify/$p.exit"
done

rm -rf "$out"
mkdir -p "$out"
cp -a runs reports verify "$out/"
cp -a ../logs "$out/logs"
rm -rf "$scratch"
echo "wrote $out"
