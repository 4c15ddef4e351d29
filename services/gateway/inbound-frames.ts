// Client frames waiting for the session (from a WebSocket or a gRPC stream), read one at a time as
// the session reads them. Past a few queued frames the transport is paused, so a client sending
// faster than it is served is slowed by TCP or HTTP/2 flow control instead of growing this queue.
import type { ConnectRequest } from "../../gen/parley/v1/session_pb.js";

/** The largest client frame either transport reads (a Hello with many cursors fits easily). */
export const maxClientFrameBytes = 64 * 1024;

export class InboundFrames implements AsyncIterable<ConnectRequest> {
  readonly #items: ConnectRequest[] = [];
  readonly #highWater: number;
  readonly #pause: () => void;
  readonly #resume: () => void;
  #wake: (() => void) | undefined;
  #ended = false;
  #paused = false;

  constructor(options: { highWater: number; pause: () => void; resume: () => void }) {
    this.#highWater = options.highWater;
    this.#pause = options.pause;
    this.#resume = options.resume;
  }

  push(frame: ConnectRequest): void {
    if (this.#ended) return;
    this.#items.push(frame);
    if (this.#items.length >= this.#highWater && !this.#paused) {
      this.#paused = true;
      this.#pause();
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
   * acks and heartbeats cost no promise. Resolves after the last frame once the stream ended;
   * rejects with what `handle` threw or rejected with. Not to be mixed with an iterator in flight.
   */
  consume(handle: (frame: ConnectRequest) => Promise<void> | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const drain = (): void => {
        try {
          for (let item = this.#take(); item; item = this.#take()) {
            const pending = handle(item);
            if (pending) {
              pending.then(drain, reject);
              return;
            }
          }
        } catch (error) {
          reject(error);
          return;
        }
        if (this.#ended) resolve();
        else this.#wake = drain;
      };
      drain();
    });
  }

  #take(): ConnectRequest | undefined {
    const item = this.#items.shift();
    if (item && this.#paused && this.#items.length < this.#highWater / 2) {
      this.#paused = false;
      this.#resume();
    }
    return item;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
