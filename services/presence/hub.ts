// The device streams of this gateway as receivers of signals: each signal names its recipients,
// and the hub hands it to the streams it holds for them. Presence goes through each stream's
// coalescer; typing goes straight to the stream (the outbox keeps the newest per member).
import type { DeviceSession } from "../gateway/device-session.ts";
import type { Clock } from "../shared/clock.ts";
import { PresenceCoalescer } from "./coalescer.ts";
import { presenceProto } from "./frames.ts";
import type { PresenceMetrics } from "./metrics.ts";
import type { Signal } from "./ports.ts";

interface Receiver {
  session: DeviceSession;
  coalescer: PresenceCoalescer;
}

export class SignalHub {
  readonly #byUser = new Map<string, Set<Receiver>>();
  readonly #bySession = new Map<DeviceSession, Receiver>();
  readonly #clock: Clock;
  readonly #metrics: PresenceMetrics;
  readonly #windowMs: number;

  constructor(options: { clock: Clock; metrics: PresenceMetrics; coalesceMs: number }) {
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#windowMs = options.coalesceMs;
  }

  add(session: DeviceSession): void {
    const coalescer = new PresenceCoalescer({
      windowMs: this.#windowMs,
      clock: this.#clock,
      send: (view) => session.outbox.pushNotice(`presence/${view.userId}`, { case: "presence", value: presenceProto(view) }),
      onSent: () => this.#metrics.sent.inc(),
      onCoalesced: () => this.#metrics.coalesced.inc(),
    });
    const receiver = { session, coalescer };
    this.#bySession.set(session, receiver);
    const receivers = this.#byUser.get(session.caller.userId) ?? new Set();
    receivers.add(receiver);
    this.#byUser.set(session.caller.userId, receivers);
  }

  remove(session: DeviceSession): void {
    const receiver = this.#bySession.get(session);
    if (!receiver) return;
    receiver.coalescer.close();
    this.#bySession.delete(session);
    const receivers = this.#byUser.get(session.caller.userId);
    receivers?.delete(receiver);
    if (receivers?.size === 0) this.#byUser.delete(session.caller.userId);
  }

  coalescerOf(session: DeviceSession): PresenceCoalescer | undefined {
    return this.#bySession.get(session)?.coalescer;
  }

  /** Hands a signal to the streams of its recipients held here; never to the subject's own streams. */
  deliver(signal: Signal): void {
    for (const userId of new Set(signal.recipients)) {
      if (userId === signal.userId) continue;
      for (const { session, coalescer } of this.#byUser.get(userId) ?? []) {
        if (signal.kind === "presence") {
          coalescer.offer({ userId: signal.userId, state: signal.state, lastSeenAt: signal.lastSeenAt, version: signal.version });
        } else {
          const { conversationId, typing, expiresInMs } = signal;
          session.outbox.pushNotice(`typing/${conversationId}/${signal.userId}`, {
            case: "typing",
            value: { conversationId, userId: signal.userId, typing, expiresInMs },
          });
        }
      }
    }
  }
}
