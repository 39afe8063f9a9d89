/**
 * What our outgoing connection attempts ran into, per address, so "no peer reachable" can say
 * why: refused or unreachable, or TCP connected but the peer closed during the handshake (as a
 * client that insists on encryption does), or never answered it. Pure.
 */

import type { DialOutcome } from '../peer/dial.js';

export type { DialOutcome };

export interface ConnectionReport {
  /** Addresses that completed a handshake at least once. */
  connected: number;
  /** Addresses whose last attempt ended this way (and that never connected). */
  unreachable: number;
  handshakeClosed: number;
  handshakeSilent: number;
  refused: number;
}

export class DialReport {
  private readonly last = new Map<string, DialOutcome>();
  private readonly ok = new Set<string>();

  failed(address: string, outcome: DialOutcome): void {
    if (outcome !== 'no-slot') this.last.set(address, outcome);
  }

  connected(address: string): void {
    this.ok.add(address);
    this.last.delete(address);
  }

  report(): ConnectionReport {
    const r: ConnectionReport = { connected: this.ok.size, unreachable: 0, handshakeClosed: 0, handshakeSilent: 0, refused: 0 };
    for (const [address, o] of this.last) {
      if (this.ok.has(address)) continue;
      if (o === 'unreachable') r.unreachable++;
      else if (o === 'handshake-closed') r.handshakeClosed++;
      else if (o === 'handshake-silent') r.handshakeSilent++;
      else if (o === 'refused') r.refused++;
    }
    return r;
  }
}

/** One line for a user: what was tried, when no peer could be reached. */
export function describeUnreachable(r: ConnectionReport): string {
  const parts: string[] = [];
  if (r.handshakeClosed) parts.push(`${r.handshakeClosed} peer${r.handshakeClosed > 1 ? 's' : ''} closed the connection during the handshake (they may require encryption, which ct does not speak)`);
  if (r.handshakeSilent) parts.push(`${r.handshakeSilent} accepted the connection but never answered the handshake`);
  if (r.refused) parts.push(`${r.refused} answered and refused us`);
  if (r.unreachable) parts.push(`${r.unreachable} could not be connected to`);
  return parts.join('; ');
}
