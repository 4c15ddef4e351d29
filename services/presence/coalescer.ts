// Per receiving device: at most one presence update per user per window, the last state winning,
// so a contact whose connection flaps costs each watcher about one frame a second. Updates wait
// until the stream's snapshot has been sent, and late signals (an older version) are dropped.
import type { Clock } from "../shared/clock.ts";
import type { PresenceView } from "./ports.ts";

interface Told {
  view: PresenceView;
  at: number;
}

/** What every coalescer of a hub shares: one object, not closures per stream. */
export interface CoalescerOptions<Target> {
  windowMs: number;
  clock: Clock;
  send(to: Target, view: PresenceView): void;
  onSent(): void;
  onCoalesced(): void;
}

const same = (a: PresenceView, b: PresenceView) => a.state === b.state && a.lastSeenAt === b.lastSeenAt;

export class PresenceCoalescer<Target> {
  /** The device stream this coalescer writes to. */
  readonly target: Target;
  readonly #options: CoalescerOptions<Target>;
  /**
   * What the device was last told per user, and when; and the updates waiting for their user's
   * window to end (or for the snapshot). Made on first use: most streams never hear presence.
   */
  #told: Map<string, Told> | undefined;
  #held: Map<string, PresenceView> | undefined;
  #paused = true;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Number.POSITIVE_INFINITY;

  constructor(options: CoalescerOptions<Target>, target: Target) {
    this.#options = options;
    this.target = target;
  }

  offer(view: PresenceView): void {
    if (this.#closed) return;
    const told = this.#told?.get(view.userId);
    const held = this.#held?.get(view.userId);
    if ((told && view.version < told.view.version) || (held && view.version < held.version)) return;
    const now = this.#options.clock.now();
    if (!this.#paused && !held && (!told || now - told.at >= this.#options.windowMs)) {
      this.#emit(view, now);
      return;
    }
    if (held) this.#options.onCoalesced();
    this.#held ??= new Map();
    this.#held.set(view.userId, view);
    this.#schedule();
  }

  /** The snapshot went out: it counts as told (without opening a window); held updates follow. */
  resume(snapshot: PresenceView[]): void {
    if (snapshot.length > 0) this.#told ??= new Map();
    for (const view of snapshot) this.#told?.set(view.userId, { view, at: Number.NEGATIVE_INFINITY });
    this.#paused = false;
    const held = [...(this.#held?.values() ?? [])];
    this.#held = undefined;
    for (const view of held) this.offer(view);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#held = undefined;
  }

  #emit(view: PresenceView, now: number): void {
    const told = this.#told?.get(view.userId);
    if (told && same(told.view, view)) {
      // Nothing new to say (a duplicate signal, or a flap that ended where it started).
      told.view = view;
      return;
    }
    this.#told ??= new Map();
    this.#told.set(view.userId, { view, at: now });
    this.#options.send(this.target, view);
    this.#options.onSent();
  }

  #flush(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    if (this.#closed || this.#paused || this.#held === undefined) return;
    const now = this.#options.clock.now();
    for (const [userId, view] of this.#held) {
      const told = this.#told?.get(userId);
      if (told && now - told.at < this.#options.windowMs) continue;
      this.#held.delete(userId);
      if (told && same(told.view, view)) this.#options.onCoalesced();
      this.#emit(view, now);
    }
    this.#schedule();
  }

  /** One timer per device, set for the earliest end of a window with an update held. */
  #schedule(): void {
    if (this.#paused || this.#held === undefined) return;
    if (this.#held.size === 0) {
      this.#held = undefined;
      return;
    }
    const now = this.#options.clock.now();
    let due = Number.POSITIVE_INFINITY;
    for (const userId of this.#held.keys()) {
      const told = this.#told?.get(userId);
      due = Math.min(due, told ? told.at + this.#options.windowMs : now);
    }
    if (this.#timer && this.#timerDue <= due) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, due - now));
    this.#timer.unref();
  }
}
