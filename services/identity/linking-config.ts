// Device-linking settings from PARLEY_LINK_TOKEN_TTL_MS and PARLEY_LINK_HISTORY, shared by the
// all-in-one process and the identity process; a bad value stops the process at start.
import { oneOf, positiveWholeNumber } from "../shared/env-settings.ts";
import { defaultLinkingSettings, type LinkingSettings } from "./linking.ts";

export function linkingFromEnv(env: NodeJS.ProcessEnv = process.env): LinkingSettings {
  const d = defaultLinkingSettings;
  return {
    tokenTtlMs: positiveWholeNumber(env, "PARLEY_LINK_TOKEN_TTL_MS", d.tokenTtlMs),
    defaultHistory: oneOf(env, "PARLEY_LINK_HISTORY", ["full", "from_link"], d.defaultHistory),
  };
}
