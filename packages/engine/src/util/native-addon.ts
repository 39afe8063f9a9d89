/**
 * Loads one of the optional native addons built at install (packages/engine/native/build.sh).
 * Each is an optimisation with a pure-Node fallback: absent (no C compiler at install) or
 * disabled through its environment variable, the caller gets undefined and goes without.
 */
import { createRequire } from 'node:module';

export function loadNativeAddon<T>(name: string, disabledBy: string): T | undefined {
  if (process.env[disabledBy] === '1') return undefined;
  try {
    // Same relative path from src/storage (tsx) and dist/storage (compiled).
    return createRequire(import.meta.url)(`../../native/build/${name}.node`) as T;
  } catch {
    return undefined;
  }
}
