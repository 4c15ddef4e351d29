// Turns presence changes into signals for the people allowed to receive them: the user's current
// contacts (people sharing a conversation), unless the user hides their presence from everyone.
import type { Logger } from "../shared/logger.ts";
import { hiddenView } from "./frames.ts";
import type { PresenceMetrics } from "./metrics.ts";
import type { MembershipDirectory, PresenceSettingsStore, PresenceView, SignalBus, Transition, Visibility } from "./ports.ts";

export interface AnnouncerDeps {
  settings: PresenceSettingsStore;
  directory: MembershipDirectory;
  signals: SignalBus;
  metrics: PresenceMetrics;
  logger: Logger;
  /** Live presence goes only through conversations of at most this many members (PresenceConfig). */
  liveMaxMembers: number;
}

export const viewOf = (userId: string, p: { online: boolean; lastSeenAt: number | null; version: number }): PresenceView => ({
  userId,
  state: p.online ? "online" : "offline",
  lastSeenAt: p.lastSeenAt,
  version: p.version,
});

export function createAnnouncer(deps: AnnouncerDeps) {
  /** Sends the view to the user's contacts; contacts are read now, so a removed one is left out. */
  async function publish(view: PresenceView): Promise<void> {
    const recipients = [...(await deps.directory.contactsOf(view.userId, deps.liveMaxMembers))];
    if (recipients.length === 0) return;
    await deps.signals.publish({ kind: "presence", recipients, ...view });
  }

  return {
    /** A user came online or went offline. */
    async transition(t: Transition): Promise<void> {
      deps.metrics.transitions.inc({ state: t.online ? "online" : "offline" });
      const visibility = (await deps.settings.visibility([t.userId])).get(t.userId);
      if (visibility === "nobody") return;
      await publish(viewOf(t.userId, t));
    },

    /** The user changed their setting: hiding or showing again is news for their contacts. */
    async visibilityChanged(
      userId: string,
      before: Visibility,
      after: Visibility,
      current: { online: boolean; lastSeenAt: number | null; version: number },
    ): Promise<void> {
      if ((before === "nobody") === (after === "nobody")) return;
      const view = after === "nobody" ? hiddenView(userId, current.version) : viewOf(userId, current);
      deps.logger.debug("presence visibility changed", { userId, before, after });
      await publish(view);
    },
  };
}

export type Announcer = ReturnType<typeof createAnnouncer>;
