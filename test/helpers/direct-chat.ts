// A direct chat between two new users, and a member's delivered watermark as another member sees
// it: what the tests of delivered acks build on.
import { bearer } from "../../clients/node/transport.ts";
import { newPhone, type SignedIn, type TestParley } from "./parley.ts";

export async function directChat(t: TestParley) {
  const [alice, bob] = await Promise.all([t.signIn(newPhone()), t.signIn(newPhone())]);
  if (!alice || !bob) throw new Error("sign-in failed");
  const direct = await t.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  return { alice, bob, conversationId: direct.conversation?.conversationId ?? "" };
}

/** `userId`'s delivered watermark in GetConversation as `viewer` reads it (0 when absent). */
export async function deliveredOf(t: TestParley, viewer: SignedIn, conversationId: string, userId: string): Promise<bigint> {
  const view = await t.clients.conversations.getConversation({ conversationId }, { headers: bearer(viewer.accessToken) });
  return view.conversation?.members.find((m) => m.userId === userId)?.deliveredThrough ?? 0n;
}
