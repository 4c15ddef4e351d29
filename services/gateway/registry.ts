// The streams this gateway holds, by device and by user; one stream per device. It is also the
// local DeliveryRouter: fanout in the same process hands events straight to the sessions.
import type { ConversationEvent, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import { GoAwayReason } from "../../gen/parley/v1/session_pb.js";
import type { DeliveryRouter } from "../fanout/ports.ts";
import type { Clock } from "../shared/clock.ts";
import type { DeviceSession } from "./device-session.ts";

export class SessionRegistry implements DeliveryRouter {
  readonly #byDevice = new Map<string, DeviceSession>();
  readonly #byUser = new Map<string, Set<DeviceSession>>();
  readonly #clock: Clock;
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: { clock: Clock; heartbeatIntervalMs: number }) {
    this.#clock = options.clock;
    // One timer for all sessions rather than one per stream.
    this.#ticker = setInterval(() => this.#tick(), options.heartbeatIntervalMs);
    this.#ticker.unref();
  }

  get size(): number {
    return this.#byDevice.size;
  }

  /** Registers a new stream; an older stream of the same device is told it was replaced. */
  add(session: DeviceSession): void {
    const previous = this.#byDevice.get(session.deviceId);
    if (previous) {
      this.remove(previous);
      previous.goAway(GoAwayReason.REPLACED, "a newer stream for this device took over");
    }
    this.#byDevice.set(session.deviceId, session);
    const sessions = this.#byUser.get(session.caller.userId) ?? new Set();
    sessions.add(session);
    this.#byUser.set(session.caller.userId, sessions);
  }

  remove(session: DeviceSession): void {
    if (this.#byDevice.get(session.deviceId) === session) this.#byDevice.delete(session.deviceId);
    const sessions = this.#byUser.get(session.caller.userId);
    sessions?.delete(session);
    if (sessions?.size === 0) this.#byUser.delete(session.caller.userId);
  }

  async deliverEvent(userIds: string[], event: ConversationEvent): Promise<void> {
    for (const userId of userIds) for (const session of this.#byUser.get(userId) ?? []) session.offer(event);
  }

  async deliverReceipt(userIds: string[], receipt: ReceiptUpdate): Promise<void> {
    for (const userId of userIds) for (const session of this.#byUser.get(userId) ?? []) session.offerReceipt(receipt);
  }

  async closeDevice(deviceId: string): Promise<void> {
    this.#byDevice.get(deviceId)?.goAway(GoAwayReason.REVOKED, "this device was signed out");
  }

  /** Tells every stream to reconnect elsewhere; used when the server drains. */
  drain(reconnectAfterMs: number): void {
    for (const session of [...this.#byDevice.values()]) {
      session.goAway(GoAwayReason.SERVER_DRAINING, "server is shutting down; reconnect", reconnectAfterMs);
    }
  }

  stop(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #tick(): void {
    const now = this.#clock.now();
    for (const session of [...this.#byDevice.values()]) if (!session.tick(now)) this.remove(session);
  }
}
