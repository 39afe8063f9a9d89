/**
 * EventEmitter with typed event names and arguments, so `torrent.on('progress', ...)` is checked
 * by the compiler. `E` maps each event name to its argument tuple.
 */
import { EventEmitter } from 'node:events';

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> extends EventEmitter {
  override on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.on(event, listener as Listener<unknown[]>);
  }
  override once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.once(event, listener as Listener<unknown[]>);
  }
  override off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return super.off(event, listener as Listener<unknown[]>);
  }
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }
}
