// The provider of last resort: records the push in the local outbox instead of sending it. Used
// for every provider that has no credentials configured (the embedded default), so pushes can be
// seen (`npm run cli -- push-outbox`) without accounts at Google or Apple.
import type { Clock } from "../../shared/clock.ts";
import type { Notification, PushOutbox, PushProvider, PushTarget, SendResult } from "../ports.ts";

export class OutboxProvider implements PushProvider {
  readonly #outbox: PushOutbox;
  readonly #clock: Clock;

  constructor(outbox: PushOutbox, clock: Clock) {
    this.#outbox = outbox;
    this.#clock = clock;
  }

  async send(target: PushTarget, notification: Notification): Promise<SendResult> {
    await this.#outbox.add({
      pushId: target.pushId,
      userId: target.userId,
      deviceId: target.deviceId,
      provider: target.token.provider,
      notification,
      createdAt: this.#clock.now(),
    });
    return { kind: "sent" };
  }
}
