#!/usr/bin/env bash
# Install the `nimbus` binary from this repository for the current user:
# the system packages, npm dependencies and build via scripts/setup.sh, then
# `npm pack` of the SDK (@nimbus/nimbus), the native binding (@nimbus/native,
# compiled by node-gyp on install) and the server (@nimbus/server) and one
# global `npm install -g` of the server, whose @nimbus/* dependencies point at
# the packed ones (so nothing of ours comes from the registry).
#
# Where it goes: $npm_config_prefix if set; else npm's global prefix when it is
# writable (root: /usr or /usr/local); else ~/.local (binary in ~/.local/bin).
# Options: --no-setup skips scripts/setup.sh (packages, build) when that is
# already done.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
say() { echo "install: $*" >&2; }

[ "${1:-}" = "--no-setup" ] || bash scripts/setup.sh >&2

if [ -z "${npm_config_prefix:-}" ]; then
  prefix=$(npm prefix -g)
  if [ ! -w "$prefix/lib" ] && [ ! -w "$prefix" ]; then
    export npm_config_prefix="$HOME/.local"
  fi
fi
# better-sqlite3 builds from source where no prebuilt binary is reachable;
# node-gyp needs Node's headers, which a packaged Node ships beside itself.
node_prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] \
  && [ -f "$node_prefix/include/node/node_version.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
for p in packages/server packages/nimbus; do
  [ -f "$p/dist/index.js" ] || [ -f "$p/dist/cli/main.js" ] || { say "$p is not built; run scripts/setup.sh"; exit 1; }
done
sdk=$(cd "$work" && npm pack --silent "$repo/packages/nimbus" | tail -n 1)
native=$(cd "$work" && npm pack --silent "$repo/packages/native" | tail -n 1)
server=$(cd "$work" && npm pack --silent "$repo/packages/server" | tail -n 1)

# The server's dependencies on @nimbus/nimbus and @nimbus/native become the packed ones.
mkdir "$work/server"
tar -xzf "$work/$server" -C "$work/server" --strip-components=1
node -e '
  const fs = require("fs");
  const [file, sdk, native] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.dependencies["@nimbus/nimbus"] = "file:" + sdk;
  pkg.dependencies["@nimbus/native"] = "file:" + native;
  delete pkg.devDependencies;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$work/server/package.json" "$work/$sdk" "$work/$native"
staged=$(cd "$work" && npm pack --silent "$work/server" | tail -n 1)

say "npm install -g @nimbus/server (prefix $(npm prefix -g)); builds @nimbus/native, and better-sqlite3 when no prebuilt binary is reachable"
npm_config_allow_scripts=better-sqlite3,@nimbus/native npm install -g --no-audit --no-fund --loglevel=error "$work/$staged" >&2

bin="$(npm prefix -g)/bin/nimbus"
version=$("$bin" --version)
say "installed $bin ($version)"
case ":$PATH:" in
  *":$(dirname "$bin"):"*) ;;
  *) say "add $(dirname "$bin") to your PATH to run \`nimbus\`" ;;
esac
