// The IdentityService handlers: validate, call the sign-in and session use cases, map to protos.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { HistoryPolicy, type IdentityService, SessionTokensSchema } from "../../gen/parley/v1/identity_pb.js";
import { callerOf } from "../shared/auth.ts";
import { invalidArgument } from "../shared/errors.ts";
import { requireId, requirePhoneNumber, requireText } from "../shared/validate.ts";
import type { DeviceLinking } from "./linking.ts";
import type { HistoryPolicyName, UserStore } from "./ports.ts";
import type { createDeviceSessions } from "./sessions.ts";
import type { SignIn, SignInLimits } from "./sign-in.ts";

export interface IdentityServiceDeps {
  signIn: SignIn;
  sessions: ReturnType<typeof createDeviceSessions>;
  users: UserStore;
  limits: SignInLimits;
  linking: DeviceLinking;
}

const maxLookup = 100;

const policyNames = new Map<HistoryPolicy, HistoryPolicyName>([
  [HistoryPolicy.FULL, "full"],
  [HistoryPolicy.FROM_LINK, "from_link"],
]);
const policyOf = (name: HistoryPolicyName) => (name === "full" ? HistoryPolicy.FULL : HistoryPolicy.FROM_LINK);

/** UNSPECIFIED means the server default; any other unknown number is refused. */
function historyPolicy(value: HistoryPolicy): HistoryPolicyName | undefined {
  if (value === HistoryPolicy.UNSPECIFIED) return undefined;
  const name = policyNames.get(value);
  if (!name) throw invalidArgument("history", "UNKNOWN_VALUE", "history must be FULL, FROM_LINK or unspecified");
  return name;
}

function tokensProto(tokens: { accessToken: string; accessTokenExpiresAt: number; refreshToken: string }) {
  return create(SessionTokensSchema, {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: timestampFromMs(tokens.accessTokenExpiresAt),
    refreshToken: tokens.refreshToken,
  });
}

export function createIdentityService(deps: IdentityServiceDeps): ServiceImpl<typeof IdentityService> {
  return {
    async requestCode(req) {
      const phoneNumber = requirePhoneNumber(req.phoneNumber, "phone_number");
      const { expiresAt } = await deps.signIn.requestCode(phoneNumber);
      return {
        codeLength: deps.limits.codeLength,
        expiresAt: timestampFromMs(expiresAt),
      };
    },
    async verifyCode(req) {
      const phoneNumber = requirePhoneNumber(req.phoneNumber, "phone_number");
      if (!/^[0-9]{4,10}$/.test(req.code)) throw invalidArgument("code", "MALFORMED_CODE", "code must be digits");
      const deviceName = requireText(req.deviceName, "device_name", 64);
      const displayName = req.displayName === "" ? "" : requireText(req.displayName, "display_name", 64);
      const session = await deps.signIn.verifyCode({
        phoneNumber,
        code: req.code,
        deviceName,
        displayName,
      });
      return {
        userId: session.userId,
        deviceId: session.deviceId,
        newUser: session.newUser,
        tokens: tokensProto(session.tokens),
      };
    },
    async refreshSession(req) {
      if (req.refreshToken === "") throw invalidArgument("refresh_token", "EMPTY", "refresh_token is required");
      return {
        tokens: tokensProto(await deps.sessions.refresh(req.refreshToken)),
      };
    },
    async listDevices(_req, ctx) {
      const caller = callerOf(ctx);
      const devices = await deps.sessions.list(caller.userId);
      return {
        devices: devices.map((d) => ({
          deviceId: d.deviceId,
          name: d.name,
          createdAt: timestampFromMs(d.createdAt),
          current: d.deviceId === caller.deviceId,
        })),
      };
    },
    async revokeDevice(req, ctx) {
      const caller = callerOf(ctx);
      await deps.sessions.revokeOwn(caller.userId, requireId(req.deviceId, "device_id"));
      return {};
    },
    async lookupUsers(req) {
      if (req.phoneNumbers.length > maxLookup) {
        throw invalidArgument("phone_numbers", "TOO_MANY", `at most ${maxLookup} phone numbers per call`);
      }
      const phones = req.phoneNumbers.map((p, i) => requirePhoneNumber(p, `phone_numbers[${i}]`));
      const users = await deps.users.findByPhones(phones);
      return {
        users: users.map((u) => ({
          userId: u.userId,
          phoneNumber: u.phoneNumber,
          displayName: u.displayName,
        })),
      };
    },
    async createDeviceLinkToken(req, ctx) {
      const caller = callerOf(ctx);
      const created = await deps.linking.createToken(caller.userId, caller.deviceId, historyPolicy(req.history));
      return { linkToken: created.token, expiresAt: timestampFromMs(created.expiresAt), history: policyOf(created.history) };
    },
    async linkDevice(req) {
      if (req.linkToken === "") throw invalidArgument("link_token", "EMPTY", "link_token is required");
      const deviceName = requireText(req.deviceName, "device_name", 64);
      const linked = await deps.linking.link(req.linkToken, deviceName);
      return {
        userId: linked.userId,
        deviceId: linked.deviceId,
        tokens: tokensProto(linked.tokens),
        history: policyOf(linked.history),
      };
    },
  };
}
