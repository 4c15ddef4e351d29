// Active device records for the authenticator of a process that shares the device store with
// others (distributed mode's messaging instances, which check the device on every relayed send and
// receipt). A record is kept at most `maxAgeMs`, and forgotten at once when this process hears a
// sign-out on the bus (`forget`), so a signed-out device is refused within the bus's delay, and
// within `maxAgeMs` even if the bus loses the sign-out. Revoked and missing devices are never kept.
import { AgedCopies } from "../../shared/aged-copies.ts";
import type { Clock } from "../../shared/clock.ts";
import type { DeviceRecord, DeviceStore } from "../ports.ts";

export class HeardRevocationsDevices implements Pick<DeviceStore, "get"> {
  readonly #store: Pick<DeviceStore, "get">;
  readonly #active: AgedCopies<string, DeviceRecord>;
  /** Counts sign-outs heard: a read that began before one may have seen the device still active. */
  #heard = 0;

  constructor(store: Pick<DeviceStore, "get">, options: { clock: Clock; maxAgeMs: number; capacity?: number }) {
    this.#store = store;
    this.#active = new AgedCopies(options, 100_000);
  }

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const kept = this.#active.get(deviceId);
    if (kept) return kept;
    const heardBefore = this.#heard;
    const readAt = this.#active.now();
    const device = await this.#store.get(deviceId);
    if (device && device.revokedAt === null && this.#heard === heardBefore) this.#active.set(deviceId, device, readAt);
    return device;
  }

  /** The device was signed out: the next check reads the store. */
  forget(deviceId: string): void {
    this.#heard++;
    this.#active.delete(deviceId);
  }
}
