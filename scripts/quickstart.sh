#!/usr/bin/env bash
# The README's first command: the agent-sandbox quickstart
# (examples/agent-sandbox/sandbox.mjs, the seed script unchanged) on this host.
#
#   1. scripts/setup.sh: apt packages, the crun host fix, npm deps, build
#   2. if Docker Hub is unreachable: a loopback registry holding an offline
#      stand-in for docker.io/library/node:22-alpine (Debian minbase + Node 22
#      from npm), used through --registry-mirror
#   3. nimbus start --port 8080 --data-dir ./data, in the background
#   4. the admin token, and tenant `demo` with the quickstart's curl
#   5. node sandbox.mjs in examples/agent-sandbox
# and on exit (success or not) stops the server and the registry.
#
# Environment: NIMBUS_QUICKSTART_MIRROR=auto|local|none (default auto: probe
# registry-1.docker.io for 3 s), NIMBUS_QUICKSTART_DATA_DIR (default ./data
# in the repository), NIMBUS_QUICKSTART_TIMEOUT (seconds for sandbox.mjs,
# default 600), NIMBUS_QUICKSTART_SETUP=0 to skip scripts/setup.sh (the test
# suite does, having run it already).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

say() { echo "quickstart: $*" >&2; }

port=8080 # the seed script hardcodes http://localhost:8080
data_dir=${NIMBUS_QUICKSTART_DATA_DIR:-./data}
mirror=${NIMBUS_QUICKSTART_MIRROR:-auto}
script_timeout=${NIMBUS_QUICKSTART_TIMEOUT:-600}
work=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-quickstart-XXXXXX")
server_pid=""
registry_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    if [ "$rc" -ne 0 ] && [ -n "${NIMBUS_TOKEN:-}" ]; then
      # The script failed part-way: stop what it may have left running.
      list=$(curl -s -m 10 "http://127.0.0.1:$port/api/tenants/demo/sandboxes?labelKey=purpose&labelValue=quickstart" \
        -H "Authorization: Bearer $NIMBUS_TOKEN" || true)
      jq -r '.items[]? | "quickstart: sandbox \(.metadata.id) is \(.status.lifecycleState)\(if .status.reason then " (\(.status.reason))" else "" end)\(if .status.message then ": \(.status.message)" else "" end)"' <<<"$list" >&2 2>/dev/null || true
      ids=$(jq -r '.items[]? | select(.status.lifecycleState != "stopped" and .status.lifecycleState != "failed") | .metadata.id' <<<"$list" 2>/dev/null || true)
      for id in $ids; do
        say "stopping sandbox $id"
        curl -s -m 30 -o /dev/null -X POST "http://127.0.0.1:$port/api/tenants/demo/sandboxes/$id/stop" -H "Authorization: Bearer $NIMBUS_TOKEN" || true
      done
    fi
    say "stopping the server"
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$registry_pid" ] && kill -0 "$registry_pid" 2>/dev/null; then
    say "stopping the local registry"
    kill -TERM "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    for f in "$work/registry.log" "$work/server.log"; do
      [ -s "$f" ] && { echo "--- last lines of $(basename "$f")" >&2; grep -v '"msg":"request"' "$f" | tail -n 30 >&2; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$mirror" = "auto" ]; then
  if node -e 'fetch("https://registry-1.docker.io/v2/", { signal: AbortSignal.timeout(3000) }).then(() => process.exit(0), () => process.exit(1))' 2>/dev/null; then
    mirror=none
  else
    mirror=local
    say "registry-1.docker.io is not reachable: docker.io/library/node:22-alpine will come from a local registry with an offline stand-in"
  fi
elif [ "$mirror" = "local" ]; then
  say "NIMBUS_QUICKSTART_MIRROR=local: docker.io/library/node:22-alpine will come from a local registry with an offline stand-in"
fi
if [ "${NIMBUS_QUICKSTART_SETUP:-1}" = 0 ]; then
  say "skipping scripts/setup.sh (NIMBUS_QUICKSTART_SETUP=0)"
elif [ "$mirror" = "local" ]; then
  bash scripts/setup.sh --with-test-tools >&2
else
  bash scripts/setup.sh >&2
fi

if node -e 'const s = require("net").createServer(); s.once("error", () => process.exit(1)); s.listen(+process.argv[1], "127.0.0.1", () => s.close())' "$port"; then :; else
  say "port $port is in use; the quickstart's script talks to http://localhost:$port, so free it first"
  exit 1
fi

mirror_args=()
if [ "$mirror" = "local" ]; then
  say "building the stand-in image (cached after the first run; the first build takes a few minutes)"
  node scripts/standin-image.mjs serve --url-file "$work/registry-url" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 1 1800); do
    [ -s "$work/registry-url" ] && break
    kill -0 "$registry_pid" 2>/dev/null || { say "the local registry failed to start"; exit 1; }
    sleep 0.2
  done
  [ -s "$work/registry-url" ] || { say "the local registry did not come up"; exit 1; }
  registry_url=$(cat "$work/registry-url")
  say "local registry at $registry_url"
  mirror_args=(--registry-mirror "docker.io=$registry_url")
fi

say "nimbus start --port $port --data-dir $data_dir ${mirror_args[*]}"
node "$repo/packages/server/bin/nimbus.js" start --port "$port" --data-dir "$data_dir" "${mirror_args[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -sf -m 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { say "nimbus start exited"; exit 1; }
  sleep 0.2
done
curl -sf -m 2 "http://127.0.0.1:$port/health" >/dev/null || { say "the server did not answer /health"; exit 1; }

# Step 3 of the quickstart.
NIMBUS_TOKEN=$(jq -r .token "${XDG_DATA_HOME:-$HOME/.local/share}/nimbus/auth/token")
export NIMBUS_TOKEN
created=$(curl -s -X POST http://localhost:8080/api/tenants \
  -H "Authorization: Bearer $NIMBUS_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"id": "demo"}')
if [ "$(jq -r '.id // .error.code' <<<"$created" 2>/dev/null)" = "demo" ]; then
  say "created tenant demo"
elif [ "$(jq -r '.error.code' <<<"$created" 2>/dev/null)" = "op.already_exists" ]; then
  say "tenant demo already exists"
else
  say "creating tenant demo failed: $created"
  exit 1
fi

# Steps 4-6: the SDK from this repository, then the script, unchanged.
cd examples/agent-sandbox
npm install --no-audit --no-fund --no-package-lock --loglevel=error >"$work/npm.log" 2>&1 || { say "npm install in examples/agent-sandbox failed"; exit 1; }
say "node sandbox.mjs"
rc=0
timeout "$script_timeout" node sandbox.mjs || rc=$?
if [ "$rc" -eq 124 ]; then
  say "sandbox.mjs did not finish within ${script_timeout}s (it polls until the sandbox is ready; a failed sandbox never is); the server log follows"
fi
[ "$rc" -eq 0 ] || exit "$rc"
say "done"
