// The hot writes on the serving connection or on the write thread, as the route says (see
// services/storage/write-route.ts). The two connections never have writes in flight at once, and
// writes commit in the order they were made: when the route changes side, the writes made from
// then on wait until the side they leave has committed everything it was handed, then go, in
// order, to the new side. A busy side is never empty when a write arrives, so without the wait a
// switch could never happen under load.
import type { WriteRoute } from "../../../storage/write-route.ts";
import type { MessagingWrites, MessagingWriteThread } from "./writes.ts";

type Side = "inline" | "thread";

export function routedWrites(
  inline: MessagingWrites,
  thread: MessagingWriteThread,
  route: WriteRoute,
  onWrite?: (side: Side) => void,
): MessagingWrites {
  let side: Side = "inline";
  /** Writes handed to each side and not yet settled. */
  const inFlight = { inline: 0, thread: 0 };
  /** Writes made since the last switch, waiting for the side left behind to empty. */
  let waiting: (() => void)[] = [];
  const other = (s: Side): Side => (s === "inline" ? "thread" : "inline");

  function send<T>(to: Side, operation: (writes: MessagingWrites) => Promise<T>): Promise<T> {
    inFlight[to]++;
    onWrite?.(to);
    const settled = () => {
      inFlight[to]--;
      if (waiting.length > 0 && to !== side && inFlight[to] === 0) {
        const ready = waiting;
        waiting = [];
        for (const go of ready) go();
      }
    };
    return operation(to === "inline" ? inline : thread).then(
      (value) => {
        settled();
        return value;
      },
      (error: unknown) => {
        settled();
        throw error;
      },
    );
  }

  function write<T>(operation: (writes: MessagingWrites) => Promise<T>): Promise<T> {
    // A switch starts only when none is under way; until it completes the side stays put.
    if (waiting.length === 0) side = route.offload ? "thread" : "inline";
    const to = side;
    if (waiting.length === 0 && inFlight[other(to)] === 0) return send(to, operation);
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => send(to, operation).then(resolve, reject));
    });
  }

  return {
    append: (input) => write((w) => w.append(input)),
    advanceDelivered: (...args) => write((w) => w.advanceDelivered(...args)),
    advanceRead: (...args) => write((w) => w.advanceRead(...args)),
  };
}
