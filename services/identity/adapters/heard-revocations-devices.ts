// Active device records for the authenticator of a process that shares the device store with
// others (distributed mode's messaging instances, which check the device on every relayed send and
// receipt). A record is kept at most `maxAgeMs`, and forgotten at once when this process hears a
// sign-out on the bus (`forget`), so a signed-out device is refused within the bus's delay, and
// within `maxAgeMs` even if the bus loses the sign-out. Revoked and missing devices are never kept.

import type { Clock } from "../../shared/clock.ts";
import { LruMap } from "../../shared/lru-map.ts";
import type { DeviceRecord, DeviceStore } from "../ports.ts";

interface Kept {
  device: DeviceRecord;
  readAt: number;
}

export class HeardRevocationsDevices implements Pick<DeviceStore, "get"> {
  readonly #store: Pick<DeviceStore, "get">;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #kept: LruMap<string, Kept>;
  /** Counts sign-outs heard: a read that began before one may have seen the device still active. */
  #heard = 0;

  constructor(store: Pick<DeviceStore, "get">, options: { clock: Clock; maxAgeMs: number; capacity?: number }) {
    this.#store = store;
    this.#clock = options.clock;
    this.#maxAgeMs = options.maxAgeMs;
    this.#kept = new LruMap(options.capacity ?? 100_000);
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const kept = this.#kept.get(deviceId);
    if (kept && this.#clock.now() - kept.readAt <= this.#maxAgeMs) return kept.device;
    const heardBefore = this.#heard;
    const device = await this.#store.get(deviceId);
    if (!device || device.revokedAt !== null || this.#heard !== heardBefore || this.#maxAgeMs <= 0) {
      this.#kept.delete(deviceId);
      return device;
    }
    this.#kept.set(deviceId, { device, readAt: this.#clock.now() });
    return device;
  }

  /** The device was signed out: the next check reads the store. */
  forget(deviceId: string): void {
    this.#heard++;
    this.#kept.delete(deviceId);
  }
}
