// The device stream over WebSocket (wss://<edge>/v1/session): one binary protobuf ConnectRequest /
// ConnectResponse per message, Hello first with the access token (browsers cannot set headers).
// Acks every event (which moves this member's delivered watermark), echoes and sends heartbeats,
// and reconnects with its cursors where proto/ERRORS.md says to.
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { ConversationEvent, ReceiptUpdate } from "../../../gen/parley/v1/events_pb.js";
import type { SendMessageRequestSchema } from "../../../gen/parley/v1/messaging_pb.js";
import {
  ConnectRequestSchema,
  ConnectResponseSchema,
  type GoAway,
  GoAwayReason,
  type Ready,
  type SendResult,
} from "../../../gen/parley/v1/session_pb.js";

export interface StreamHandlers {
  onReady?(ready: Ready): void;
  onEvent(event: ConversationEvent): void;
  onReceipt(receipt: ReceiptUpdate): void;
  onCaughtUp?(): void;
  /** "connecting", "live", "reconnecting in 2s: ...", "closed: ..." */
  onState(state: string, live: boolean): void;
}

type Frame = MessageInitShape<typeof ConnectRequestSchema>;
type SendInit = MessageInitShape<typeof SendMessageRequestSchema>;

/** What to do after each close code (proto/ERRORS.md, "WebSocket close codes"). */
function afterClose(code: number, goAway: GoAway | undefined): { retry: boolean; why: string } {
  if (goAway?.reason === GoAwayReason.REPLACED) return { retry: false, why: "replaced by a newer stream for this device" };
  if (goAway?.reason === GoAwayReason.REVOKED) return { retry: false, why: "this device was signed out" };
  switch (code) {
    case 1000:
      return { retry: goAway !== undefined, why: goAway ? GoAwayReason[goAway.reason] : "closed" };
    case 1001:
      return { retry: true, why: "server draining" };
    case 4401:
      return { retry: false, why: "not signed in (token missing, invalid or expired): sign in again" };
    case 4408:
      return { retry: true, why: "Hello came too late" };
    case 1003:
    case 1007:
    case 1009:
      return { retry: false, why: `the server refused a frame (${code}): a client bug` };
    case 1008:
      return { retry: false, why: "the server ended the stream (1008)" };
    default:
      return { retry: true, why: `connection lost (${code})` };
  }
}

export class DeviceSocket {
  readonly #url: string;
  readonly #token: () => string;
  readonly #handlers: StreamHandlers;
  /** Last sequence held per conversation: sent in Hello, and drops replayed duplicates. */
  readonly #cursors = new Map<string, bigint>();
  readonly #pending = new Map<string, { resolve(r: SendResult): void; reject(e: Error): void }>();
  #socket: WebSocket | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #goAway: GoAway | undefined;
  #attempt = 0;
  #stopped = false;

  constructor(url: string, token: () => string, handlers: StreamHandlers) {
    this.#url = url;
    this.#token = token;
    this.#handlers = handlers;
  }

  open(): void {
    this.#goAway = undefined;
    this.#handlers.onState("connecting", false);
    const socket = new WebSocket(this.#url);
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    socket.onopen = () => {
      const cursors = [...this.#cursors].map(([conversationId, sequence]) => ({ conversationId, sequence }));
      this.#write({ frame: { case: "hello", value: { accessToken: this.#token(), cursors } } });
    };
    socket.onmessage = (message) => {
      if (message.data instanceof ArrayBuffer) this.#receive(fromBinary(ConnectResponseSchema, new Uint8Array(message.data)));
    };
    socket.onclose = (close) => this.#closed(close.code, close.reason);
  }

  /** Sends a message on the stream; resolves with its SendResult (sent or error). */
  send(request: SendInit): Promise<SendResult> {
    const id = request.clientMessageId ?? "";
    return new Promise((resolve, reject) => {
      if (this.#socket?.readyState !== WebSocket.OPEN) return reject(new Error("not connected"));
      this.#pending.set(id, { resolve, reject });
      this.#write({ frame: { case: "send", value: request } });
    });
  }

  markRead(conversationId: string, throughSequence: bigint): void {
    this.#write({ frame: { case: "markRead", value: { conversationId, throughSequence } } });
  }

  close(): void {
    this.#stopped = true;
    this.#socket?.close(1000, "signed out");
  }

  #write(frame: Frame): void {
    if (this.#socket?.readyState === WebSocket.OPEN)
      this.#socket.send(toBinary(ConnectRequestSchema, create(ConnectRequestSchema, frame)));
  }

  #receive(response: ReturnType<typeof fromBinary<typeof ConnectResponseSchema>>): void {
    const f = response.frame;
    switch (f.case) {
      case "ready": {
        this.#attempt = 0;
        const every = f.value.heartbeatIntervalMs || 30_000;
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(
          () => this.#write({ frame: { case: "heartbeat", value: { nonce: BigInt(Date.now()) } } }),
          every,
        );
        this.#handlers.onReady?.(f.value);
        this.#handlers.onState("live", true);
        break;
      }
      case "event": {
        const event = f.value.event;
        if (event && event.sequence > (this.#cursors.get(event.conversationId) ?? 0n)) {
          this.#cursors.set(event.conversationId, event.sequence);
          this.#handlers.onEvent(event);
        }
        this.#write({ frame: { case: "ack", value: { throughDeliveryId: f.value.deliveryId } } });
        break;
      }
      case "receipt":
        this.#handlers.onReceipt(f.value);
        break;
      case "caughtUp":
        this.#handlers.onCaughtUp?.();
        break;
      case "sendResult": {
        const waiter = this.#pending.get(f.value.clientMessageId);
        this.#pending.delete(f.value.clientMessageId);
        waiter?.resolve(f.value);
        break;
      }
      case "heartbeat":
        if (!f.value.echo) this.#write({ frame: { case: "heartbeat", value: { nonce: f.value.nonce, echo: true } } });
        break;
      case "goAway":
        this.#goAway = f.value;
        break;
      case "error":
        console.warn("stream error", f.value.code, f.value.detail?.reason, f.value.message);
        break;
    }
  }

  #closed(code: number, reason: string): void {
    clearInterval(this.#heartbeat);
    for (const waiter of this.#pending.values()) waiter.reject(new Error(`stream closed (${code})`));
    this.#pending.clear();
    if (this.#stopped) {
      this.#handlers.onState("offline", false);
      return;
    }
    const { retry, why } = afterClose(code, this.#goAway);
    if (!retry) {
      this.#handlers.onState(`closed: ${why}${reason ? ` (${reason})` : ""}`, false);
      return;
    }
    const backoff = this.#goAway?.reconnectAfterMs || Math.min(30_000, 500 * 2 ** this.#attempt++);
    const delay = Math.round(backoff * (0.75 + Math.random() / 2));
    this.#handlers.onState(`reconnecting in ${Math.ceil(delay / 1000)}s: ${why}`, false);
    setTimeout(() => this.open(), delay);
  }
}
