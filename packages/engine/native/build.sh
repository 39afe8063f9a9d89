#!/usr/bin/env bash
# Builds the optional mapped-write addon (see mapped_write.c). Without a C compiler or Node's
# headers it prints why and exits 0: the engine then writes with pwrite, which is correct, only
# slower where page faults are expensive.
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
if cc -O2 -Wall -fPIC -shared -I"$headers" -DNODE_GYP_MODULE_NAME=ct_mapped_write mapped_write.c -o build/ct_mapped_write.node 2>build/error.log; then
  echo "native: built build/ct_mapped_write.node"
  echo "built" > build/status
else
  echo "native: build failed (see packages/engine/native/build/error.log); using pwrite for disk writes"
  rm -f build/ct_mapped_write.node
  echo "failed" > build/status
fi
exit 0
