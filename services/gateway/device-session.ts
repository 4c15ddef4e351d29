// One device's stream: replay from cursors, the caught-up marker, live events under a window of
// unacked deliveries, sends with their results, receipts and heartbeats.
//
// Live events are an optimisation: the session forwards one directly only when it is the next
// sequence of that conversation and the window has room. Otherwise it notes the conversation as
// pending and pulls the missing range from storage when room opens, so nothing is ever dropped
// and every conversation is delivered in order.
import { create } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { ConversationEvent, Cursor, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import { CursorSchema } from "../../gen/parley/v1/events_pb.js";
import type { ConnectRequest, Hello } from "../../gen/parley/v1/session_pb.js";
import { GoAwayReason } from "../../gen/parley/v1/session_pb.js";
import type { Caller } from "../shared/auth.ts";
import { invalidArgument, toPublicError, toStreamError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { withSpan } from "../shared/tracing.ts";
import type { SessionBackend } from "./backend.ts";
import type { SessionExtension } from "./extension.ts";
import { Outbox } from "./outbox.ts";

export interface SessionSettings {
  window: number;
  heartbeatIntervalMs: number;
  maxMessageBytes: number;
  /** Sync page size when pulling from storage. */
  pageSize: number;
  /**
   * After recording a device's delivered position, wait this long (up to half as long again, at
   * random) before the next write: a device in a busy conversation then costs one write per
   * linger, not one per event. Acks nobody is waiting for wait heldAckDelayFactor times as long
   * (see #ack). 0 writes as acks come.
   */
  deliveredLingerMs: number;
}

/**
 * An ack nobody is waiting for is held this many lingers (30 s at the default 100 ms), unless the
 * stream closes or a read is marked first. Two kinds are held:
 * - acks of events the device's own user sent: nobody waits for you to receive your own message,
 *   and the next ack of someone else's event in that conversation covers it. That halves the
 *   delivered writes, receipts and receipt deliveries of a conversation where both sides talk;
 * - acks in a conversation whose receipts are not delivered live (a group above fanout's
 *   live-receipt limit): every member's device acks every message, and no one sees those ticks
 *   come in, so a busy large group costs a write per device every 30 s, not every linger.
 * Meanwhile only the delivered watermark and the device's stored cursor lag, and a stale stored
 * cursor costs at most those events sent again (dropped by sequence).
 */
export const heldAckDelayFactor = 300;

/** A new stream waits at most this long for the previous stream's last acks to be written. */
const maxWaitForPreviousMs = 2_000;

/** Resolves when `promise` settles or after `ms`, whichever is first. */
function withinMs(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Unacked {
  deliveryId: bigint;
  conversationId: string;
  sequence: bigint;
  /** Its ack is held (heldAckDelayFactor): the device's own user sent it, or its receipts are not live. */
  held: boolean;
}

export class DeviceSession {
  readonly caller: Caller;
  readonly sessionId: string;
  readonly outbox = new Outbox();
  readonly #backend: SessionBackend;
  readonly #settings: SessionSettings;
  /** The gateway's logger; this stream's own (`logger`) is made from it on first use. */
  readonly #gatewayLogger: Logger;
  #logger: Logger | undefined;
  readonly #extension: SessionExtension | undefined;
  #lastHeardAt: number;
  #nextDeliveryId = 1n;
  #unacked: Unacked[] = [];
  /** Highest sequence sent on this stream (or known to the device) per conversation; made on first use. */
  #sent: Map<string, bigint> | undefined;
  /**
   * Conversations with events beyond #sent waiting to be pulled, and the highest one known. This
   * and the other rarely used collections exist only while in use: idle sessions are most of them.
   */
  #pending: Map<string, bigint> | undefined;
  #replaying = true;
  #pumping = false;
  #roomWaiters: (() => void)[] | undefined;
  /** Acked sequences not yet recorded as delivered; coalesced while a write is in flight. */
  #deliveredPending: Map<string, bigint> | undefined;
  /** Acked positions reached by held events only, written after a longer wait. */
  #heldPending: Map<string, bigint> | undefined;
  #heldTimer: NodeJS.Timeout | undefined;
  /** Conversations fanout said have no live receipts; made on first use. */
  #receiptsNotLive: Set<string> | undefined;
  #flushingDelivered = false;
  #lingering: NodeJS.Timeout | undefined;
  #deliveredWrite: Promise<void> | undefined;
  #resyncWanted = false;
  #closed = false;
  /** The outbox's frame count at the previous heartbeat tick. */
  #pushedAtLastTick = -1;

  constructor(options: {
    caller: Caller;
    sessionId: string;
    backend: SessionBackend;
    settings: SessionSettings;
    logger: Logger;
    now: number;
    extension?: SessionExtension;
  }) {
    this.caller = options.caller;
    this.sessionId = options.sessionId;
    this.#backend = options.backend;
    this.#settings = options.settings;
    this.#gatewayLogger = options.logger;
    this.#lastHeardAt = options.now;
    this.#extension = options.extension;
  }

  get deviceId(): string {
    return this.caller.deviceId;
  }

  /** What this stream's log lines carry. */
  logFields(): { sessionId: string; userId: string; deviceId: string } {
    return { sessionId: this.sessionId, userId: this.caller.userId, deviceId: this.caller.deviceId };
  }

  /** This stream's logger, made when it first logs: most streams log only opening and closing. */
  get logger(): Logger {
    this.#logger ??= this.#gatewayLogger.child(this.logFields());
    return this.#logger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #room(): number {
    return this.#settings.window - this.#unacked.length;
  }

  /**
   * Sends Ready, replays what the device missed, then CaughtUp; live events queue meanwhile.
   * `after`: the last acks of this device's previous stream, still being written. The replay
   * reads the stored cursors once they are in (or after maxWaitForPreviousMs), or it would send
   * again what the device already has.
   */
  async start(hello: Hello, after?: Promise<void>): Promise<void> {
    this.outbox.push({
      case: "ready",
      value: {
        userId: this.caller.userId,
        deviceId: this.caller.deviceId,
        sessionId: this.sessionId,
        heartbeatIntervalMs: this.#settings.heartbeatIntervalMs,
        window: this.#settings.window,
        maxMessageBytes: this.#settings.maxMessageBytes,
      },
    });
    if (after) await withinMs(after, maxWaitForPreviousMs);
    const replayed = await this.#syncAll(hello.cursors);
    if (this.#closed) return;
    this.outbox.push({ case: "caughtUp", value: { replayed } });
    this.#replaying = false;
    this.#extension?.caughtUp(this);
    this.#gatewayLogger.debug("caught up", { ...this.logFields(), replayed });
    this.#pump();
  }

  /** Pages Sync from the cursors through every conversation, within the window; returns how many events it sent. */
  async #syncAll(from: Cursor[]): Promise<number> {
    let cursors = from;
    let sent = 0;
    for (;;) {
      await this.#waitForRoom();
      if (this.#closed) return sent;
      const page = await this.#backend.sync(cursors, false, Math.min(this.#room(), this.#settings.pageSize));
      for (const event of page.events) if (this.#emit(event)) sent++;
      for (const cursor of page.cursors) this.#raiseSent(cursor.conversationId, cursor.sequence);
      cursors = page.cursors;
      if (page.caughtUp) return sent;
    }
  }

  /** Live events may have been missed (for example the route registry lost this device): re-read storage. */
  resync(): void {
    this.#resyncWanted = true;
    this.#pump();
  }

  /** A live event from fanout; `receiptsNotLive`: its conversation's acks may be held (see heldAckDelayFactor). */
  offer(event: ConversationEvent, receiptsNotLive = false): void {
    if (this.#closed) return;
    const conversationId = event.conversationId;
    if (receiptsNotLive) {
      this.#receiptsNotLive ??= new Set();
      this.#receiptsNotLive.add(conversationId);
    }
    const sent = this.#sent?.get(conversationId);
    if (sent !== undefined && event.sequence <= sent) return;
    const inOrder = sent !== undefined && event.sequence === sent + 1n;
    if (!this.#replaying && inOrder && !this.#pending?.has(conversationId) && this.#room() > 0) {
      this.#emit(event);
      return;
    }
    this.#pending ??= new Map();
    const known = this.#pending.get(conversationId) ?? 0n;
    if (event.sequence > known) this.#pending.set(conversationId, event.sequence);
    this.#pump();
  }

  offerReceipt(receipt: ReceiptUpdate): void {
    this.outbox.pushReceipt(receipt);
  }

  /**
   * Handles one client frame. Returns a promise when the server is not ready for the next frame
   * yet (a send or a read receipt in flight, a full outbox); acks and heartbeats, most of what a
   * device sends, are handled at once and return undefined, with no promise made.
   */
  handle(request: ConnectRequest, now: number): Promise<void> | undefined {
    this.#lastHeardAt = now;
    const work = this.#dispatch(request.frame);
    // Results wait in the outbox; reading the next frame only when there is room applies
    // backpressure to a client that sends faster than it reads.
    const window = this.#settings.window;
    if (work) return work.then(() => this.outbox.below(window));
    return this.outbox.size > window ? this.outbox.below(window) : undefined;
  }

  #dispatch(frame: ConnectRequest["frame"]): Promise<void> | undefined {
    switch (frame.case) {
      case "send":
        return this.#send(frame.value);
      case "ack":
        this.#ack(frame.value.throughDeliveryId);
        return undefined;
      case "markRead":
        return this.#markRead(frame.value.conversationId, frame.value.throughSequence);
      case "heartbeat":
        if (!frame.value.echo) this.outbox.push({ case: "heartbeat", value: { nonce: frame.value.nonce, echo: true } });
        return undefined;
      case "typing": {
        const extension = this.#extension;
        if (extension) return this.#report(() => extension.typing(this, frame.value));
        this.#reportError(invalidArgument("frame", "UNKNOWN_FRAME", "typing is not served here"));
        return undefined;
      }
      case "hello":
        this.#reportError(invalidArgument("frame.hello", "UNEXPECTED_FRAME", "hello may only be the first frame"));
        return undefined;
      default:
        this.#reportError(invalidArgument("frame", "UNKNOWN_FRAME", "empty or unknown frame"));
        return undefined;
    }
  }

  async #markRead(conversationId: string, throughSequence: bigint): Promise<void> {
    // Delivered never trails read: positions waiting out the linger are written first.
    await this.#settleDelivered();
    await this.#report(() => this.#backend.markRead(conversationId, throughSequence));
  }

  /** Called on every heartbeat tick; returns false when the peer is dead. */
  tick(now: number): boolean {
    if (this.#closed) return false;
    if (now - this.#lastHeardAt > 3 * this.#settings.heartbeatIntervalMs) {
      this.goAway(GoAwayReason.HEARTBEAT_TIMEOUT, "no frame for three heartbeat intervals");
      return false;
    }
    if (now >= this.caller.expiresAt - this.#settings.heartbeatIntervalMs) {
      this.goAway(GoAwayReason.TOKEN_EXPIRED, "access token expires; refresh it and reconnect");
      return false;
    }
    // Any frame tells the device this server is alive: ping only after an interval without one.
    // A device that pings every interval is answered by echoes and never pinged back.
    if (this.outbox.pushed === this.#pushedAtLastTick) {
      this.outbox.push({ case: "heartbeat", value: { nonce: BigInt(now), echo: false } });
    }
    this.#pushedAtLastTick = this.outbox.pushed;
    return true;
  }

  goAway(reason: GoAwayReason, message: string, reconnectAfterMs = 0): void {
    if (this.#closed) return;
    this.outbox.push({ case: "goAway", value: { reason, message, reconnectAfterMs } });
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.outbox.close();
    this.#releaseRoomWaiters();
    // Acks that were waiting out the linger are still recorded.
    this.#releaseHeldAcks();
    if (this.#lingering) this.#endLinger();
  }

  #emit(event: ConversationEvent): boolean {
    const sent = this.#sent?.get(event.conversationId);
    if (sent !== undefined && event.sequence <= sent) return false;
    const deliveryId = this.#nextDeliveryId++;
    this.#unacked.push({
      deliveryId,
      conversationId: event.conversationId,
      sequence: event.sequence,
      // Events pulled from storage are held too once fanout has named their conversation.
      held: event.senderUserId === this.caller.userId || this.#receiptsNotLive?.has(event.conversationId) === true,
    });
    this.#sent ??= new Map();
    this.#sent.set(event.conversationId, event.sequence);
    this.outbox.pushEvent(deliveryId, event);
    return true;
  }

  #raiseSent(conversationId: string, sequence: bigint): void {
    const sent = this.#sent?.get(conversationId);
    if (sent !== undefined && sequence <= sent) return;
    this.#sent ??= new Map();
    this.#sent.set(conversationId, sequence);
  }

  #releaseRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = undefined;
    if (waiters) for (const resolve of waiters) resolve();
  }

  async #waitForRoom(): Promise<void> {
    while (this.#room() <= 0 && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#roomWaiters ??= [];
        this.#roomWaiters.push(resolve);
      });
    }
  }

  /** Pulls pending conversations from storage while the window has room. */
  #pump(): void {
    if (this.#pumping || this.#replaying || this.#closed) return;
    // Every ack pumps: with nothing to pull, that must not cost a pull's promises.
    if (this.#pending === undefined && !this.#resyncWanted) return;
    this.#pumping = true;
    this.#pullPending()
      .catch((error) => this.#fail(error))
      .finally(() => {
        this.#pumping = false;
      });
  }

  async #pullPending(): Promise<void> {
    if (this.#resyncWanted) {
      this.#resyncWanted = false;
      const cursors = [...(this.#sent ?? [])].map(([conversationId, sequence]) =>
        create(CursorSchema, { conversationId, sequence }),
      );
      const found = await this.#syncAll(cursors);
      this.logger.info("resynced after a lost route", { found });
    }
    for (;;) {
      const next = this.#pending?.entries().next().value;
      if (!next) this.#pending = undefined;
      if (!next || this.#room() <= 0 || this.#closed) return;
      const [conversationId, target] = next;
      const from = this.#sent?.get(conversationId) ?? 0n;
      if (from >= target) {
        this.#pending?.delete(conversationId);
        continue;
      }
      const cursor = create(CursorSchema, { conversationId, sequence: from });
      const page = await this.#backend.sync([cursor], true, Math.min(this.#room(), this.#settings.pageSize));
      for (const event of page.events) this.#emit(event);
      const reached = this.#sent?.get(conversationId) ?? 0n;
      const wanted = this.#pending?.get(conversationId) ?? 0n;
      // Nothing readable (for example the device's user was removed): stop asking for it.
      if (reached >= wanted || (page.events.length === 0 && wanted === target)) this.#pending?.delete(conversationId);
    }
  }

  #ack(through: bigint): void {
    if (through >= this.#nextDeliveryId) {
      this.#reportError(invalidArgument("frame.ack.through_delivery_id", "ACK_OUT_OF_RANGE", "ack is beyond the last delivery"));
      return;
    }
    while (this.#unacked.length > 0 && (this.#unacked[0] as Unacked).deliveryId <= through) {
      const entry = this.#unacked.shift() as Unacked;
      if (entry.held) {
        this.#heldPending ??= new Map();
        this.#heldPending.set(entry.conversationId, entry.sequence);
        continue;
      }
      // Sequences rise with delivery order, so this position covers the conversation's held ones.
      this.#heldPending?.delete(entry.conversationId);
      this.#deliveredPending ??= new Map();
      this.#deliveredPending.set(entry.conversationId, entry.sequence);
    }
    if (this.#heldPending?.size && !this.#heldTimer) {
      const delay = this.#settings.deliveredLingerMs * heldAckDelayFactor;
      if (delay > 0 && !this.#closed) this.#heldTimer = setTimeout(() => this.#releaseHeldAcks(), delay);
      else this.#releaseHeldAcks();
    }
    this.#releaseRoomWaiters();
    this.#pump();
    this.#flushDelivered();
  }

  /**
   * Records acked positions as delivered. The first ack after a quiet spell is written at once;
   * acks that arrive while a write is in flight or lingering after it are merged into the next
   * write, so a device in a busy conversation costs one write per conversation per linger, not
   * one per event. Only the sender's delivered tick waits; nothing is lost if the process dies
   * meanwhile: the device is sent those events again and drops them by sequence.
   */
  #flushDelivered(): void {
    const pending = this.#deliveredPending;
    if (this.#flushingDelivered || !pending) return;
    this.#flushingDelivered = true;
    const batch = [...pending];
    this.#deliveredPending = undefined;
    this.#deliveredWrite = (async () => {
      for (const [conversationId, sequence] of batch) {
        await this.#report(() => this.#backend.markDelivered(conversationId, sequence));
      }
    })()
      .catch((error) => this.#fail(error))
      .finally(() => {
        this.#deliveredWrite = undefined;
        // Up to half as long again, at random: every member of a group acks a message at the same
        // moment, and lingers of one length would keep all their writes landing in one turn.
        const linger = this.#settings.deliveredLingerMs * (1 + Math.random() / 2);
        if (linger > 0 && !this.#closed) this.#lingering = setTimeout(() => this.#endLinger(), linger);
        else this.#endLinger();
      });
  }

  /** Resolves once every position this stream's device acked is written (or its write failed). */
  recorded(): Promise<void> {
    return this.#settleDelivered().catch(() => {});
  }

  /** Writes every acked position not yet recorded (frames are handled one at a time, so this ends). */
  async #settleDelivered(): Promise<void> {
    this.#releaseHeldAcks();
    for (;;) {
      if (this.#lingering) this.#endLinger();
      const write = this.#deliveredWrite;
      if (!write) return;
      await write;
    }
  }

  /** Queues the held positions with the other acks. */
  #releaseHeldAcks(): void {
    clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    const held = this.#heldPending;
    this.#heldPending = undefined;
    if (!held) return;
    // Each is its conversation's newest acked position: a later ack of an event that is not held
    // would have removed it (#ack).
    this.#deliveredPending ??= new Map();
    for (const [conversationId, sequence] of held) this.#deliveredPending.set(conversationId, sequence);
    this.#flushDelivered();
  }

  #endLinger(): void {
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    this.#flushingDelivered = false;
    this.#flushDelivered();
  }

  async #send(request: Parameters<SessionBackend["send"]>[0]): Promise<void> {
    try {
      // Each send starts its own trace: it follows the message through storage, the bus and
      // fanout to the recipients' gateways.
      const sent = await withSpan(
        "SessionService/send",
        (span) => {
          span.setAttribute("parley.conversation_id", request.conversationId);
          return this.#backend.send(request);
        },
        { root: true },
      );
      this.outbox.push({
        case: "sendResult",
        value: { clientMessageId: request.clientMessageId, outcome: { case: "sent", value: sent } },
      });
    } catch (error) {
      const { error: publicError } = this.#publicError(error);
      this.outbox.push({
        case: "sendResult",
        value: { clientMessageId: request.clientMessageId, outcome: { case: "error", value: toStreamError(publicError) } },
      });
    }
  }

  async #report(operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      this.#reportError(error);
    }
  }

  #reportError(error: unknown): void {
    this.outbox.push({ case: "error", value: toStreamError(this.#publicError(error).error) });
  }

  #publicError(error: unknown): { error: ConnectError } {
    const result = toPublicError(error);
    if (result.unexpected) this.logger.error("stream operation failed", { error });
    return result;
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.logger.error("session failed", { error });
    this.#reportError(error);
    this.close();
  }
}
