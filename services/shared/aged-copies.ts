// Copies of values read from a store that other processes also write: each copy remembers when
// it was read, and one older than `maxAgeMs` counts as absent, so what the others write shows
// here within that long. Bounded, least recently used first (LruMap). Used by push's caches and
// by messaging's copies of active devices.
import { type Clock, systemClock } from "./clock.ts";
import { LruMap } from "./lru-map.ts";

export interface AgedCopiesOptions {
  /** Most entries kept. */
  capacity?: number;
  /** A copy older than this is read again (unbounded when absent; 0 keeps no copy at all). */
  maxAgeMs?: number;
  clock?: Clock;
}

/** A remembered value and when it was read. */
interface Copy<V> {
  value: V;
  readAt: number;
}

export class AgedCopies<K, V> {
  readonly #entries: LruMap<K, Copy<V>>;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;

  constructor(options: AgedCopiesOptions, defaultCapacity: number) {
    this.#entries = new LruMap(options.capacity ?? defaultCapacity);
    this.#maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.#clock = options.clock ?? systemClock;
  }

  get(key: K): V | undefined {
    const copy = this.#entries.get(key);
    if (!copy) return undefined;
    if (this.#maxAgeMs === Number.POSITIVE_INFINITY || this.#clock.now() - copy.readAt <= this.#maxAgeMs) return copy.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** `readAt`: taken before the read began, so the copy never counts as newer than it is. */
  set(key: K, value: V, readAt: number): void {
    if (this.#maxAgeMs <= 0) return;
    this.#entries.set(key, { value, readAt });
  }

  now(): number {
    return this.#clock.now();
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
