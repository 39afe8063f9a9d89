#!/usr/bin/env bash
# Every test: unit tests of the pure parts, then integration tests against real peers (libtorrent
# from Debian, ct itself) over TCP on 127.0.0.1. Builds first so the CLI under test is current.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm run -s build
# Import rules (.dependency-cruiser.cjs): no cycles, one-way layers and packages.
node_modules/.bin/depcruise packages/engine/src packages/fusefs/src packages/cli/src --config .dependency-cruiser.cjs
# The tests are TypeScript too: type errors in them fail the run.
node_modules/.bin/tsc -p tests
node --import tsx --test --test-reporter=spec packages/*/test/*.test.ts
# Storage again on the fallback paths (no native addon): both write paths and both ways of
# checking what is on disk stay correct.
CT_NO_MAPPED_WRITE=1 CT_NO_MAPPED_HASH=1 node --import tsx --test --test-reporter=spec packages/engine/test/torrent-storage.test.ts packages/engine/test/resume-check.test.ts
# One file at a time: they spawn peers and a 2-core machine is easily saturated.
node --import tsx --test --test-reporter=spec --test-concurrency=1 tests/integration/*.test.ts
