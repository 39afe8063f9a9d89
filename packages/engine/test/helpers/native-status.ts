/**
 * Whether a native addon must be in use in this test run: the install script built the addons
 * (native/build/status says "built") and `disabledBy` (its CT_NO_... variable) is not set. A
 * build that ran with what it needed and failed must not pass silently, so "failed" (or no build
 * at all) fails the calling test; "skipped" (no C compiler or Node headers) means the fallback.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export function nativeAddonExpected(disabledBy: string): boolean {
  let status = 'not run';
  try { status = readFileSync(new URL('../../native/build/status', import.meta.url), 'utf8').trim(); } catch { /* not built */ }
  if (process.env[disabledBy] === '1' || status === 'skipped') return false;
  assert.equal(status, 'built', `native addon build status: ${status}`);
  return true;
}
