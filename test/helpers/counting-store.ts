// The real store, counting how often the named methods are called: how tests see how many reads a
// piece makes without replacing the store.
export function countingStore<T extends object, K extends string>(
  store: T,
  names: readonly K[],
): { store: T; calls: Record<K, number> } {
  const calls = Object.fromEntries(names.map((name) => [name, 0])) as Record<K, number>;
  const counted = new Proxy(store, {
    get(target, property) {
      if ((names as readonly (string | symbol)[]).includes(property)) calls[property as K]++;
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, calls };
}
