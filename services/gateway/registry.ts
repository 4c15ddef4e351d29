// The streams this gateway holds, by device and by user; one stream per device. It is also the
// local DeliveryRouter (fanout in the same process hands events straight to the sessions), and,
// given a RouteRegistry, it publishes where each device is held so remote fanout and push can find
// it. The all-in-one process needs no routes: its one gateway holds every stream, and push asks
// this registry (devicesOf) which devices are connected.
import type { ConversationEvent, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import { GoAwayReason } from "../../gen/parley/v1/session_pb.js";
import type { DeliveryRouter, EventDelivery } from "../fanout/ports.ts";
import type { Clock } from "../shared/clock.ts";
import { GroupedValues } from "../shared/grouped-values.ts";
import type { Logger } from "../shared/logger.ts";
import type { DeviceSession } from "./device-session.ts";
import type { Route, RouteRegistry } from "./ports.ts";

export interface RoutePublishing {
  registry: RouteRegistry;
  /** This gateway's internal address, which fanout dials. */
  gatewayId: string;
  logger: Logger;
}

export class SessionRegistry implements DeliveryRouter {
  readonly #byDevice = new Map<string, DeviceSession>();
  readonly #byUser = new GroupedValues<string, DeviceSession>();
  /** Streams gone from the registry whose last acks are still being written, by device. */
  readonly #recording = new Map<string, Promise<void>>();
  readonly #clock: Clock;
  readonly #routes: RoutePublishing | undefined;
  readonly #routeTtlMs: number;
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: { clock: Clock; heartbeatIntervalMs: number; routes?: RoutePublishing }) {
    this.#clock = options.clock;
    this.#routes = options.routes;
    // A route outlives two missed refreshes, so one slow tick does not make a device unreachable.
    this.#routeTtlMs = 3 * options.heartbeatIntervalMs;
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
    this.#byUser.add(session.caller.userId, session);
    this.#publish("register", (r) => r.register(this.#routeOf(session), this.#routeTtlMs));
  }

  remove(session: DeviceSession): void {
    if (this.#byDevice.get(session.deviceId) !== session) return;
    this.#byDevice.delete(session.deviceId);
    this.#byUser.delete(session.caller.userId, session);
    this.#publish("unregister", (r) => r.unregister(this.#routeOf(session)));
    const recorded = session.recorded();
    this.#recording.set(session.deviceId, recorded);
    void recorded.then(() => {
      if (this.#recording.get(session.deviceId) === recorded) this.#recording.delete(session.deviceId);
    });
  }

  /**
   * The last acks of this device's previous stream on this gateway, while they are being written:
   * a new stream reads its stored cursors after them (DeviceSession.start).
   */
  recordingOf(deviceId: string): Promise<void> | undefined {
    return this.#recording.get(deviceId);
  }

  /** The devices of these users with a stream here. */
  devicesOf(userIds: string[]): Set<string> {
    const devices = new Set<string>();
    this.#eachSessionOf(userIds, (session) => devices.add(session.deviceId));
    return devices;
  }

  /** Offers an event to the users' streams here; returns how many streams got it. */
  offerEvent(userIds: string[], event: ConversationEvent, delivery?: EventDelivery): number {
    const receiptsNotLive = delivery?.receiptsNotLive === true;
    return this.#eachSessionOf(userIds, (session) => session.offer(event, receiptsNotLive));
  }

  offerReceipt(userIds: string[], receipt: ReceiptUpdate): number {
    return this.#eachSessionOf(userIds, (session) => session.offerReceipt(receipt));
  }

  /** Calls fn for every stream of these users here; returns how many there were. */
  #eachSessionOf(userIds: string[], fn: (session: DeviceSession) => void): number {
    let count = 0;
    for (const userId of userIds) count += this.#byUser.forEach(userId, fn);
    return count;
  }

  async deliverEvent(userIds: string[], event: ConversationEvent, delivery?: EventDelivery): Promise<void> {
    this.offerEvent(userIds, event, delivery);
  }

  async deliverReceipt(userIds: string[], receipt: ReceiptUpdate): Promise<void> {
    this.offerReceipt(userIds, receipt);
  }

  /** Ends the device's stream here with GoAway(REVOKED); returns whether this gateway held it. */
  closeStream(deviceId: string): boolean {
    const session = this.#byDevice.get(deviceId);
    session?.goAway(GoAwayReason.REVOKED, "this device was signed out");
    return session !== undefined;
  }

  async closeDevice(_userId: string, deviceId: string): Promise<void> {
    this.closeStream(deviceId);
  }

  /**
   * Tells every stream to reconnect elsewhere (GoAway SERVER_DRAINING) and resolves once all have
   * left or the deadline has passed; used when the server shuts down.
   */
  async drain(options: { reconnectAfterMs: number; deadlineMs: number }): Promise<void> {
    for (const session of [...this.#byDevice.values()]) {
      session.goAway(GoAwayReason.SERVER_DRAINING, "server is shutting down; reconnect", options.reconnectAfterMs);
    }
    const deadline = Date.now() + options.deadlineMs;
    while (this.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  stop(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #routeOf(session: DeviceSession): Route {
    return {
      deviceId: session.deviceId,
      userId: session.caller.userId,
      gatewayId: this.#routes?.gatewayId ?? "",
      sessionId: session.sessionId,
    };
  }

  /** Route bookkeeping never blocks or fails a stream: a missed update heals on the next tick. */
  #publish(what: string, operation: (registry: RouteRegistry) => Promise<unknown>): void {
    const routes = this.#routes;
    if (!routes) return;
    operation(routes.registry).catch((error) => routes.logger.warn("route update failed", { what, error: String(error) }));
  }

  #tick(): void {
    const now = this.#clock.now();
    for (const session of [...this.#byDevice.values()]) if (!session.tick(now)) this.remove(session);
    if (!this.#routes || this.#byDevice.size === 0) return;
    const held = [...this.#byDevice.values()].map((s) => this.#routeOf(s));
    this.#publish("refresh", async (r) => {
      // A route that was gone (the registry lost it) means fanout may have skipped these devices:
      // their sessions re-read storage so nothing stays undelivered.
      for (const route of await r.refresh(held, this.#routeTtlMs)) this.#byDevice.get(route.deviceId)?.resync();
    });
  }
}
