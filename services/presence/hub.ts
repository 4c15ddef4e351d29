// The device streams of this gateway as receivers of signals: each signal names its recipients,
// and the hub hands it to the streams it holds for them. Presence goes through each stream's
// coalescer; typing goes straight to the stream (the outbox keeps the newest per member).
import type { DeviceSession } from "../gateway/device-session.ts";
import type { Clock } from "../shared/clock.ts";
import { GroupedValues } from "../shared/grouped-values.ts";
import { type CoalescerOptions, PresenceCoalescer } from "./coalescer.ts";
import { presenceProto } from "./frames.ts";
import type { PresenceMetrics } from "./metrics.ts";
import type { Signal } from "./ports.ts";

/** Each stream's coalescer is its receiver here: it knows its session (`target`). */
type Receiver = PresenceCoalescer<DeviceSession>;

export class SignalHub {
  readonly #byUser = new GroupedValues<string, Receiver>();
  readonly #bySession = new Map<DeviceSession, Receiver>();
  /** One options object for every stream's coalescer (an idle stream holds no closures of its own). */
  readonly #coalescing: CoalescerOptions<DeviceSession>;

  constructor(options: { clock: Clock; metrics: PresenceMetrics; coalesceMs: number }) {
    const { metrics } = options;
    this.#coalescing = {
      windowMs: options.coalesceMs,
      clock: options.clock,
      send: (session, view) =>
        session.outbox.pushNotice(`presence/${view.userId}`, { case: "presence", value: presenceProto(view) }),
      onSent: () => metrics.sent.inc(),
      onCoalesced: () => metrics.coalesced.inc(),
    };
  }

  add(session: DeviceSession): void {
    const receiver = new PresenceCoalescer(this.#coalescing, session);
    this.#bySession.set(session, receiver);
    this.#byUser.add(session.caller.userId, receiver);
  }

  remove(session: DeviceSession): void {
    const receiver = this.#bySession.get(session);
    if (!receiver) return;
    receiver.close();
    this.#bySession.delete(session);
    this.#byUser.delete(session.caller.userId, receiver);
  }

  coalescerOf(session: DeviceSession): Receiver | undefined {
    return this.#bySession.get(session);
  }

  /** Hands a signal to the streams of its recipients held here; never to the subject's own streams. */
  deliver(signal: Signal): void {
    const hand = (coalescer: Receiver) => {
      if (signal.kind === "presence") {
        coalescer.offer({ userId: signal.userId, state: signal.state, lastSeenAt: signal.lastSeenAt, version: signal.version });
      } else {
        const { conversationId, typing, expiresInMs } = signal;
        coalescer.target.outbox.pushNotice(`typing/${conversationId}/${signal.userId}`, {
          case: "typing",
          value: { conversationId, userId: signal.userId, typing, expiresInMs },
        });
      }
    };
    for (const userId of new Set(signal.recipients)) if (userId !== signal.userId) this.#byUser.forEach(userId, hand);
  }
}
