// Authenticated calls for a signed-in profile: a call that fails with UNAUTHENTICATED /
// TOKEN_EXPIRED refreshes the session (once, across processes sharing the profile) and is retried.
import { Code } from "@connectrpc/connect";
import { bearer, createParleyClients, type ParleyClients } from "../node/transport.ts";
import { CliError, isConnectError } from "./errors.ts";
import type { Profile, ProfileStore } from "./profile.ts";

type Headers = ReturnType<typeof bearer>;

export const isTokenExpired = (error: unknown) => isConnectError(error, Code.Unauthenticated, "TOKEN_EXPIRED");

export class Api {
  readonly clients: ParleyClients;
  readonly store: ProfileStore;
  readonly server: string;
  #profile: Profile;

  constructor(store: ProfileStore, profile: Profile, server: string) {
    this.store = store;
    this.#profile = profile;
    this.server = server;
    this.clients = createParleyClients(server);
  }

  get profile(): Profile {
    return this.#profile;
  }

  get accessToken(): string {
    return this.#profile.accessToken;
  }

  /** Runs an authenticated call; on an expired token, refreshes and runs it once more. */
  async call<T>(run: (headers: Headers, clients: ParleyClients) => Promise<T>): Promise<T> {
    const token = this.#profile.accessToken;
    try {
      return await run(bearer(token), this.clients);
    } catch (error) {
      if (!isTokenExpired(error)) throw error;
      await this.refresh(token);
      return run(bearer(this.#profile.accessToken), this.clients);
    }
  }

  /**
   * Replaces `expiredToken` with a fresh one. Refresh tokens are single-use and presenting a spent
   * one revokes the device, so this holds the profile lock and first checks whether another
   * process already refreshed (the file then has a newer access token than the one that failed).
   */
  async refresh(expiredToken: string = this.#profile.accessToken): Promise<void> {
    await this.store.withLock(async () => {
      const stored = this.store.require();
      if (stored.deviceId !== this.#profile.deviceId) {
        throw new CliError(`profile "${this.store.name}" was signed in again by another process; restart this command`);
      }
      if (stored.accessToken !== expiredToken) {
        this.#profile = stored;
        return;
      }
      const { tokens } = await this.clients.identity.refreshSession({ refreshToken: stored.refreshToken });
      if (!tokens) throw new Error("RefreshSession answered without tokens");
      this.#profile = this.store.update((profile) => {
        profile.accessToken = tokens.accessToken;
        profile.refreshToken = tokens.refreshToken;
      });
    });
  }
}
