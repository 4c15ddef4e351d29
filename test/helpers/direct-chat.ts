// A direct chat between two new users, and a member's delivered watermark as another member sees
// it: what the tests of delivered acks build on.
import { bearer, type ParleyClients } from "../../clients/node/transport.ts";
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

/**
 * `userId`'s delivered watermark in GetConversation as `viewer` reads it (0 when absent), through
 * any server's ConversationService (the embedded one's or a cluster's).
 */
export async function deliveredOf(
  clients: Pick<ParleyClients, "conversations">,
  viewer: SignedIn,
  conversationId: string,
  userId: string,
): Promise<bigint> {
  const view = await clients.conversations.getConversation({ conversationId }, { headers: bearer(viewer.accessToken) });
  return view.conversation?.members.find((m) => m.userId === userId)?.deliveredThrough ?? 0n;
}
