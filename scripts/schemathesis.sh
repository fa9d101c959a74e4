#!/usr/bin/env bash
# API fuzzing: runs schemathesis against a live daemon on a temp copy of the sample workspace.
# Checks: every schemathesis check on every operation (`--checks all`): no server errors (5xx),
# every response conforms to openapi.yaml (schema, status code, content type, headers), input
# the schema forbids is refused, auth is not ignored, stateful links hold. Except
# positive_data_acceptance: schema-valid input the domain refuses (a page_token this API did not
# issue, a certificate that does not link to the attempt, an empty `until`) is a correct 400/422.
#
#   scripts/schemathesis.sh            # MAX_EXAMPLES=100 by default
#   MAX_EXAMPLES=100 scripts/schemathesis.sh
#   SCHEMATHESIS_SEED=42 scripts/schemathesis.sh   # replay a run (the seed is printed at the end)
#
# schemathesis is installed into a venv under target/ on first use. Exits with its status.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
READY_DEADLINE=${READY_DEADLINE:-120}

venv="$repo/target/schemathesis-venv"
# --clear: a venv moved from elsewhere (its scripts name the old path) fails `pip show` and is
# made again from scratch rather than patched.
if [[ ! -x "$venv/bin/schemathesis" ]] ||
    ! "$venv/bin/pip" show schemathesis 2>/dev/null | grep -qx "Version: $SCHEMATHESIS_VERSION"; then
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The binary `cargo test` builds (integration tests need it), with the test build's features:
# `cargo build --bin` would resolve dev-dependency features differently and compile the
# dependency graph a second time. Right after `cargo test` this is a no-op.
cargo test --locked --no-run --test cli
bin="$repo/target/debug/invarlockd"

tmp=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

cp -r examples/workspace "$tmp/ws"
# A free loopback port: bind to 0, read what the kernel gave, release it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

"$bin" serve --workspace "$tmp/ws" --listen "127.0.0.1:$port" >"$tmp/daemon.log" 2>&1 &
pid=$!

deadline=$((SECONDS + READY_DEADLINE))
until curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "schemathesis.sh: daemon exited before it was ready:" >&2
        cat "$tmp/daemon.log" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "schemathesis.sh: daemon not ready after ${READY_DEADLINE}s" >&2
        cat "$tmp/daemon.log" >&2
        exit 1
    fi
    sleep 0.2 # poll interval, bounded by the deadline above
done
token=$(tr -d '[:space:]' <"$tmp/ws/.invarlockd/admin.token")

status=0
# Run from target/ so schemathesis keeps its cache (.schemathesis/, replays of failures) there.
cd "$repo/target"
"$venv/bin/schemathesis" run "$repo/openapi.yaml" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --max-examples "$MAX_EXAMPLES" \
    --exclude-path /v1/events \
    ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
    --no-color || status=$?

if ((status != 0)); then
    echo "schemathesis.sh: failed (status $status); daemon log tail:" >&2
    tail -n 50 "$tmp/daemon.log" >&2
fi
exit "$status"
