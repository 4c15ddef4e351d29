// Values grouped by key, for groups that mostly hold one value (a user's streams on one gateway):
// a lone value is kept as itself, and a Set exists only while a key has two or more. Every idle
// stream then costs its map entry, not a Set and its hash table as well.

export class GroupedValues<K, V extends object> {
  readonly #groups = new Map<K, V | Set<V>>();

  /** How many keys have at least one value. */
  get keyCount(): number {
    return this.#groups.size;
  }

  add(key: K, value: V): void {
    const group = this.#groups.get(key);
    if (group === undefined) this.#groups.set(key, value);
    else if (group instanceof Set) group.add(value);
    else if (group !== value) this.#groups.set(key, new Set([group, value]));
  }

  delete(key: K, value: V): void {
    const group = this.#groups.get(key);
    if (group === value) this.#groups.delete(key);
    else if (group instanceof Set && group.delete(value) && group.size === 1) {
      for (const last of group) this.#groups.set(key, last);
    }
  }

  /** Calls fn with each value of the key; returns how many there were. */
  forEach(key: K, fn: (value: V) => void): number {
    const group = this.#groups.get(key);
    if (group === undefined) return 0;
    if (!(group instanceof Set)) {
      fn(group);
      return 1;
    }
    // As a Set iterates: a value fn removes before its turn is skipped.
    let count = 0;
    for (const value of group) {
      fn(value);
      count++;
    }
    return count;
  }
}
