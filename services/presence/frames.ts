// Presence between its internal form and the proto (parley.v1.Presence, PresenceVisibility).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type PresenceSchema, PresenceState, PresenceVisibility } from "../../gen/parley/v1/presence_pb.js";
import { invalidArgument } from "../shared/errors.ts";
import type { PresenceView, Visibility } from "./ports.ts";

const states = { online: PresenceState.ONLINE, offline: PresenceState.OFFLINE, hidden: PresenceState.UNSPECIFIED };

/** The proto form; last seen only for offline users. */
export function presenceProto(view: PresenceView): MessageInitShape<typeof PresenceSchema> {
  return {
    userId: view.userId,
    state: states[view.state],
    ...(view.state === "offline" && view.lastSeenAt !== null ? { lastSeenAt: timestampFromMs(view.lastSeenAt) } : {}),
  };
}

/** What a user who may not see `userId` is told: the same as for an unknown id. */
export const hiddenView = (userId: string, version = 0): PresenceView => ({ userId, state: "hidden", lastSeenAt: null, version });

const visibilities = new Map<PresenceVisibility, Visibility>([
  [PresenceVisibility.EVERYONE, "everyone"],
  [PresenceVisibility.CONTACTS, "contacts"],
  [PresenceVisibility.NOBODY, "nobody"],
]);

export function visibilityFromProto(value: PresenceVisibility, field: string): Visibility {
  const visibility = visibilities.get(value);
  if (!visibility) throw invalidArgument(field, "UNKNOWN_VALUE", "visibility must be EVERYONE, CONTACTS or NOBODY");
  return visibility;
}

export function visibilityProto(visibility: Visibility): PresenceVisibility {
  for (const [proto, name] of visibilities) if (name === visibility) return proto;
  return PresenceVisibility.UNSPECIFIED;
}
