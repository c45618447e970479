#!/usr/bin/env bash
# Prepare this host for Nimbus: Debian/Ubuntu packages (when root; otherwise
# print the apt-get line to run), the crun cgroup v1 hugetlb fix, npm
# dependencies and the TypeScript build. Safe to run again: it only does
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# g++, make and python3 compile the native bindings (ours and better-sqlite3's).
# nftables: the egress rules (redirect to the egress proxy and DNS responder, drop the rest).
# catatonit: spec.process.init runs it as PID 1 (signals, zombies).
# e2fsprogs: a sandbox's diskLimitBytes is a loop-mounted ext4 image made with mkfs.ext4.
RUNTIME_PKGS=(crun conmon runc catatonit iproute2 nftables jq curl socat openssl g++ make python3 e2fsprogs)
# apache2-utils: htpasswd, for the auth-protected test registry (docker-registry htpasswd auth, bcrypt).
# podman: bench/processes and bench/sandbox-start compare against podman exec/run (skipped with a note without it).
TEST_PKGS=(docker-registry skopeo umoci mmdebstrap busybox-static zstd apache2-utils podman)
want=("${RUNTIME_PKGS[@]}")
[ "${1:-}" = "--with-test-tools" ] && want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# crun refuses cgroup v1 hybrid hosts whose hugetlb controller is not mounted
# as v1 (see docs/architecture.md); mount it when that is the case.
if [ -d /sys/fs/cgroup/memory ] && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/mounts; then
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null \
      || echo "setup: could not mount the hugetlb cgroup; nimbus will fall back to runc if crun refuses" >&2
  else
    echo "setup: as root run: mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb" >&2
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# node-gyp (better-sqlite3's fallback build) downloads Node's headers unless
# told where they are; a packaged Node ships them beside its binary.
node_prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] \
  && [ -f "$node_prefix/include/node/node_version.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

if [ ! -d node_modules/better-sqlite3/build ] || [ ! -f packages/native/build/Release/nimbus_native.node ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (compiles @nimbus/native, and better-sqlite3 when no prebuilt binary is reachable)"
  npm ci --no-audit --no-fund --loglevel=error
fi
# The native binding is compiled by `npm ci`; a checkout whose C sources are
# newer than the compiled addon (a pull that changed them) rebuilds it.
native=packages/native/build/Release/nimbus_native.node
if [ -f "$native" ] && [ -n "$(find packages/native/src packages/native/binding.gyp -newer "$native" 2>/dev/null | head -1)" ]; then
  echo "setup: rebuilding @nimbus/native (its sources changed)"
  npm rebuild @nimbus/native --loglevel=error
fi
echo "setup: building"
npm run --silent build

# The egress client-coverage test's image (curl, python3-requests, Node; see
# packages/server/src/testing/egress-clients-image.ts) takes minutes to build
# from Debian's mirror the first time; build it here, once, so the test suite
# finds it cached.
if [ "${1:-}" = "--with-test-tools" ] && [ "$(id -u)" -eq 0 ]; then
  echo "setup: building the egress-clients test image (cached after the first time)"
  node -e 'import("./packages/server/dist/testing/egress-clients-image.js").then((m) => m.buildEgressClientsImage()).then((p) => console.log(`setup: ${p}`))'
fi
