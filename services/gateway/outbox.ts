// The frames waiting to be written to one device stream. Its size is bounded by the session:
// events by the receive window, send results by reading one client frame at a time, and receipt
// updates are coalesced per (conversation, member) so a slow reader cannot grow it without bound.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type ConversationEvent, type ReceiptUpdate, ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import type { ConnectResponse } from "../../gen/parley/v1/session_pb.js";
import { ConnectResponseSchema } from "../../gen/parley/v1/session_pb.js";
import { maxOf } from "../shared/bigints.ts";
import { flushSoon } from "./flush-queue.ts";

export type ServerFrame = MessageInitShape<typeof ConnectResponseSchema>["frame"];

/**
 * A transport that takes frames straight from the outbox, as the device-stream transports do: no
 * promise or iterator step per frame, and nothing held per idle stream but this object. A turn's
 * frames are handed over at its end (flush-queue.ts).
 */
export interface FrameSink {
  /** Writes one frame; false when the transport is full (call `Outbox.resume()` once it drains). */
  write(frame: ConnectResponse): boolean;
  /** Writes several frames in order with one transport write, when the transport can; as `write`. */
  writeAll?(frames: ConnectResponse[]): boolean;
  /** The outbox closed and every frame it held was written. */
  end(): void;
}

export class Outbox {
  #frames: ConnectResponse[] = [];
  // Receipts, notices and drain waiters exist only while in use: most sessions sit idle.
  #receipts: Map<string, ReceiptUpdate> | undefined;
  #notices: Map<string, ConnectResponse> | undefined;
  #wake: (() => void) | undefined;
  #drained: (() => void)[] | undefined;
  #closed = false;
  #pushed = 0;
  #sink: FrameSink | undefined;
  #sinkFull = false;
  #flushing = false;
  #flushQueued = false;
  #ended = false;

  get size(): number {
    return this.#frames.length;
  }

  /** How many frames were ever queued here (a heartbeat is needed only when this stands still). */
  get pushed(): number {
    return this.#pushed;
  }

  push(frame: ServerFrame): void {
    this.#queue(create(ConnectResponseSchema, { frame }));
  }

  /**
   * One delivery of a live or replayed event: the frame every fanned-out copy becomes. Built as
   * the plain object protobuf-es messages are (what `create` returns for it, checked by a test):
   * `create` walks the schema for each of them and cost several times as much.
   */
  pushEvent(deliveryId: bigint, event: ConversationEvent): void {
    this.#queue({
      $typeName: "parley.v1.ConnectResponse",
      frame: { case: "event", value: { $typeName: "parley.v1.EventDelivery", deliveryId, event } },
    });
  }

  #queue(response: ConnectResponse): void {
    if (this.#closed) return;
    this.#frames.push(response);
    this.#pushed++;
    this.#signal();
  }

  /** Keeps only the newest watermarks per member: receipts are state, not a log. */
  pushReceipt(update: ReceiptUpdate): void {
    if (this.#closed) return;
    const key = `${update.conversationId}/${update.userId}`;
    this.#receipts ??= new Map();
    const prior = this.#receipts.get(key);
    let receipt = update;
    if (prior) {
      this.#receipts.delete(key);
      // The update is shared by every device's outbox, and its bytes are encoded once for all of
      // them: a merge makes this outbox its own copy instead of changing the shared one.
      if (prior.deliveredThrough > update.deliveredThrough || prior.readThrough > update.readThrough) {
        receipt = create(ReceiptUpdateSchema, {
          conversationId: update.conversationId,
          userId: update.userId,
          deliveredThrough: maxOf(prior.deliveredThrough, update.deliveredThrough),
          readThrough: maxOf(prior.readThrough, update.readThrough),
        });
      }
    }
    this.#receipts.set(key, receipt);
    this.#pushed++;
    this.#signal();
  }

  /**
   * Keeps only the newest notice per key (presence per user, typing per conversation and member):
   * ephemeral state, so a slow reader holds one frame per key, never a backlog.
   */
  pushNotice(key: string, frame: ServerFrame): void {
    if (this.#closed) return;
    this.#notices ??= new Map();
    this.#notices.delete(key);
    this.#notices.set(key, create(ConnectResponseSchema, { frame }));
    this.#pushed++;
    this.#signal();
  }

  /** Ends the stream after the frames already queued. */
  close(): void {
    this.#closed = true;
    this.#signal();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once at most `limit` frames are waiting (or the outbox closed). */
  async below(limit: number): Promise<void> {
    while (this.#frames.length > limit && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#drained ??= [];
        this.#drained.push(resolve);
      });
    }
  }

  /** Writes frames to `sink` from now on, as they come (instead of `frames()`). */
  attach(sink: FrameSink): void {
    this.#sink = sink;
    this.#flush();
  }

  /** The sink drained after it returned false: write what waits. */
  resume(): void {
    this.#sinkFull = false;
    this.#flush();
  }

  /**
   * The frames in the order they go out: queued frames first, then receipts, then notices. A plain
   * iterator rather than an async generator: every frame of every stream passes here, and a
   * generator costs extra promises and a resumption per frame.
   */
  frames(): AsyncIterableIterator<ConnectResponse> {
    const next = (): Promise<IteratorResult<ConnectResponse, undefined>> => {
      const frame = this.#take();
      if (frame) return Promise.resolve({ done: false, value: frame });
      if (this.#closed) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => {
        this.#wake = () => resolve(next());
      });
    };
    return {
      next,
      return: () => Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #take(): ConnectResponse | undefined {
    const frame = this.#frames.shift();
    if (frame) {
      this.#notifyDrained();
      return frame;
    }
    // Every write ends with a take that finds nothing: that path allocates nothing.
    if (this.#receipts !== undefined) {
      const receipt = takeOldest(this.#receipts);
      if (this.#receipts.size === 0) this.#receipts = undefined;
      if (receipt) return create(ConnectResponseSchema, { frame: { case: "receipt", value: receipt } });
    }
    if (this.#notices !== undefined) {
      const notice = takeOldest(this.#notices);
      if (this.#notices.size === 0) this.#notices = undefined;
      return notice;
    }
    return undefined;
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    if (this.#closed) this.#notifyDrained();
    if (this.#sink && !this.#flushQueued) {
      this.#flushQueued = true;
      flushSoon(this);
    }
  }

  /** The turn ended (flush-queue.ts): write what this turn queued. */
  flushQueued(): void {
    this.#flushQueued = false;
    this.#flush();
  }

  /** Hands the sink what it has room for, in `frames()` order; ends it once closed and empty. */
  #flush(): void {
    const sink = this.#sink;
    // A write can lead back here (a frame pushed from a write's side effect): the loop takes it.
    if (!sink || this.#flushing || this.#ended) return;
    this.#flushing = true;
    try {
      while (!this.#sinkFull) {
        const frame = this.#take();
        if (!frame) break;
        const next = sink.writeAll ? this.#take() : undefined;
        if (next === undefined) {
          if (!sink.write(frame)) this.#sinkFull = true;
          continue;
        }
        const frames = [frame, next];
        for (let more = this.#take(); more !== undefined; more = this.#take()) frames.push(more);
        if (!sink.writeAll?.(frames)) this.#sinkFull = true;
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#closed && !this.#sinkFull && this.#isEmpty()) {
      this.#ended = true;
      sink.end();
    }
  }

  #isEmpty(): boolean {
    return this.#frames.length === 0 && this.#receipts === undefined && this.#notices === undefined;
  }

  #notifyDrained(): void {
    const waiters = this.#drained;
    this.#drained = undefined;
    if (waiters) for (const resolve of waiters) resolve();
  }
}

/** Removes and returns the value queued first (a Map iterates in insertion order). */
function takeOldest<V>(map: Map<string, V>): V | undefined {
  const first = map.entries().next().value;
  if (first === undefined) return undefined;
  map.delete(first[0]);
  return first[1];
}
