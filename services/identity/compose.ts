// Builds the identity service and the authenticator every other service uses, over any stores.
import type { EventBus } from "../bus/ports.ts";
import type { Authenticator } from "../shared/auth.ts";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import { createAuthenticator } from "./authenticator.ts";
import { createDeviceLinking, type LinkingSettings } from "./linking.ts";
import type {
  CodeSender,
  DeviceStore,
  HistoryStart,
  LinkTokenStore,
  LoginCodeStore,
  RefreshTokenStore,
  UserStore,
} from "./ports.ts";
import { createIdentityService } from "./service.ts";
import { createDeviceSessions } from "./sessions.ts";
import { createSignIn, defaultSignInLimits } from "./sign-in.ts";
import { createTokenIssuer } from "./tokens.ts";

export interface IdentityStores {
  users: UserStore;
  codes: LoginCodeStore;
  devices: DeviceStore;
  refreshTokens: RefreshTokenStore;
}

/** Device linking: its token store, where a from-link device's stream starts, and its settings. */
export interface IdentityLinking {
  linkTokens: LinkTokenStore;
  historyStart: HistoryStart;
  settings: LinkingSettings;
}

export interface TokenSettings {
  secret: Uint8Array;
  accessTokenTtlMs: number;
}

/** What any service needs to check access tokens: the signing key and the device list. */
export function composeAuthenticator(deps: {
  tokens: TokenSettings;
  devices: Pick<DeviceStore, "get">;
  clock: Clock;
}): Authenticator {
  const tokens = createTokenIssuer({ secret: deps.tokens.secret, clock: deps.clock, accessTtlMs: deps.tokens.accessTokenTtlMs });
  return createAuthenticator({ tokens, devices: deps.devices, clock: deps.clock });
}

export function composeIdentity(deps: {
  stores: IdentityStores;
  linking: IdentityLinking;
  bus: EventBus;
  codeSender: CodeSender;
  tokens: TokenSettings;
  codeTtlMs: number;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}) {
  const { stores, clock } = deps;
  const tokens = createTokenIssuer({ secret: deps.tokens.secret, clock, accessTtlMs: deps.tokens.accessTokenTtlMs });
  const limits = { ...defaultSignInLimits, codeTtlMs: deps.codeTtlMs };
  const logger = deps.logger.child({ service: "identity" });
  const signIn = createSignIn({ ...stores, codeSender: deps.codeSender, tokens, clock, ids: deps.ids, logger, limits });
  const sessions = createDeviceSessions({ ...stores, tokens, signIn, bus: deps.bus, clock, logger });
  const linking = createDeviceLinking({
    ...deps.linking,
    devices: stores.devices,
    tokens,
    signIn,
    clock,
    ids: deps.ids,
    logger,
  });
  return {
    service: createIdentityService({ signIn, sessions, users: stores.users, limits, linking }),
    authenticator: createAuthenticator({ tokens, devices: stores.devices, clock }),
  };
}
