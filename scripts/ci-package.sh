#!/usr/bin/env bash
# CI: uring-bench as a user installs, builds and deploys it (issue 15).
# Packs the repo, installs the tarball into fresh projects (npm; bun add), and
# checks: strict tsc in the consumer, a Bun.serve app serving a file read
# through Uring (run from sources, as a `bun build` bundle and as a
# `bun build --compile` binary, also on a "slim image"), and the CLI through
# npx/bunx with no bun on PATH. One line per check: "ok - NAME" or
# "not ok - NAME" (.ci/run counts them); last line "package: N passed, N failed".
# Needs only the npm registry (for typescript, @types/bun and bun, usually
# from npm's cache).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bun="$repo/node_modules/.bin/bun"
work=$(mktemp -d /tmp/uring-bench-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
# PATH without bun: what a user has when Bun came from npm (node_modules/.bin/bun).
nobun_path=$(dirname "$(command -v node)"):/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
passed=0; failed=0

# check NAME CMD...: runs CMD (output to a log, shown on failure).
check() {
  local name="$1"; shift
  local log="$work/log.txt" start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "ok - $name ($((SECONDS - start)) s)"; passed=$((passed + 1))
  else
    echo "not ok - $name (rc $?, $((SECONDS - start)) s)"; failed=$((failed + 1))
    sed 's/^/    | /' "$log" | tail -25
  fi
}

finish() {
  echo "package: ${passed} passed, ${failed} failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# ---- pack (prepack builds dist/types) ----
check "npm pack (declarations built by prepack)" sh -c "cd '$repo' && npm pack --pack-destination '$work'"
tgz=$(ls "$work"/uring-bench-*.tgz 2>/dev/null | head -1)
if [ -z "$tgz" ]; then finish; fi
check "tarball has the shim, the launcher, LICENSE and declarations" sh -c "tar tzf '$tgz' > '$work/files' &&
  for f in c/uring_shim.c cli/launch.mjs cli/main.ts LICENSE dist/types/index.d.ts src/index.ts scripts/build-shim.mjs; do
    grep -qx \"package/\$f\" '$work/files' || { echo \"missing \$f\"; exit 1; }; done"

# ---- a consumer app (shared by both installs) ----
data="$work/data.bin"
head -c 300000 /dev/urandom > "$data"
write_app() {
  mkdir -p "$1"
  cat > "$1/package.json" <<'JSON'
{ "name": "consumer", "private": true, "type": "module" }
JSON
  # A Bun.serve app that serves a file read through Uring, fetches itself and checks the bytes.
  cat > "$1/server.ts" <<'TS'
import { Uring } from "uring-bench";
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? process.env.SERVE_FILE ?? "/etc/os-release";
const uring = new Uring();

async function readWhole(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const size = Bun.file(file).size;
  const buf = new Uint8Array(size);
  const fd = await uring.open(file);
  let off = 0;
  while (off < size) {
    const n = await uring.read(fd, buf.subarray(off), off);
    if (n <= 0) break;
    off += n;
  }
  await uring.closeFd(fd);
  return buf.subarray(0, off);
}

const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async () => new Response(await readWhole(path)) });
const got = new Uint8Array(await (await fetch(`http://127.0.0.1:${server.port}/`)).arrayBuffer());
const want = readFileSync(path);
const same = got.length === want.length && got.every((b, i) => b === want[i]);
console.log(same ? `served ${got.length} bytes through Uring` : `MISMATCH: ${got.length} vs ${want.length} bytes`);
await server.stop(true);
uring.close();
process.exit(same ? 0 : 1);
TS
}

# A default strict tsconfig (tsc --init), with Bun's types.
strict_tsc() {
  local dir="$1"
  (cd "$dir" && rm -f tsconfig.json && node_modules/.bin/tsc --init >/dev/null &&
    sed -i 's/"types": \[\]/"types": ["bun"]/' tsconfig.json &&
    grep -q '"strict": true' tsconfig.json && grep -q '"types": \["bun"\]' tsconfig.json &&
    node_modules/.bin/tsc --noEmit -p .)
}

# ---- install with npm (postinstall compiles the shim where a compiler exists) ----
app="$work/npm-app"
write_app "$app"
check "npm install the tarball + typescript, @types/bun, bun" \
  sh -c "cd '$app' && npm install --no-audit --no-fund --prefer-offline '$tgz' typescript@^5.9 @types/bun bun"
check "strict tsc --noEmit in the consumer (tsc --init, types: bun)" strict_tsc "$app"
check "Bun.serve app serving a file read through Uring" sh -c "cd '$app' && node_modules/.bin/bun server.ts '$data'"
check "npx uring-bench doctor (bun only in node_modules/.bin)" \
  sh -c "cd '$app' && PATH='$nobun_path' npx --no-install uring-bench doctor --json > doctor.json && grep -q '\"setup\"' doctor.json"
check "npx uring-bench --version from another directory (bun found above the package)" \
  sh -c "cd / && PATH='$nobun_path' '$app/node_modules/.bin/uring-bench' --version"

# The bundle, moved away from node_modules: the shim source travels with it (TinyCC).
check "bun build --target bun, bundle run elsewhere" sh -c "cd '$app' &&
  node_modules/.bin/bun build server.ts --target bun --outdir '$work/bundle' >/dev/null &&
  mv '$work/bundle' '$work/deployed-bundle' && cd / && '$bun' '$work/deployed-bundle/server.js' '$data'"
check "bundle with URING_BENCH_SHIM_PATH (the prebuilt .so)" sh -c "
  so='$app/node_modules/uring-bench/build/liburing_shim.so'; [ -e \"\$so\" ] || so='$repo/c/uring_shim.c'
  cd / && URING_BENCH_SHIM_PATH=\"\$so\" '$bun' '$work/deployed-bundle/server.js' '$data'"
check "bun build --compile, binary run elsewhere" sh -c "cd '$app' &&
  node_modules/.bin/bun build server.ts --compile --outfile '$work/server-bin' >/dev/null &&
  cd / && '$work/server-bin' '$data'"
check "bun build --compile of the CLI: doctor" sh -c "cd '$app' &&
  node_modules/.bin/bun build node_modules/uring-bench/cli/main.ts --compile --outfile '$work/uring-bench-bin' >/dev/null &&
  cd / && '$work/uring-bench-bin' doctor --json | grep -q '\"shimBuild\": \"tcc\"'"

# The same artifacts on a slim image: no compiler, no headers, no libc.so.
slim() { "$repo/scripts/slim-ns.sh" "$@"; }
if slim true 2>/dev/null; then
  check "slim image: the compiled binary" slim sh -c "cd / && '$work/server-bin' '$data'"
  check "slim image: the bundle" slim sh -c "cd / && '$bun' '$work/deployed-bundle/server.js' '$data'"
  check "slim image: npx uring-bench doctor (TinyCC)" \
    slim sh -c "cd '$app' && URING_BENCH_SHIM=tcc PATH='$nobun_path' npx --no-install uring-bench doctor > /dev/null"
else
  echo "# slim-image checks skipped (scripts/slim-ns.sh needs root and unshare)"
fi

# ---- install with bun add (Bun runs no dependency postinstall by default: TinyCC at load) ----
app2="$work/bun-app"
write_app "$app2"
# (strict tsc ran above on the same files; not repeated here, to keep this step quick)
check "bun add the tarball" sh -c "cd '$app2' && '$bun' add '$tgz'"
check "bun add consumer: the Bun.serve app" sh -c "cd '$app2' && '$bun' server.ts '$data'"
check "bun x uring-bench doctor (bun not on PATH)" \
  sh -c "cd '$app2' && PATH='$nobun_path' '$bun' x uring-bench doctor --json > doctor.json && grep -q '\"setup\"' doctor.json"

finish
