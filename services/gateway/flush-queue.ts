// Outboxes with frames waiting, written once per turn of the event loop. A group message's
// fanout, and every other event the same turn produced, queue their frames first; each stream
// then writes all of its frames at once. Under light load a turn holds one frame per stream and
// nothing changes; near saturation turns grow and a stream writes several frames with one
// transport write, so the cost per copy falls as the load rises (the same idea as group commit).

interface Flushable {
  flushQueued(): void;
}

let queued: Flushable[] = [];
let scheduled = false;

/** Flushes `outbox` once, after this turn's I/O callbacks and microtasks. */
export function flushSoon(outbox: Flushable): void {
  queued.push(outbox);
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushAll);
}

function flushAll(): void {
  scheduled = false;
  const batch = queued;
  queued = [];
  for (const outbox of batch) outbox.flushQueued();
}
