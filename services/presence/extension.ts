// Presence and typing on the device stream (the gateway's SessionExtension): a stream's open and
// close drive the user's presence, its caught-up moment sends the contacts' snapshot, and its
// typing frames become notices for the other members.
import type { DeviceSession } from "../gateway/device-session.ts";
import type { SessionExtension } from "../gateway/extension.ts";
import type { Logger } from "../shared/logger.ts";
import { presenceProto } from "./frames.ts";
import type { SignalHub } from "./hub.ts";
import type { PresenceTracker } from "./tracker.ts";
import type { Typing } from "./typing.ts";
import { contactsPresence, type ViewDeps } from "./visibility.ts";

const streamOf = (session: DeviceSession) => ({
  userId: session.caller.userId,
  deviceId: session.deviceId,
  sessionId: session.sessionId,
});

export function createPresenceExtension(deps: {
  hub: SignalHub;
  tracker: PresenceTracker;
  typing: Typing;
  views: ViewDeps;
  logger: Logger;
}): SessionExtension {
  return {
    opened(session) {
      deps.hub.add(session);
      deps.tracker.opened(streamOf(session));
    },
    caughtUp(session) {
      contactsPresence(deps.views, session.caller.userId)
        .catch((error) => {
          deps.logger.warn("presence snapshot failed", { error: String(error) });
          return [];
        })
        .then((views) => {
          if (session.closed) return;
          session.outbox.push({ case: "presenceSnapshot", value: { presences: views.map(presenceProto) } });
          deps.hub.coalescerOf(session)?.resume(views);
        });
    },
    typing: (session, request) => deps.typing.handle(session, request),
    closed(session) {
      deps.hub.remove(session);
      deps.tracker.closed(streamOf(session));
      deps.typing.closed(session);
    },
  };
}
