#!/usr/bin/env bash
# Builds the optional native addons (mapped_write.c, cached_read.c, sha1_batch.c, sha1_file.c,
# punch_hole.c).
# Without a C compiler or Node's headers it prints why and exits 0: the engine then writes with
# pwrite, reads through the libuv pool, hashes in worker threads and checks what is on disk by
# reading it into buffers, which is correct, only slower.
set -u
cd "$(dirname "$0")"
headers=""
for d in "$(npm config get nodedir 2>/dev/null)/include/node" /usr/include/node /usr/local/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
  [ -f "$d/node_api.h" ] && { headers="$d"; break; }
done
mkdir -p build
# build/status tells tests which case this was: built, skipped (nothing to build with) or failed.
if ! command -v cc >/dev/null 2>&1 || [ -z "$headers" ]; then
  echo "native: no C compiler or Node headers; using pwrite for disk writes"
  echo "skipped" > build/status
  exit 0
fi
# Five addons, each one job: mapped writes (mapped_write.c), page-cache reads (cached_read.c),
# SHA-1 of buffers on the libuv pool (sha1_batch.c) and SHA-1 of file ranges through read-only
# mappings (sha1_file.c), and releasing byte ranges of files for the bounded cache (punch_hole.c).
# Each is built on its own: one that fails leaves the others in use.
status="built"
: > build/error.log
for addon in mapped_write cached_read sha1_batch sha1_file punch_hole; do
  if cc -O2 -Wall -fPIC -shared -I"$headers" -DNODE_GYP_MODULE_NAME=ct_$addon $addon.c -o build/ct_$addon.node 2>>build/error.log; then
    echo "native: built build/ct_$addon.node"
  else
    echo "native: build of $addon.c failed (see packages/engine/native/build/error.log); the engine goes without it"
    rm -f build/ct_$addon.node
    status="failed"
  fi
done
echo "$status" > build/status
exit 0
