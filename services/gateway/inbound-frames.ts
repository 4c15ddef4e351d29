// Client frames waiting for the session (from a WebSocket or a gRPC stream), read one at a time as
// the session reads them. Past a few queued frames the transport is paused, so a client sending
// faster than it is served is slowed by TCP or HTTP/2 flow control instead of growing this queue.
import type { ConnectRequest } from "../../gen/parley/v1/session_pb.js";

/** The largest client frame either transport reads (a Hello with many cursors fits easily). */
export const maxClientFrameBytes = 64 * 1024;

/** The transport a stream's frames come from: a WebSocket or an HTTP/2 stream, both of which pause. */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

/** Takes a frame; a promise holds the next frames back until it settles. */
export type FrameHandler = (frame: ConnectRequest) => Promise<void> | undefined;

// Every idle device stream holds one of these, so the waiting state is fields, not closures or a
// pending promise: consume() keeps its handler and callback here and the transport's own object
// is paused, rather than a closure over it.
export class InboundFrames implements AsyncIterable<ConnectRequest> {
  readonly #items: ConnectRequest[] = [];
  readonly #highWater: number;
  readonly #source: PausableSource;
  /** An iterator's next() waiting for a frame. */
  #wake: (() => void) | undefined;
  #handle: FrameHandler | undefined;
  #onEnd: (() => void) | undefined;
  #onError: ((error: unknown) => void) | undefined;
  /** consume() is in its loop, or waiting for a handler's promise: a new frame waits its turn. */
  #busy = false;
  #ended = false;
  #paused = false;

  constructor(options: { highWater: number; source: PausableSource }) {
    this.#highWater = options.highWater;
    this.#source = options.source;
  }

  push(frame: ConnectRequest): void {
    if (this.#ended) return;
    this.#items.push(frame);
    if (this.#items.length >= this.#highWater && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    }
    this.#wakeUp();
  }

  /** No more frames: the session sees the end of its request stream. */
  end(): void {
    this.#ended = true;
    this.#wakeUp();
  }

  /** A plain iterator, not an async generator: one promise per frame, no generator resumption. */
  [Symbol.asyncIterator](): AsyncIterator<ConnectRequest, undefined> {
    const next = (): Promise<IteratorResult<ConnectRequest, undefined>> => {
      const item = this.#take();
      if (item) return Promise.resolve({ done: false, value: item });
      if (this.#ended) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => {
        this.#wake = () => resolve(next());
      });
    };
    return { next };
  }

  /**
   * Hands every frame to `handle` as it comes, one at a time: the next frame waits while `handle`'s
   * promise is pending, and goes at once after a frame it handled synchronously (undefined), so
   * acks and heartbeats cost no promise. Calls `ended` after the last frame once the stream
   * ended, or `failed` with what `handle` threw or rejected with; then nothing more.
   * Not to be mixed with an iterator in flight.
   */
  consume(handle: FrameHandler, ended: () => void, failed: (error: unknown) => void): void {
    this.#handle = handle;
    this.#onEnd = ended;
    this.#onError = failed;
    this.#drain();
  }

  #drain(): void {
    const handle = this.#handle;
    if (!handle) return;
    this.#busy = true;
    try {
      for (let item = this.#take(); item; item = this.#take()) {
        const pending = handle(item);
        if (pending) {
          pending.then(
            () => {
              this.#busy = false;
              this.#drain();
            },
            (error) => this.#stopConsuming(true, error),
          );
          return;
        }
      }
    } catch (error) {
      this.#stopConsuming(true, error);
      return;
    }
    this.#busy = false;
    if (this.#ended) this.#stopConsuming(false);
  }

  /** Ends consume() with its one callback. */
  #stopConsuming(failed: boolean, error?: unknown): void {
    const onEnd = this.#onEnd;
    const onError = this.#onError;
    this.#handle = undefined;
    this.#onEnd = undefined;
    this.#onError = undefined;
    if (failed) onError?.(error);
    else onEnd?.();
  }

  #take(): ConnectRequest | undefined {
    const item = this.#items.shift();
    if (item && this.#paused && this.#items.length < this.#highWater / 2) {
      this.#paused = false;
      this.#source.resume();
    }
    return item;
  }

  #wakeUp(): void {
    if (this.#handle) {
      if (!this.#busy) this.#drain();
      return;
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
