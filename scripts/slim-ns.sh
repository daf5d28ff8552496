#!/bin/sh
# Runs a command as it would run on a slim image (node:slim, debian-slim): in a
# private mount namespace where /usr/include is empty, the C compilers are not
# executable, and libc's development files (the libc.so linker script, crt
# objects, static archives) are absent, leaving only libc.so.6.
#   scripts/slim-ns.sh CMD [ARGS...]
# Needs root (unshare -m, tmpfs and overlay mounts). Exits 77 when it cannot
# build the namespace, so callers can report a skip rather than a failure.
set -eu
if [ "${URING_BENCH_SLIM_NS:-}" != "inside" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1; then
    echo "slim-ns: needs root and unshare" >&2
    exit 77
  fi
  URING_BENCH_SLIM_NS=inside exec unshare -m "$0" "$@"
fi

# Mounts made here stay in this namespace; keep them from propagating back.
mount --make-rprivate / 2>/dev/null || true
mount -t tmpfs none /usr/include
scratch=$(mktemp -d)
mount -t tmpfs none "$scratch"
for dir in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
  [ -e "$dir/libc.so" ] || continue
  # An overlay whose upper layer holds whiteouts (0:0 character devices) hides those files.
  name=$(echo "$dir" | tr / _)
  mkdir -p "$scratch/$name/upper" "$scratch/$name/work"
  for f in libc.so libc_nonshared.a libc.a libpthread.a libdl.a crt1.o Scrt1.o crti.o crtn.o; do
    [ -e "$dir/$f" ] && mknod "$scratch/$name/upper/$f" c 0 0
  done
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$scratch/$name/upper,workdir=$scratch/$name/work" "$dir"
done
for tool in cc gcc c99 tcc clang; do
  path=$(command -v "$tool" 2>/dev/null) || continue
  mount --bind /dev/null "$(readlink -f "$path")" 2>/dev/null || true
  mount --bind /dev/null "$path" 2>/dev/null || true
done
unset URING_BENCH_SLIM_NS
exec "$@"
