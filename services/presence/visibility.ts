// Who may see whose presence: the one rule behind the snapshot, GetPresence and the signals.
import { viewOf } from "./announcer.ts";
import { hiddenView } from "./frames.ts";
import type { MembershipDirectory, PresenceSettingsStore, PresenceStore, PresenceView, Visibility } from "./ports.ts";

/** A viewer sees a subject: themselves always; others per the subject's visibility. */
export function maySee(visibility: Visibility, sharesConversation: boolean): boolean {
  return visibility === "everyone" || (visibility === "contacts" && sharesConversation);
}

export interface ViewDeps {
  store: PresenceStore;
  settings: PresenceSettingsStore;
  directory: MembershipDirectory;
  now(): number;
  /** The snapshot lists contacts through conversations of at most this many members, as pushes go. */
  liveMaxMembers: number;
}

/** The presence of every contact of the viewer who lets them see it (the stream's snapshot). */
export async function contactsPresence(deps: ViewDeps, viewerId: string): Promise<PresenceView[]> {
  const contacts = [...(await deps.directory.contactsOf(viewerId, deps.liveMaxMembers))];
  if (contacts.length === 0) return [];
  const visibility = await deps.settings.visibility(contacts);
  const visible = contacts.filter((id) => maySee(visibility.get(id) ?? "contacts", true));
  const states = await deps.store.get(visible, deps.now());
  return visible.flatMap((id) => {
    const state = states.get(id);
    return state ? [viewOf(id, state)] : [];
  });
}

/** The presence of the users asked, in order; ones the viewer may not see are hidden. */
export async function presenceOf(deps: ViewDeps, viewerId: string, userIds: string[]): Promise<PresenceView[]> {
  const visibility = await deps.settings.visibility(userIds.filter((id) => id !== viewerId));
  const needsContacts = [...visibility.values()].some((v) => v === "contacts");
  const contacts = needsContacts ? await deps.directory.contactsOf(viewerId) : new Set<string>();
  const visible = userIds.filter((id) => id === viewerId || maySee(visibility.get(id) ?? "contacts", contacts.has(id)));
  const states = await deps.store.get(visible, deps.now());
  return userIds.map((id) => {
    const state = states.get(id);
    return state ? viewOf(id, state) : hiddenView(id);
  });
}
