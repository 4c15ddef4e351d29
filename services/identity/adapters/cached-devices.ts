// Remembers device records for the authenticator, which looks one up on every call. Only for a
// process where every write to the devices goes through this very object (the all-in-one server):
// create and revoke update the copy, so a signed-out device is refused on the next call. Processes
// that share the store with others (distributed mode) must not use it: they would not see revokes.
import { LruMap } from "../../shared/lru-map.ts";
import type { DeviceRecord, DeviceStore } from "../ports.ts";

export class CachedDeviceStore implements DeviceStore {
  readonly #store: DeviceStore;
  readonly #known: LruMap<string, DeviceRecord>;

  constructor(store: DeviceStore, capacity = 100_000) {
    this.#store = store;
    this.#known = new LruMap(capacity);
  }

  async create(device: DeviceRecord): Promise<void> {
    await this.#store.create(device);
    this.#known.delete(device.deviceId);
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const known = this.#known.get(deviceId);
    if (known) return known;
    const device = await this.#store.get(deviceId);
    if (device) this.#known.set(deviceId, device);
    return device;
  }

  listActive(userId: string): Promise<DeviceRecord[]> {
    return this.#store.listActive(userId);
  }

  async revoke(deviceId: string, at: number): Promise<void> {
    // Forget first: a get racing with the write re-reads the store rather than keep a stale copy.
    this.#known.delete(deviceId);
    await this.#store.revoke(deviceId, at);
    this.#known.delete(deviceId);
  }
}
