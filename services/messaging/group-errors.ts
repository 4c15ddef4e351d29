// The errors of group administration, built in one place so each code and reason matches
// proto/ERRORS.md.
import { Code, ConnectError } from "@connectrpc/connect";
import { parleyError, reasonOf } from "../shared/errors.ts";

/** The compare-and-set lost: the membership version moved since the caller read it. Retriable. */
export const membershipVersionConflict = () =>
  parleyError(
    Code.Aborted,
    "MEMBERSHIP_VERSION_CONFLICT",
    "the group's membership changed since this version; re-read it and retry",
    { field: "expected_membership_version" },
  );

export const isMembershipVersionConflict = (error: unknown) =>
  error instanceof ConnectError && error.code === Code.Aborted && reasonOf(error) === "MEMBERSHIP_VERSION_CONFLICT";

export const notGroupAdmin = (what: string) =>
  parleyError(Code.PermissionDenied, "NOT_GROUP_ADMIN", `only admins and the owner may ${what}`);

export const notGroupOwner = (what: string) =>
  parleyError(Code.PermissionDenied, "NOT_GROUP_OWNER", `only the owner may ${what}`);

export const announcementOnly = () =>
  parleyError(Code.PermissionDenied, "ANNOUNCEMENT_ONLY", "only admins may send in this group", { field: "conversation_id" });

export const targetIsOwner = () =>
  parleyError(Code.PermissionDenied, "TARGET_IS_OWNER", "the owner cannot be removed, banned or demoted; they may leave", {
    field: "user_id",
  });

export const notAGroup = () =>
  parleyError(Code.FailedPrecondition, "NOT_A_GROUP", "only groups have members to change, settings and links", {
    field: "conversation_id",
  });

export const userBanned = (field: string) =>
  parleyError(Code.FailedPrecondition, "USER_BANNED", "the user is banned from this group; unban them first", { field });

export const groupFull = (max: number) =>
  parleyError(Code.FailedPrecondition, "GROUP_FULL", `the group already has its maximum of ${max} members`);

export const userNotFound = (field: string) => parleyError(Code.NotFound, "USER_NOT_FOUND", "user not found", { field });

export const inviteLinkNotFound = () =>
  parleyError(Code.NotFound, "INVITE_LINK_NOT_FOUND", "no such invite link", { field: "code" });

export const inviteLinkUnusable = (reason: "revoked" | "expired" | "exhausted") =>
  parleyError(Code.FailedPrecondition, `INVITE_LINK_${reason.toUpperCase()}`, `the invite link is ${reason}`, {
    field: "code",
  });

export const joinRequestNotFound = () =>
  parleyError(Code.NotFound, "JOIN_REQUEST_NOT_FOUND", "no pending join request from this user", { field: "user_id" });
