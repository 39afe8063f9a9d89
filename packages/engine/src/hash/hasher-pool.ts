/**
 * SHA-1 off the main thread. The main thread serves sockets (and, in a mount, every FUSE call);
 * hashing a 1 GiB download there would cost ~0.6 s of stalls per GiB. Each lane of the pool
 * hashes one batch at a time: on the libuv pool through the native addon
 * (native/sha1_batch.c) where it was built, else in a worker thread. Piece buffers are allocated
 * on SharedArrayBuffers (see `allocPieceBuffer`), so handing one to a worker copies nothing.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HasherError } from '../errors.js';
import { loadNativeAddon } from '../util/native-addon.js';

/** The optional native hasher; CT_NO_NATIVE_HASH=1 (or no addon) means worker threads. */
interface NativeSha1 {
  /** The digests of `views`, 20 bytes each, in order; hashed on the libuv pool. */
  hashBatch(views: Uint8Array[]): Promise<Buffer>;
}
const nativeSha1 = loadNativeAddon<NativeSha1>('ct_sha1_batch', 'CT_NO_NATIVE_HASH');

// Inline source: the pool works the same from compiled `dist/` and from TypeScript under tsx.
// A message carries a batch: ids and buffers; the answer is the ids and one array of digests.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', (batch) => {
  const digests = new Uint8Array(20 * batch.data.length);
  for (let i = 0; i < batch.data.length; i++) digests.set(createHash('sha1').update(batch.data[i]).digest(), 20 * i);
  parentPort.postMessage({ ids: batch.ids, digests }, [digests.buffer]);
});
`;

interface Job { resolve(digest: Buffer): void; reject(err: Error): void }

/** One lane of the pool: hashes one batch at a time, in a worker thread or on the libuv pool. */
interface Slot {
  /** Absent on a native lane. */
  worker: Worker | undefined;
  /** Hands a batch to the lane; its answer comes back through HasherPool.answered. */
  post(ids: number[], data: Uint8Array[]): void;
  jobs: Map<number, Job>;
  /** Buffers hashed by the next batch (sent once the current synchronous run ends), and their ids. */
  pending: Uint8Array[];
  pendingIds: number[];
  /** Batches sent and not answered yet (at most MAX_IN_FLIGHT; the rest waits in pending). */
  inFlight: number;
  /** A flush is scheduled (end of the synchronous run, or SMALL_WAIT_MS for small pieces). */
  flushQueued: boolean;
  /** The scheduled flush came while a batch was out: its answer sends the pending jobs. */
  due: boolean;
}

/** Jobs per batch at most: a batch is answered as a whole, so it stays small in bytes. */
const MAX_BATCH = 64;
/**
 * Batches a lane holds at once. Jobs arriving while its batch is hashed wait and leave
 * together when it answers: with blocks landing in place each socket read completes about one
 * 16 KiB piece, so batching per synchronous run alone posted nearly a message per piece (1 GiB of
 * 16 KiB pieces: postMessage 1.0 s of the main thread; with this 0.66 s; SMALL_WAIT_MS below
 * takes the rest).
 */
const MAX_IN_FLIGHT = 1;
/**
 * Below this size a piece's hash waits up to SMALL_WAIT_MS for company. Each message costs the
 * main thread ~70 us of wall time on this 2-core VM, whatever its size (the woken worker takes
 * the core): 1 GiB of 16 KiB pieces went out in ~8,000 messages of ~8 pieces, 0.55 s of the
 * main thread. A 2 ms wait adds nothing a reader of 16 KiB pieces would notice. (Measured with
 * worker threads; on native lanes 0 ms and 2 ms did the same, 3 pairs.)
 */
const SMALL_PIECE = 256 * 1024;
const SMALL_WAIT_MS = 2;

/** Runs `fn` after `ms`; the pool's short waits, replaceable so unit tests decide when they end. */
export type WaitScheduler = (fn: () => void, ms: number) => void;
// Taken at load: a test that fakes the clock for the code it tests must not freeze the hashing.
const realSetTimeout = globalThis.setTimeout;
const realWait: WaitScheduler = (fn, ms) => { realSetTimeout(fn, ms); };

/** A buffer the workers can read without a copy. */
export function allocPieceBuffer(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

/** Lanes replaced after a crash before the pool gives up on them and hashes on the main thread. */
const MAX_RESPAWNS = 8;

export class HasherPool {
  private readonly lanes: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private respawns = 0;
  /** Batches handed to a lane (for tests: batching is what keeps this low). */
  messagesPosted = 0;
  /** Hashes in the libuv pool (the native addon) rather than in worker threads. */
  readonly native: boolean;

  constructor(
    size = Math.max(1, Math.min(4, availableParallelism())),
    private readonly wait: WaitScheduler = realWait,
    opts: { native?: boolean } = {},
  ) {
    this.native = (opts.native ?? true) && nativeSha1 !== undefined;
    for (let i = 0; i < size; i++) {
      if (this.native) this.lanes.push(this.nativeLane());
      else this.spawn();
    }
  }

  private nativeLane(): Slot {
    const native = nativeSha1 as NativeSha1;
    const slot = newSlot(undefined, (ids, data) => {
      native.hashBatch(data).then(
        (digests) => { if (this.lanes.includes(slot)) this.answered(slot, ids, digests); },
        // A failed batch fails its own jobs (HasherError: no peer is to blame); the lane is replaced.
        (err: Error) => this.retire(slot, new HasherError(`native hash failed: ${err.message}`)),
      );
    });
    return slot;
  }

  private spawn(): void {
    // No inherited flags: the source is CommonJS, and a parent's --input-type=module would break it.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    const slot = newSlot(worker, (ids, data) => worker.postMessage({ ids, data }));
    worker.on('message', (msg: { ids: number[]; digests: Uint8Array }) => {
      this.answered(slot, msg.ids, Buffer.from(msg.digests.buffer, msg.digests.byteOffset, msg.digests.byteLength));
    });
    // A dead worker fails only its own jobs (as HasherError: no peer is to blame) and is replaced.
    const died = (err: Error) => this.retire(slot, new HasherError(`hash worker died: ${err.message}`));
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
    // Referenced only while hashing: idle workers must never keep an embedding program alive (a
    // test process hung on exactly that), but a pending hash must (or `await` is abandoned).
    // After the listeners, because adding a 'message' listener refs the port again.
    worker.unref();
    this.lanes.push(slot);
  }

  /** A lane's batch came back: what became due meanwhile leaves next, then the jobs resolve. */
  private answered(slot: Slot, ids: number[], digests: Buffer): void {
    slot.inFlight--;
    if (slot.due) this.flush(slot);
    ids.forEach((id, i) => {
      const job = slot.jobs.get(id);
      slot.jobs.delete(id);
      job?.resolve(digests.subarray(20 * i, 20 * i + 20));
    });
    if (slot.jobs.size === 0) slot.worker?.unref();
  }

  private retire(slot: Slot, err: HasherError): void {
    const i = this.lanes.indexOf(slot);
    if (i < 0) return;
    this.lanes.splice(i, 1);
    for (const job of slot.jobs.values()) job.reject(err);
    slot.jobs.clear();
    slot.pending = [];
    slot.pendingIds = [];
    void slot.worker?.terminate().catch(() => undefined);
    if (!this.closed && this.respawns++ < MAX_RESPAWNS) {
      if (slot.worker) this.spawn();
      else this.lanes.push(this.nativeLane());
    }
  }

  /** SHA-1 of `data`; on the main thread after close() or when no lane is left. */
  hash(data: Uint8Array): Promise<Buffer> {
    if (this.closed || this.lanes.length === 0) return Promise.resolve(createHash('sha1').update(data).digest());
    // A batch being gathered is filled before another lane is woken.
    let slot = this.lanes.find((w) => w.pending.length > 0 && w.pending.length < MAX_BATCH) ?? this.lanes[0];
    if (slot.pending.length === 0) for (const w of this.lanes) if (w.jobs.size < slot.jobs.size) slot = w;
    const id = this.nextId++;
    if (slot.jobs.size === 0) slot.worker?.ref();
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject });
      slot.pendingIds.push(id);
      // A plain Uint8Array view posts ~14x faster than a Buffer (measured): Buffers take a slower
      // serialisation path. Over a SharedArrayBuffer nothing is copied either way.
      slot.pending.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (slot.pending.length >= MAX_BATCH) return this.due(slot);
      // Jobs of one synchronous run (a socket read completing many small pieces) share one
      // message, and small pieces wait a little for more.
      if (slot.flushQueued) return;
      slot.flushQueued = true;
      const run = () => { slot.flushQueued = false; this.due(slot); };
      if (data.byteLength < SMALL_PIECE) this.wait(run, SMALL_WAIT_MS);
      else queueMicrotask(run);
    });
  }

  /** The pending jobs should go: now if the lane has room, else when it answers. */
  private due(slot: Slot): void {
    if (slot.inFlight < MAX_IN_FLIGHT) this.flush(slot);
    else slot.due = true;
  }

  private flush(slot: Slot): void {
    slot.due = false;
    if (slot.pending.length === 0 || !this.lanes.includes(slot)) return;
    const n = Math.min(slot.pending.length, MAX_BATCH);
    slot.post(slot.pendingIds.slice(0, n), slot.pending.slice(0, n));
    slot.pending = slot.pending.slice(n);
    slot.pendingIds = slot.pendingIds.slice(n);
    slot.inFlight++;
    this.messagesPosted++;
    // More than a batch was due: the rest goes when this one is answered.
    slot.due = slot.pending.length > 0;
  }

  async verify(data: Uint8Array, expected: Uint8Array): Promise<boolean> {
    return (await this.hash(data)).equals(expected);
  }

  /** For tests: kills one lane (a worker, or a native lane) as a crash would. */
  crashOneWorkerForTest(): void {
    const slot = this.lanes[0];
    if (slot) this.retire(slot, new HasherError('hash worker died: killed by test'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.lanes.splice(0);
    for (const slot of slots) {
      for (const job of slot.jobs.values()) job.reject(new HasherError('hasher pool closed'));
      slot.jobs.clear();
    }
    await Promise.all(slots.map((s) => s.worker?.terminate()));
  }
}

function newSlot(worker: Worker | undefined, post: Slot['post']): Slot {
  return { worker, post, jobs: new Map(), pending: [], pendingIds: [], inFlight: 0, flushQueued: false, due: false };
}

/** One pool per process is plenty: sessions share it. */
let shared: HasherPool | undefined;
export function sharedHasherPool(): HasherPool {
  shared ??= new HasherPool();
  return shared;
}
