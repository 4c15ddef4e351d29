// A Map bounded to `capacity` entries that forgets the least recently used one first: the caches
// of verified tokens, device records, sender seats and member lists share it.
//
// A hit moves its entry to the newest end only when it has aged past half the capacity: moving
// on every hit (a delete and a set) was 2.8% of the 1:1 server's CPU, and the hottest entries are
// the ones that never need it. So an entry is never dropped sooner than capacity / 2 insertions
// or moves after its last use.

interface Slot<V> {
  value: V;
  /** The map's clock when the entry was last put at the newest end. */
  placed: number;
}

export class LruMap<K, V> {
  readonly #capacity: number;
  /** Insertion order is recency: least recently placed first. */
  readonly #entries = new Map<K, Slot<V>>();
  /** Counts placements (sets and moves). */
  #clock = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, counted as used now; undefined when absent. */
  get(key: K): V | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    if (this.#clock - slot.placed > this.#capacity / 2) {
      this.#entries.delete(key);
      slot.placed = ++this.#clock;
      this.#entries.set(key, slot);
    }
    return slot.value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, placed: ++this.#clock });
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
