// A stream's requests, ended early when `signal` aborts (a server that drains stops taking new
// requests on its long-lived streams). One fresh promise per request rather than a race against
// one long-lived promise, which would keep a reaction per request until the stream ends.
export function untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      let wake: ((end: IteratorResult<T>) => void) | undefined;
      const end = () => wake?.({ done: true, value: undefined });
      signal.addEventListener("abort", end, { once: true });
      const finish = () => signal.removeEventListener("abort", end);
      return {
        next() {
          if (signal.aborted) {
            finish();
            return Promise.resolve({ done: true, value: undefined });
          }
          return new Promise<IteratorResult<T>>((resolve, reject) => {
            wake = resolve;
            iterator.next().then(resolve, reject);
          }).then((result) => {
            if (result.done || signal.aborted) {
              finish();
              return { done: true, value: undefined };
            }
            return result;
          });
        },
        return() {
          finish();
          return iterator.return ? iterator.return() : Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}
