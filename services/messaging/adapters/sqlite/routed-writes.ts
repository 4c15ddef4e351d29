// The hot writes on the serving connection or on the write thread, as the route says (see
// services/storage/write-route.ts). The two connections never write at once, and writes commit in
// the order they were made: a write goes to the serving connection only when the thread has
// nothing unanswered, and to the thread only when nothing on the serving connection is
// uncommitted. Until one side is empty, new writes follow the others to that side.
import type { WriteRoute } from "../../../storage/write-route.ts";
import type { MessagingWrites, MessagingWriteThread } from "./writes.ts";

export function routedWrites(
  inline: MessagingWrites,
  thread: MessagingWriteThread,
  route: WriteRoute,
  onWrite?: (route: "inline" | "thread") => void,
): MessagingWrites {
  /** Writes handed to the serving connection and not yet committed. */
  let uncommitted = 0;
  const viaThread = () => {
    const offload = uncommitted === 0 && (thread.pending > 0 || route.offload);
    onWrite?.(offload ? "thread" : "inline");
    return offload;
  };
  function inlined<T>(write: Promise<T>): Promise<T> {
    uncommitted++;
    return write.then(
      (value) => {
        uncommitted--;
        return value;
      },
      (error: unknown) => {
        uncommitted--;
        throw error;
      },
    );
  }
  return {
    append: (input) => (viaThread() ? thread.append(input) : inlined(inline.append(input))),
    advanceDelivered: (...args) => (viaThread() ? thread.advanceDelivered(...args) : inlined(inline.advanceDelivered(...args))),
    advanceRead: (...args) => (viaThread() ? thread.advanceRead(...args) : inlined(inline.advanceRead(...args))),
  };
}
