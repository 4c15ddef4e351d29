// Typing notices: a member says they are typing in a conversation and the other members'
// connected devices hear it. Nothing is stored. Starts are rate-limited per device (over the limit
// they are dropped: typing is a hint, not a message); a start holds for the typing lifetime, and
// when it runs out, is stopped, or its stream ends, the members get a stop.
import type { TypingRequest } from "../../gen/parley/v1/session_pb.js";
import type { DeviceSession } from "../gateway/device-session.ts";
import { conversationNotFound } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { RateLimiter } from "../shared/rate-limit.ts";
import { requireId } from "../shared/validate.ts";
import type { PresenceConfig } from "./config.ts";
import type { PresenceMetrics } from "./metrics.ts";
import type { MembershipDirectory, SignalBus } from "./ports.ts";

export interface TypingDeps {
  directory: MembershipDirectory;
  limiter: RateLimiter;
  signals: SignalBus;
  config: PresenceConfig;
  metrics: PresenceMetrics;
  logger: Logger;
}

interface Active {
  userId: string;
  timer: NodeJS.Timeout;
}

export function createTyping(deps: TypingDeps) {
  const { config } = deps;
  const rule = { capacity: config.typingBurst, refillPerSecond: config.typingPerSecond };
  /** Starts that have not ended yet, per stream and conversation. */
  const active = new Map<string, Map<string, Active>>();

  async function publish(userId: string, conversationId: string, typing: boolean, members: string[]): Promise<void> {
    const recipients = members.filter((m) => m !== userId);
    deps.metrics.typingNotices.inc({ typing: String(typing) });
    if (recipients.length === 0) return;
    await deps.signals.publish({
      kind: "typing",
      recipients,
      conversationId,
      userId,
      typing,
      expiresInMs: typing ? config.typingTtlMs : 0,
    });
  }

  /** Ends a start: the members read now get the stop (a member removed meanwhile does not). */
  async function stop(sessionId: string, conversationId: string): Promise<void> {
    const mine = active.get(sessionId);
    const entry = mine?.get(conversationId);
    if (!mine || !entry) return;
    clearTimeout(entry.timer);
    mine.delete(conversationId);
    if (mine.size === 0) active.delete(sessionId);
    await publish(entry.userId, conversationId, false, await deps.directory.currentMembers(conversationId));
  }

  const stopLogged = (sessionId: string, conversationId: string) =>
    stop(sessionId, conversationId).catch((error) => deps.logger.warn("typing stop failed", { error: String(error) }));

  function arm(session: DeviceSession, conversationId: string): void {
    const mine = active.get(session.sessionId) ?? new Map<string, Active>();
    clearTimeout(mine.get(conversationId)?.timer);
    const timer = setTimeout(() => void stopLogged(session.sessionId, conversationId), config.typingTtlMs);
    timer.unref();
    mine.set(conversationId, { userId: session.caller.userId, timer });
    active.set(session.sessionId, mine);
  }

  return {
    async handle(session: DeviceSession, request: TypingRequest): Promise<void> {
      const conversationId = requireId(request.conversationId, "typing.conversation_id");
      if (!request.typing) {
        // A stop costs nothing from the budget but is only sent to end a start that was sent.
        await stop(session.sessionId, conversationId);
        return;
      }
      const decision = await deps.limiter.take(`typing:${session.deviceId}`, 1, rule);
      if (!decision.allowed) {
        deps.metrics.typingDropped.inc({ reason: "rate_limit" });
        return;
      }
      const members = await deps.directory.currentMembers(conversationId);
      if (!members.includes(session.caller.userId)) throw conversationNotFound();
      await publish(session.caller.userId, conversationId, true, members);
      arm(session, conversationId);
      // The stream may have ended while this start was on its way: end it too.
      if (session.closed) void stopLogged(session.sessionId, conversationId);
    },

    /** The stream ended: its starts end now rather than when they run out. */
    closed(session: DeviceSession): void {
      for (const conversationId of [...(active.get(session.sessionId)?.keys() ?? [])])
        void stopLogged(session.sessionId, conversationId);
    },
  };
}

export type Typing = ReturnType<typeof createTyping>;
