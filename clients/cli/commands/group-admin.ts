// Group administration from the command line: `invite` makes an invite link, `join` uses one, and
// `admin` changes members and roles (docs/groups.md has who may do what).
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MemberRole } from "../../../gen/parley/v1/events_pb.js";
import type { Api } from "../api.ts";
import { arg, type Command, intOption } from "../command.ts";
import { lookupUsers } from "../conversations.ts";
import { usageError } from "../errors.ts";

export const invite: Command = {
  name: "invite",
  args: "<group-id> [--max-uses N] [--expires-in MINUTES]",
  summary: "create an invite link for a group; prints its code",
  options: { "max-uses": { type: "string" }, "expires-in": { type: "string" } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const maxUses = args.options["max-uses"] === undefined ? 0 : intOption(args.options, "max-uses", 0, 100_000);
    const minutes = args.options["expires-in"] === undefined ? 0 : intOption(args.options, "expires-in", 0, 525_600);
    const { link } = await ctx.api().call((headers, c) =>
      c.conversations.createInviteLink(
        {
          conversationId: arg(args, 0),
          maxUses,
          expiresAt: minutes > 0 ? timestampFromMs(Date.now() + minutes * 60_000) : undefined,
        },
        { headers },
      ),
    );
    ctx.out(link?.code ?? "");
    return 0;
  },
};

export const join: Command = {
  name: "join",
  args: "<code>",
  summary: "join a group with an invite code; prints the group id (or that approval is pending)",
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const res = await ctx.api().call((headers, c) => c.conversations.joinByInviteLink({ code: arg(args, 0) }, { headers }));
    if (res.outcome.case === "requested") {
      ctx.out("requested");
      ctx.err(`the group asks for approval; an admin will see your request (${res.outcome.value.conversationId})`);
    } else {
      ctx.out(res.outcome.value?.conversationId ?? "");
    }
    return 0;
  },
};

type Action = (api: Api, conversationId: string, userId: string) => Promise<{ sequence: bigint }>;

const role =
  (r: MemberRole): Action =>
  (api, conversationId, userId) =>
    api.call((headers, c) => c.conversations.changeMemberRole({ conversationId, userId, role: r }, { headers }));

/** Each action takes the group and one person's phone number. */
const actions: Record<string, Action> = {
  promote: role(MemberRole.ADMIN),
  demote: role(MemberRole.MEMBER),
  "make-owner": role(MemberRole.OWNER),
  remove: (api, conversationId, userId) =>
    api.call((headers, c) => c.conversations.removeMember({ conversationId, userId }, { headers })),
  ban: (api, conversationId, userId) =>
    api.call((headers, c) => c.conversations.removeMember({ conversationId, userId, ban: true }, { headers })),
  unban: (api, conversationId, userId) =>
    api.call((headers, c) => c.conversations.unbanMember({ conversationId, userId }, { headers })),
  approve: (api, conversationId, userId) =>
    api.call((headers, c) => c.conversations.approveJoinRequest({ conversationId, userId }, { headers })),
  deny: async (api, conversationId, userId) => {
    await api.call((headers, c) => c.conversations.denyJoinRequest({ conversationId, userId }, { headers }));
    return { sequence: 0n };
  },
};

export const admin: Command = {
  name: "admin",
  args: `<group-id> <${Object.keys(actions).join("|")}> <phone>`,
  summary: "change a member's role, remove, ban or unban them, or answer their join request",
  minArgs: 3,
  maxArgs: 3,
  async run(ctx, args) {
    const action = actions[arg(args, 1)];
    if (!action) throw usageError(`unknown action "${arg(args, 1)}"; one of ${Object.keys(actions).join(", ")}`);
    const api = ctx.api();
    const [user] = await lookupUsers(api, [arg(args, 2)]);
    const { sequence } = await action(api, arg(args, 0), user?.userId ?? "");
    ctx.out(sequence > 0n ? String(sequence) : "no change");
    return 0;
  },
};
