// `list`: your conversations, most recently active first.
import { type Conversation, ConversationKind } from "../../../gen/parley/v1/conversations_pb.js";
import { MemberRole } from "../../../gen/parley/v1/events_pb.js";
import type { Command } from "../command.ts";
import { Directory } from "../conversations.ts";
import { cleanLine, table } from "../render.ts";

export const list: Command = {
  name: "list",
  args: "",
  summary: "list your conversations with their members and last sequence",
  minArgs: 0,
  maxArgs: 0,
  async run(ctx) {
    const api = ctx.api();
    const conversations: Conversation[] = [];
    let pageToken = "";
    do {
      const page = await api.call((headers, c) => c.conversations.listConversations({ pageSize: 200, pageToken }, { headers }));
      conversations.push(...page.conversations);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    if (conversations.length === 0) {
      ctx.err("no conversations yet; start one with: dm <phone> or group <name> <phone...>");
      return 0;
    }
    const directory = new Directory(api);
    for (const conversation of conversations) directory.remember(conversation);
    const self = api.profile.userId;
    const rows = conversations.map((conversation) => {
      const others = conversation.members.filter((m) => m.userId !== self).map((m) => directory.nameOf(m.userId));
      const group = conversation.kind === ConversationKind.GROUP;
      return [
        conversation.conversationId,
        group ? "group " : "direct",
        `#${conversation.lastSequence}`,
        !group
          ? `with ${others.join(", ") || "(nobody)"}`
          : conversation.viewerRole === MemberRole.UNSPECIFIED
            ? "(a group you left)"
            : `${cleanLine(conversation.name)}: you, ${others.join(", ")}`,
      ];
    });
    ctx.out(...table(rows));
    return 0;
  },
};
