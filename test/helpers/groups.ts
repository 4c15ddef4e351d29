// Small helpers of the group-administration tests: auth headers, refusals as [code, reason, field],
// users and groups made through the real RPCs.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ParleyClients } from "../../clients/node/transport.ts";
import { bearer } from "../../clients/node/transport.ts";
import { ErrorDetailSchema } from "../../gen/parley/v1/errors_pb.js";
import { MemberRole } from "../../gen/parley/v1/events_pb.js";
import { newPhone, type SignedIn } from "./parley.ts";

export const as = (user: SignedIn) => ({ headers: bearer(user.accessToken) });

/** The refusal of a call that must fail: [code name, reason, field]. */
export async function refusal(call: Promise<unknown>): Promise<[string, string, string]> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${error}`);
    const detail = error.findDetails(ErrorDetailSchema)[0];
    return [Code[error.code], detail?.reason ?? "", detail?.field ?? ""];
  }
  assert.fail("the call succeeded");
}

export async function signInMany(t: { signIn(phone: string): Promise<SignedIn> }, n: number): Promise<SignedIn[]> {
  return Promise.all(Array.from({ length: n }, () => t.signIn(newPhone())));
}

/** Creates a group owned by `owner` with `members`; returns its id. */
export async function newGroup(clients: ParleyClients, owner: SignedIn, members: SignedIn[], name = "group") {
  const { conversation } = await clients.conversations.createGroup(
    { name, memberUserIds: members.map((m) => m.userId), clientRequestId: randomUUID() },
    as(owner),
  );
  return conversation?.conversationId ?? "";
}

/** The group as `who` sees it now. */
export async function groupAs(clients: ParleyClients, who: SignedIn, conversationId: string) {
  const { conversation } = await clients.conversations.getConversation({ conversationId }, as(who));
  assert.ok(conversation);
  return conversation;
}

export async function membershipVersion(clients: ParleyClients, who: SignedIn, conversationId: string) {
  return (await groupAs(clients, who, conversationId)).membershipVersion;
}

export async function promote(clients: ParleyClients, owner: SignedIn, conversationId: string, users: SignedIn[]) {
  for (const u of users) {
    await clients.conversations.changeMemberRole({ conversationId, userId: u.userId, role: MemberRole.ADMIN }, as(owner));
  }
}

export const roleOf = (conversation: { members: { userId: string; role: MemberRole }[] }, user: SignedIn) =>
  MemberRole[conversation.members.find((m) => m.userId === user.userId)?.role ?? MemberRole.UNSPECIFIED];
