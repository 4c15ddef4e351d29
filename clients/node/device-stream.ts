// A device's session stream as a client holds it: sends correlated with their results, events
// deduplicated by (conversation, sequence), cumulative acks, heartbeats and per-conversation cursors.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { StreamError } from "../../gen/parley/v1/errors_pb.js";
import type { ConversationEvent, Cursor, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import type { SendMessageRequestSchema } from "../../gen/parley/v1/messaging_pb.js";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
  type GoAway,
  type Ready,
  type SendResult,
  type SessionService,
} from "../../gen/parley/v1/session_pb.js";
import { bearer } from "./transport.ts";

export interface DeviceStreamOptions {
  accessToken: string;
  cursors?: Cursor[];
  window?: number;
  /** Ack every event as soon as it arrives (default true); false lets the caller ack. */
  autoAck?: boolean;
}

export interface StreamListener {
  onEvent?(event: ConversationEvent, deliveryId: bigint, duplicate: boolean): void;
  onReceipt?(receipt: ReceiptUpdate): void;
  onCaughtUp?(replayed: number): void;
  onGoAway?(goAway: GoAway): void;
  onError?(error: StreamError): void;
  onFrame?(frame: ConnectResponse): void;
}

/** An async queue of outgoing frames that the Connect client reads as the request stream. */
class FrameQueue implements AsyncIterable<ConnectRequest> {
  #items: ConnectRequest[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  push(frame: ConnectRequest): void {
    this.#items.push(frame);
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<ConnectRequest> {
    for (;;) {
      const item = this.#items.shift();
      if (item) yield item;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

export class DeviceStream {
  readonly ready: Promise<Ready>;
  readonly caughtUp: Promise<number>;
  /** Resolves when the stream has ended, with the error if it failed. */
  readonly ended: Promise<Error | undefined>;
  /** Highest sequence held per conversation (what to send as cursors when reconnecting). */
  readonly cursors = new Map<string, bigint>();
  /** Every distinct event received, in arrival order. */
  readonly events: ConversationEvent[] = [];
  readonly receipts: ReceiptUpdate[] = [];
  duplicates = 0;
  lastDeliveryId = 0n;
  goAway: GoAway | undefined;
  readonly #queue = new FrameQueue();
  readonly #pending = new Map<string, { resolve: (r: SendResult) => void; reject: (e: Error) => void }[]>();
  readonly #abort = new AbortController();
  readonly #listener: StreamListener;
  readonly #autoAck: boolean;
  readonly #echoes = new Map<bigint, () => void>();
  #nextNonce = 1n;
  #ended = false;

  constructor(client: Client<typeof SessionService>, options: DeviceStreamOptions, listener: StreamListener = {}) {
    this.#listener = listener;
    this.#autoAck = options.autoAck ?? true;
    for (const c of options.cursors ?? []) this.cursors.set(c.conversationId, c.sequence);
    let readyResolve!: (r: Ready) => void;
    let caughtUpResolve!: (n: number) => void;
    this.ready = new Promise((resolve) => (readyResolve = resolve));
    this.caughtUp = new Promise((resolve) => (caughtUpResolve = resolve));
    this.#queue.push(
      create(ConnectRequestSchema, {
        frame: { case: "hello", value: { cursors: options.cursors ?? [], window: options.window ?? 0 } },
      }),
    );
    const responses = client.connect(this.#queue, { headers: bearer(options.accessToken), signal: this.#abort.signal });
    this.ended = (async () => {
      try {
        for await (const frame of responses) {
          try {
            this.#handle(frame, readyResolve, caughtUpResolve);
          } catch (error) {
            // A listener's bug must not end the stream; it is reported, not swallowed.
            process.emitWarning(`DeviceStream listener failed: ${error instanceof Error ? error.stack : error}`);
          }
        }
        return undefined;
      } catch (error) {
        return error as Error;
      } finally {
        this.#ended = true;
        for (const waiters of this.#pending.values()) {
          for (const waiter of waiters) waiter.reject(new Error("the stream ended before the send result arrived"));
        }
        this.#pending.clear();
      }
    })();
  }

  /** Sends a message and resolves with its SendResult. */
  send(request: Omit<MessageInitShape<typeof SendMessageRequestSchema>, "$typeName">): Promise<SendResult> {
    if (this.#ended) return Promise.reject(new Error("the stream has ended"));
    const clientMessageId = request.clientMessageId ?? "";
    const result = new Promise<SendResult>((resolve, reject) => {
      const waiters = this.#pending.get(clientMessageId) ?? [];
      waiters.push({ resolve, reject });
      this.#pending.set(clientMessageId, waiters);
    });
    this.#queue.push(create(ConnectRequestSchema, { frame: { case: "send", value: request } }));
    return result;
  }

  ack(throughDeliveryId: bigint = this.lastDeliveryId): void {
    this.#queue.push(create(ConnectRequestSchema, { frame: { case: "ack", value: { throughDeliveryId } } }));
  }

  markRead(conversationId: string, throughSequence: bigint): void {
    this.#queue.push(create(ConnectRequestSchema, { frame: { case: "markRead", value: { conversationId, throughSequence } } }));
  }

  /** Sends a heartbeat without waiting for its echo. */
  heartbeat(nonce: bigint): void {
    this.#queue.push(create(ConnectRequestSchema, { frame: { case: "heartbeat", value: { nonce, echo: false } } }));
  }

  /** Sends a heartbeat and resolves when the server echoes it (it handles frames in order). */
  ping(): Promise<void> {
    if (this.#ended) return Promise.reject(new Error("the stream has ended"));
    const nonce = this.#nextNonce++;
    const echoed = new Promise<void>((resolve) => this.#echoes.set(nonce, resolve));
    this.#queue.push(create(ConnectRequestSchema, { frame: { case: "heartbeat", value: { nonce, echo: false } } }));
    return echoed;
  }

  /** Sends a raw frame (tests of bad input use this). */
  sendFrame(frame: MessageInitShape<typeof ConnectRequestSchema>["frame"]): void {
    this.#queue.push(create(ConnectRequestSchema, { frame }));
  }

  /** Half-closes politely. */
  close(): void {
    this.#queue.end();
  }

  /** Drops the connection without a goodbye, as a phone losing signal would. */
  abort(): void {
    this.#abort.abort();
  }

  /** Cursors to resume from on the next stream. */
  cursorList(): Cursor[] {
    return [...this.cursors].map(([conversationId, sequence]) => ({ conversationId, sequence }) as Cursor);
  }

  #handle(frame: ConnectResponse, ready: (r: Ready) => void, caughtUp: (n: number) => void): void {
    this.#listener.onFrame?.(frame);
    const f = frame.frame;
    switch (f.case) {
      case "ready":
        ready(f.value);
        break;
      case "event": {
        const { event } = f.value;
        if (!event) break;
        this.lastDeliveryId = f.value.deliveryId;
        const held = this.cursors.get(event.conversationId) ?? 0n;
        const duplicate = event.sequence <= held;
        if (duplicate) this.duplicates++;
        else {
          this.cursors.set(event.conversationId, event.sequence);
          this.events.push(event);
        }
        this.#listener.onEvent?.(event, f.value.deliveryId, duplicate);
        if (this.#autoAck) this.ack(f.value.deliveryId);
        break;
      }
      case "sendResult": {
        const waiters = this.#pending.get(f.value.clientMessageId);
        const waiter = waiters?.shift();
        if (waiters?.length === 0) this.#pending.delete(f.value.clientMessageId);
        waiter?.resolve(f.value);
        break;
      }
      case "receipt":
        this.receipts.push(f.value);
        this.#listener.onReceipt?.(f.value);
        break;
      case "caughtUp":
        caughtUp(f.value.replayed);
        this.#listener.onCaughtUp?.(f.value.replayed);
        break;
      case "heartbeat":
        if (f.value.echo) {
          this.#echoes.get(f.value.nonce)?.();
          this.#echoes.delete(f.value.nonce);
        } else {
          this.#queue.push(
            create(ConnectRequestSchema, { frame: { case: "heartbeat", value: { nonce: f.value.nonce, echo: true } } }),
          );
        }
        break;
      case "goAway":
        this.goAway = f.value;
        this.#listener.onGoAway?.(f.value);
        this.#queue.end();
        break;
      case "error":
        this.#listener.onError?.(f.value);
        break;
    }
  }
}
