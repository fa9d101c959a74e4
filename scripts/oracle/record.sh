#!/usr/bin/env bash
# Records the real `invarlock verify` of every supported release over the verify cases.
#
#   scripts/oracle/record.sh [RELEASE...]        (default: every supported release)
#
# For each release: a virtual environment of its own (Python 3.12, as the corpus used) in
# $ORACLE_VENVS (default /tmp/invarlock-oracle), `pip install invarlock==X` from PyPI with
# jsonschema and typer pinned to the versions the 0.3.6 corpus was recorded with, then
# record.py writes tests/fixtures/verify/<X>/results/<case>.json. 0.3.6 itself is recorded to
# a scratch directory and compared with the corpus recordings in results/ (which came from the
# real CLI and are authoritative): that is the check that this oracle reproduces the tool.
# No torch: `verify` imports none of it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$(cd "$here/../../tests/fixtures/verify" && pwd)"
venvs="${ORACLE_VENVS:-/tmp/invarlock-oracle}"
python="${PYTHON312:-$(command -v python3.12)}"
releases=("$@")
if [ ${#releases[@]} -eq 0 ]; then
  releases=(0.3.4 0.3.5 0.3.6 0.3.7 0.3.8 0.3.9 0.3.10 0.3.11 0.3.12 0.4.0)
fi

mkdir -p "$venvs"
for rel in "${releases[@]}"; do
  venv="$venvs/$rel"
  if [ ! -x "$venv/bin/invarlock" ]; then
    rm -rf "$venv"  # a half-made environment from an interrupted run
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q "invarlock==$rel" "jsonschema==4.26.0" "typer==0.29.2"
  fi
  cd "$fixtures"
  if [ "$rel" = "0.3.6" ]; then
    scratch="$(mktemp -d)"
    "$venv/bin/python" "$here/record.py" --release "$rel" --out "$scratch" --check-subprocess 12
    "$venv/bin/python" "$here/compare.py" results "$scratch"
    rm -rf "$scratch"
  else
    rm -rf "$rel/results"
    "$venv/bin/python" "$here/record.py" --release "$rel" --out "$rel/results" --check-subprocess 12
  fi
done
