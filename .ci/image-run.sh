#!/usr/bin/env bash
# Runs a command in an image's root filesystem the way the pods of deploy/ run it: the root filesystem
# read-only, a fresh /tmp the only writable place (a 64 MiB tmpfs, like the pods' emptyDir), as the given
# uid and gid with no capabilities left, on the host's network (loopback reaches the host's services).
# A mount namespace of its own keeps every mount private and gone when the command ends; each step
# execs the next, so the process started is the command itself and takes its signals.
#
# usage: .ci/image-run.sh ROOTFS WORKDIR UID GID COMMAND [ARGS…]   (environment: as given)
# (podman run --read-only would do the same, but its runtime cannot set its resource limits here.)
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 ROOTFS WORKDIR UID GID COMMAND [ARGS…]" >&2; exit 2; }
exec unshare --mount --propagation private /bin/bash -c '
  set -euo pipefail
  root=$1 workdir=$2 uid=$3 gid=$4
  shift 4
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o nosuid,nodev,size=64m,mode=1777 tmpfs "$root/tmp"
  exec setpriv --no-new-privs --bounding-set=-all,+sys_chroot,+setuid,+setgid \
    /usr/sbin/chroot --userspec="$uid:$gid" --groups="$gid" "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
' image-run "$@"
