// What `chat` and `follow` show while the session stream runs: replayed then live events, the
// status of the user's own messages, read marks for what was shown, and cursors saved as they
// advance. Stream callbacks are queued and handled one at a time, in arrival order, so that
// fetching a conversation's members never reorders what is printed.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ConversationKind } from "../../gen/parley/v1/conversations_pb.js";
import type { StreamError } from "../../gen/parley/v1/errors_pb.js";
import { type ConversationEvent, type Cursor, CursorSchema, type ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import type { Ready, SendResult } from "../../gen/parley/v1/session_pb.js";
import type { DeviceStream } from "../node/device-stream.ts";
import type { Api } from "./api.ts";
import type { ConnectionHooks } from "./connection.ts";
import type { Directory } from "./conversations.ts";
import { describeError, describeStreamError } from "./errors.ts";
import { cursorMap } from "./profile.ts";
import { ReceiptTracker, type StatusChange } from "./receipts.ts";
import { eventLine, notice, pendingLine, statusLine, statusRank } from "./render.ts";

/** How long status changes are gathered before one line per message is printed. */
const statusDelayMs = 150;

export interface LiveOptions {
  api: Api;
  directory: Directory;
  /** The conversation `chat` shows; undefined for `follow` (every conversation). */
  focus?: string;
  print(...lines: string[]): void;
  printError(line: string): void;
  /** Called once the first replay is complete. */
  onCaughtUp?(): void;
}

interface Outgoing {
  clientMessageId: string;
  conversationId: string;
  text: string;
  /** The stream this was last sent on while waiting for its result. */
  sentOn: DeviceStream | undefined;
  sequence: bigint | undefined;
}

export const textRequest = (conversationId: string, text: string, clientMessageId: string = randomUUID()) => ({
  conversationId,
  clientMessageId,
  content: { kind: { case: "text" as const, value: { body: text } } },
});

export class LiveView implements ConnectionHooks {
  readonly #api: Api;
  readonly #directory: Directory;
  readonly #focus: string | undefined;
  readonly #options: LiveOptions;
  readonly #self: string;
  readonly #tracker: ReceiptTracker;
  /** Highest sequence processed per conversation: what Hello sends and the profile stores. */
  readonly #cursors: Map<string, bigint>;
  readonly #outgoing = new Map<string, Outgoing>();
  /** Own messages confirmed by SendResult whose echo event is still to come (not to be shown twice). */
  readonly #echoes = new Set<string>();
  readonly #readWanted = new Map<string, bigint>();
  readonly #readSent = new Map<string, bigint>();
  #stream: DeviceStream | undefined;
  #queue: Promise<void> = Promise.resolve();
  #ack: { stream: DeviceStream; deliveryId: bigint } | undefined;
  #flushScheduled = false;
  #saveTimer: NodeJS.Timeout | undefined;
  #caughtUp = false;
  #missedElsewhere = 0;
  #settledWaiters: (() => void)[] = [];
  /** Status changes not printed yet: sent, delivered and read often come together; one line says it. */
  readonly #statusBuffer = new Map<string, StatusChange>();
  #statusTimer: NodeJS.Timeout | undefined;

  constructor(options: LiveOptions) {
    this.#api = options.api;
    this.#directory = options.directory;
    this.#focus = options.focus;
    this.#options = options;
    this.#self = options.api.profile.userId;
    this.#tracker = new ReceiptTracker(this.#self);
    this.#cursors = cursorMap(options.api.profile);
  }

  /** Messages entered but not yet confirmed by the server. */
  get unconfirmed(): number {
    return this.#outgoing.size;
  }

  /** (Re)loads a conversation's members, names and receipt watermarks. */
  async load(conversationId: string): Promise<void> {
    const conversation = await this.#directory.get(conversationId, true);
    this.#statusChanged(this.#tracker.setMembers(conversation));
    const me = conversation.members.find((m) => m.userId === this.#self);
    if (me) this.#readSent.set(conversationId, me.readThrough);
  }

  /** Shows the last `limit` events this device already had, for context before the replay. */
  async showEarlier(conversationId: string, limit: number): Promise<void> {
    const held = this.#cursors.get(conversationId) ?? 0n;
    if (limit <= 0 || held === 0n) return;
    const page = await this.#api.call((headers, c) =>
      c.messaging.listMessages({ conversationId, beforeSequence: held + 1n, pageSize: limit }, { headers }),
    );
    const title = this.#focus === undefined ? this.#title(conversationId) : undefined;
    const lines = page.events.map((event) => {
      const own = event.senderUserId === this.#self && event.body.case === "message";
      const status = own ? this.#tracker.watch(conversationId, event.sequence) : undefined;
      return eventLine(event, this.#directory.nameOf, { status, title });
    });
    const first = page.events[0];
    if (page.hasMore && first) lines.unshift(notice(`earlier: history ${conversationId} --before ${first.sequence}`));
    this.#print(...lines);
  }

  // ---- ConnectionHooks -------------------------------------------------------------------------

  cursors(): Cursor[] {
    return [...this.#cursors].map(([conversationId, sequence]) => create(CursorSchema, { conversationId, sequence }));
  }

  connected(stream: DeviceStream, _ready: Ready, reconnected: boolean): void {
    this.#stream = stream;
    if (reconnected) {
      // A read mark sent on the old stream may have been lost with it; sending one again is harmless.
      this.#readSent.clear();
    }
    // Sends that never got a result are sent again; the client_message_id makes that safe.
    for (const outgoing of this.#outgoing.values()) if (outgoing.sentOn !== stream) this.#transmit(stream, outgoing);
    this.#scheduleFlush();
    // The stream only reports receipt changes made while it is open, so read the watermarks again
    // now: what changed before (or while reconnecting) would otherwise never show.
    for (const conversationId of this.#directory.knownIds()) {
      this.#enqueue(async () => {
        if (this.#tracker.knows(conversationId)) await this.load(conversationId);
      });
    }
  }

  disconnected(): void {
    this.#stream = undefined;
  }

  caughtUp(_stream: DeviceStream, _replayed: number): void {
    this.#enqueue(async () => {
      if (this.#caughtUp) return;
      this.#caughtUp = true;
      if (this.#missedElsewhere > 0) {
        this.#print(notice(`${this.#missedElsewhere} new message(s) in other conversations (see: list, history, follow)`));
      }
      this.#options.onCaughtUp?.();
    });
  }

  event(stream: DeviceStream, event: ConversationEvent, deliveryId: bigint): void {
    this.#enqueue(async () => {
      await this.#show(event);
      this.#ack = { stream, deliveryId };
      this.#scheduleFlush();
    });
  }

  receipt(receipt: ReceiptUpdate): void {
    this.#enqueue(async () => {
      if (!this.#tracker.knows(receipt.conversationId)) return;
      if (this.#tracker.isStranger(receipt)) await this.load(receipt.conversationId);
      this.#statusChanged(this.#tracker.applyReceipt(receipt));
    });
  }

  streamError(error: StreamError): void {
    this.#options.printError(describeStreamError(error));
  }

  notice(text: string): void {
    this.#print(notice(text));
  }

  fatal(text: string): void {
    this.#options.printError(text.startsWith("error:") ? text : `error: ${text}`);
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Sends a line the user typed into the focused conversation. */
  send(text: string): void {
    const conversationId = this.#focus;
    if (conversationId === undefined || text.trim() === "") return;
    const outgoing: Outgoing = { clientMessageId: randomUUID(), conversationId, text, sentOn: undefined, sequence: undefined };
    this.#outgoing.set(outgoing.clientMessageId, outgoing);
    this.#print(pendingLine(this.#directory.nameOf(this.#self), text));
    if (this.#stream) this.#transmit(this.#stream, outgoing);
  }

  /** Resolves when every entered message has been confirmed or refused, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.#outgoing.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#settledWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.#queue;
    return this.#outgoing.size === 0;
  }

  /** Writes what is due (acks, read marks, cursors) before the command exits. */
  async finish(): Promise<void> {
    await this.#queue;
    this.#printStatus();
    this.#flush();
    clearTimeout(this.#saveTimer);
    this.#saveCursors();
  }

  #transmit(stream: DeviceStream, outgoing: Outgoing): void {
    outgoing.sentOn = stream;
    stream.send(textRequest(outgoing.conversationId, outgoing.text, outgoing.clientMessageId)).then(
      (result) => this.#enqueue(async () => this.#onResult(outgoing, result)),
      () => {
        // The stream ended first; connected() sends it again on the next stream.
        if (outgoing.sentOn === stream) outgoing.sentOn = undefined;
      },
    );
  }

  #onResult(outgoing: Outgoing, result: SendResult): void {
    if (result.outcome.case === "sent") {
      this.#confirmed(outgoing, result.outcome.value.sequence, false);
      return;
    }
    if (!this.#outgoing.delete(outgoing.clientMessageId)) return;
    const preview = outgoing.text.length > 40 ? `${outgoing.text.slice(0, 40)}…` : outgoing.text;
    this.#options.printError(`${describeStreamError(result.outcome.value)} (not sent: "${preview}")`);
    this.#notifySettled();
  }

  #confirmed(outgoing: Outgoing, sequence: bigint, viaEcho: boolean): void {
    if (outgoing.sequence !== undefined) return;
    outgoing.sequence = sequence;
    this.#outgoing.delete(outgoing.clientMessageId);
    if (!viaEcho) this.#echoes.add(`${outgoing.conversationId}/${sequence}`);
    const status = this.#tracker.watch(outgoing.conversationId, sequence, "sent");
    this.#statusChanged([{ conversationId: outgoing.conversationId, sequence, status }]);
    this.#notifySettled();
  }

  #notifySettled(): void {
    if (this.#outgoing.size === 0) for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  // ---- showing events --------------------------------------------------------------------------

  async #show(event: ConversationEvent): Promise<void> {
    const conversationId = event.conversationId;
    if (event.sequence <= (this.#cursors.get(conversationId) ?? 0n)) return; // already shown
    this.#advance(conversationId, event.sequence);
    const incoming = event.senderUserId !== this.#self && event.body.case === "message";
    if (this.#focus !== undefined && conversationId !== this.#focus) {
      if (incoming) await this.#showElsewhere(event);
      return;
    }
    if (!this.#tracker.knows(conversationId) || event.body.case === "membersAdded" || event.body.case === "memberRemoved") {
      await this.#loadQuietly(conversationId);
    }
    const title = this.#focus === undefined ? this.#title(conversationId) : undefined;
    if (event.senderUserId === this.#self && event.body.case === "message") {
      if (this.#echoes.delete(`${conversationId}/${event.sequence}`)) return;
      const outgoing = this.#outgoing.get(event.body.value.clientMessageId);
      if (outgoing && event.senderDeviceId === this.#api.profile.deviceId) {
        this.#confirmed(outgoing, event.sequence, true);
        return;
      }
      const status = this.#tracker.watch(conversationId, event.sequence);
      this.#print(eventLine(event, this.#directory.nameOf, { status, title }));
      return;
    }
    this.#print(eventLine(event, this.#directory.nameOf, { title }));
    if (incoming) {
      if (event.sequence > (this.#readWanted.get(conversationId) ?? 0n)) this.#readWanted.set(conversationId, event.sequence);
      this.#scheduleFlush();
    }
  }

  /** chat: a message in another conversation is acked, and mentioned in one line once live. */
  async #showElsewhere(event: ConversationEvent): Promise<void> {
    if (!this.#caughtUp) {
      this.#missedElsewhere++;
      return;
    }
    await this.#loadQuietly(event.conversationId);
    const conversation = this.#directory.peek(event.conversationId);
    const where = conversation?.kind === ConversationKind.GROUP ? ` in ${this.#title(event.conversationId)}` : "";
    this.#print(notice(`new message from ${this.#directory.nameOf(event.senderUserId)}${where} (chat ${event.conversationId})`));
  }

  async #loadQuietly(conversationId: string): Promise<void> {
    try {
      await this.load(conversationId);
    } catch (error) {
      this.#options.printError(describeError(error));
    }
  }

  #title(conversationId: string): string {
    const conversation = this.#directory.peek(conversationId);
    return conversation ? this.#directory.title(conversation, this.#self) : conversationId;
  }

  #statusChanged(changes: StatusChange[]): void {
    for (const change of changes) {
      const key = `${change.conversationId}/${change.sequence}`;
      const buffered = this.#statusBuffer.get(key);
      if (!buffered || statusRank[change.status] > statusRank[buffered.status]) this.#statusBuffer.set(key, change);
    }
    if (this.#statusBuffer.size > 0) this.#statusTimer ??= setTimeout(() => this.#printStatus(), statusDelayMs);
  }

  #printStatus(): void {
    clearTimeout(this.#statusTimer);
    this.#statusTimer = undefined;
    const changes = [...this.#statusBuffer.values()];
    this.#statusBuffer.clear();
    const title = (id: string) => (this.#focus === undefined ? this.#title(id) : undefined);
    this.#print(...changes.map((c) => statusLine(c.sequence, c.status, title(c.conversationId))));
  }

  // ---- acks, read marks, cursors ---------------------------------------------------------------

  #advance(conversationId: string, sequence: bigint): void {
    this.#cursors.set(conversationId, sequence);
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = undefined;
      this.#saveCursors();
    }, 300);
  }

  #saveCursors(): void {
    try {
      this.#api.store.saveCursors(this.#cursors);
    } catch (error) {
      this.#options.printError(describeError(error));
    }
  }

  /** Acks and read marks go out once per burst of events rather than once per event. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const ack = this.#ack;
    this.#ack = undefined;
    if (ack && ack.stream === this.#stream) ack.stream.ack(ack.deliveryId);
    const stream = this.#stream;
    if (!stream) return;
    for (const [conversationId, sequence] of this.#readWanted) {
      if (sequence <= (this.#readSent.get(conversationId) ?? 0n)) continue;
      stream.markRead(conversationId, sequence);
      this.#readSent.set(conversationId, sequence);
    }
  }

  #enqueue(task: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(task).catch((error) => this.#options.printError(describeError(error)));
  }

  #print(...lines: string[]): void {
    this.#options.print(...lines);
  }
}
