// The PresenceService handlers: presence of named users as the caller may see it, and the
// caller's privacy setting (whose changes are announced to their contacts at once).
import type { ServiceImpl } from "@connectrpc/connect";
import type { PresenceService } from "../../gen/parley/v1/presence_pb.js";
import { callerOf } from "../shared/auth.ts";
import { invalidArgument } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { requireId } from "../shared/validate.ts";
import type { Announcer } from "./announcer.ts";
import { presenceProto, visibilityFromProto, visibilityProto } from "./frames.ts";
import { defaultVisibility } from "./ports.ts";
import { presenceOf, type ViewDeps } from "./visibility.ts";

const maxUsers = 100;

export function createPresenceService(
  deps: ViewDeps & { announcer: Announcer; logger: Logger },
): ServiceImpl<typeof PresenceService> {
  async function visibilityOf(userId: string) {
    return (await deps.settings.visibility([userId])).get(userId) ?? defaultVisibility;
  }
  return {
    async getPresence(req, ctx) {
      const caller = callerOf(ctx);
      if (req.userIds.length > maxUsers) throw invalidArgument("user_ids", "TOO_MANY", `at most ${maxUsers} user ids per call`);
      const ids = [...new Set(req.userIds.map((id, i) => requireId(id, `user_ids[${i}]`)))];
      return { presences: (await presenceOf(deps, caller.userId, ids)).map(presenceProto) };
    },
    async getPresenceSettings(_req, ctx) {
      return { visibility: visibilityProto(await visibilityOf(callerOf(ctx).userId)) };
    },
    async updatePresenceSettings(req, ctx) {
      const { userId } = callerOf(ctx);
      const after = visibilityFromProto(req.visibility, "visibility");
      const before = await visibilityOf(userId);
      await deps.settings.setVisibility(userId, after, deps.now());
      const current = (await deps.store.get([userId], deps.now())).get(userId);
      // The setting is stored; telling contacts is best effort (the next change or stream heals it).
      if (current) {
        await deps.announcer
          .visibilityChanged(userId, before, after, current)
          .catch((error) => deps.logger.warn("presence visibility announcement failed", { error: String(error) }));
      }
      return { visibility: visibilityProto(after) };
    },
  };
}
