// The request side of a long-lived client stream: items pushed now are sent when the transport
// pulls them; close() ends the stream once what was pushed has been taken.
export class RequestQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #closed = false;

  push(item: T): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ done: false, value: item });
    } else {
      this.#items.push(item);
    }
  }

  close(): void {
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ done: false, value: item });
        if (this.#closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => {
          this.#waiting = resolve;
        });
      },
      // The transport ends the request side with return() or, on abort, throw(): either closes.
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
      throw: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
