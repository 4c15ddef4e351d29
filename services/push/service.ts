// The PushService handlers: tokens and preferences of the caller's own devices, and the caller's
// settings of conversations they are a member of (anything else is NOT_FOUND, as if missing).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  type ConversationNotificationsSchema,
  NotificationLevel,
  PushProvider as ProviderProto,
  type PushService,
} from "../../gen/parley/v1/push_pb.js";
import type { DeviceStore } from "../identity/ports.ts";
import { createAccess } from "../messaging/access.ts";
import type { ConversationStore } from "../messaging/ports.ts";
import { callerOf } from "../shared/auth.ts";
import type { Clock } from "../shared/clock.ts";
import { invalidArgument, parleyError } from "../shared/errors.ts";
import { pageSize, requireId } from "../shared/validate.ts";
import {
  type ConversationSettingStore,
  defaultPreferences,
  type NotificationLevel as Level,
  type ProviderName,
  type PushDeviceStore,
  type PushOutbox,
} from "./ports.ts";
import { type EndpointPolicy, pushTokenFrom } from "./token-input.ts";

export interface PushServiceDeps {
  devices: PushDeviceStore;
  settings: ConversationSettingStore;
  outbox: PushOutbox;
  /** The identity service's devices: which devices the caller owns. */
  identityDevices: DeviceStore;
  conversations: ConversationStore;
  endpoints: EndpointPolicy;
  clock: Clock;
}

const maxConversations = 100;

export const providerProto: Record<ProviderName, ProviderProto> = {
  fcm: ProviderProto.FCM,
  apns: ProviderProto.APNS,
  webpush: ProviderProto.WEB_PUSH,
};

const levelFrom: Record<NotificationLevel, Level> = {
  [NotificationLevel.UNSPECIFIED]: "all",
  [NotificationLevel.ALL]: "all",
  [NotificationLevel.QUIET]: "quiet",
  [NotificationLevel.NONE]: "none",
};
const levelTo: Record<Level, NotificationLevel> = {
  all: NotificationLevel.ALL,
  quiet: NotificationLevel.QUIET,
  none: NotificationLevel.NONE,
};

const deviceNotFound = () =>
  parleyError(Code.NotFound, "DEVICE_NOT_FOUND", "not one of your signed-in devices", { field: "device_id" });

export function createPushService(deps: PushServiceDeps): ServiceImpl<typeof PushService> {
  const access = createAccess(deps.conversations);
  return {
    async registerPushToken(req, ctx) {
      const caller = callerOf(ctx);
      const token = pushTokenFrom(req, deps.endpoints);
      await deps.devices.register(caller.userId, caller.deviceId, token, deps.clock.now());
      return {};
    },
    async unregisterPushToken(_req, ctx) {
      const caller = callerOf(ctx);
      await deps.devices.unregister(caller.userId, caller.deviceId);
      return {};
    },
    async setDeviceNotificationPreferences(req, ctx) {
      const caller = callerOf(ctx);
      const deviceId = req.deviceId === "" ? caller.deviceId : requireId(req.deviceId, "device_id");
      if (!req.preferences) throw invalidArgument("preferences", "EMPTY", "preferences are required");
      if (deviceId !== caller.deviceId) {
        const device = await deps.identityDevices.get(deviceId);
        if (!device || device.userId !== caller.userId || device.revokedAt !== null) throw deviceNotFound();
      }
      await deps.devices.setPreferences(caller.userId, deviceId, {
        enabled: req.preferences.enabled,
        showPreviews: req.preferences.showPreviews,
      });
      return {};
    },
    async setConversationNotifications(req, ctx) {
      const caller = callerOf(ctx);
      const s = req.settings;
      if (!s) throw invalidArgument("settings", "EMPTY", "settings are required");
      const conversationId = requireId(s.conversationId, "settings.conversation_id");
      await access.writer(conversationId, caller.userId);
      const level = levelFrom[s.level];
      if (level === undefined) throw invalidArgument("settings.level", "UNKNOWN_LEVEL", "unknown notification level");
      const until = s.mutedUntil ? timestampMs(s.mutedUntil) : null;
      await deps.settings.set({
        conversationId,
        userId: caller.userId,
        level,
        // A time already past means not muted.
        mutedUntil: s.mutedForever ? Number.POSITIVE_INFINITY : until !== null && until > deps.clock.now() ? until : null,
      });
      return {};
    },
    async getNotificationSettings(req, ctx) {
      const caller = callerOf(ctx);
      if (req.conversationIds.length > maxConversations) {
        throw invalidArgument("conversation_ids", "TOO_MANY", `at most ${maxConversations} conversations per call`);
      }
      const ids = req.conversationIds.map((id, i) => requireId(id, `conversation_ids[${i}]`));
      const [active, stored] = await Promise.all([
        deps.identityDevices.listActive(caller.userId),
        deps.devices.devicesOf([caller.userId]),
      ]);
      const byDevice = new Map(stored.map((d) => [d.deviceId, d]));
      const conversations: MessageInitShape<typeof ConversationNotificationsSchema>[] = [];
      for (const conversationId of ids) {
        await access.writer(conversationId, caller.userId);
        const setting = (await deps.settings.forConversation(conversationId)).get(caller.userId);
        const until = setting?.mutedUntil ?? null;
        const forever = until === Number.POSITIVE_INFINITY;
        conversations.push({
          conversationId,
          level: levelTo[setting?.level ?? "all"],
          mutedUntil: !forever && until !== null && until > deps.clock.now() ? timestampFromMs(until) : undefined,
          mutedForever: forever,
        });
      }
      return {
        devices: active.map((d) => {
          const push = byDevice.get(d.deviceId);
          return {
            deviceId: d.deviceId,
            provider: push?.token ? providerProto[push.token.provider] : ProviderProto.UNSPECIFIED,
            registeredAt: push?.registeredAt ? timestampFromMs(push.registeredAt) : undefined,
            preferences: push?.preferences ?? defaultPreferences,
            current: d.deviceId === caller.deviceId,
          };
        }),
        conversations,
      };
    },
    async listPushOutbox(req, ctx) {
      const caller = callerOf(ctx);
      const entries = await deps.outbox.listForUser(caller.userId, pageSize(req.limit, 50, 500));
      return {
        entries: entries.map((e) => ({
          pushId: e.pushId,
          deviceId: e.deviceId,
          provider: providerProto[e.provider],
          conversationId: e.notification.conversationId,
          sequence: e.notification.sequence,
          messageCount: e.notification.count,
          title: e.notification.title,
          body: e.notification.body,
          quiet: e.notification.quiet,
          createdAt: timestampFromMs(e.createdAt),
        })),
      };
    },
  };
}
