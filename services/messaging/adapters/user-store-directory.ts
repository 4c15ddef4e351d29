// Messaging's view of users, read from the identity service's user store (same database).
import type { UserStore } from "../../identity/ports.ts";
import type { UserDirectory } from "../ports.ts";

export function userDirectory(users: UserStore): UserDirectory {
  return {
    find: async (userIds) => (await users.findByIds(userIds)).map((u) => ({ userId: u.userId, displayName: u.displayName })),
  };
}
