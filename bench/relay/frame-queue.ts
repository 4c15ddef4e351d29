// An unbounded queue of response frames read by the Connect handler as its output stream. The
// relay has no flow control on purpose: it measures the transport, not a server's policies.
import type { ConnectResponse } from "../../gen/parley/v1/session_pb.js";

export class FrameQueue implements AsyncIterable<ConnectResponse> {
  #items: ConnectResponse[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #ended = false;

  push(frame: ConnectResponse): void {
    if (this.#ended) return;
    this.#items.push(frame);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ConnectResponse> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const item = this.#items[this.#head++] as ConnectResponse;
        if (this.#head > 1024) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        yield item;
      } else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
