// Device-linking settings from PARLEY_LINK_TOKEN_TTL_MS and PARLEY_LINK_HISTORY, shared by the
// all-in-one process and the identity process; a bad value stops the process at start.
import { defaultLinkingSettings, type LinkingSettings } from "./linking.ts";

export function linkingFromEnv(env: NodeJS.ProcessEnv = process.env): LinkingSettings {
  const d = defaultLinkingSettings;
  const rawTtl = env.PARLEY_LINK_TOKEN_TTL_MS;
  const tokenTtlMs = rawTtl === undefined || rawTtl === "" ? d.tokenTtlMs : Number(rawTtl);
  if (!Number.isInteger(tokenTtlMs) || tokenTtlMs <= 0)
    throw new Error(`PARLEY_LINK_TOKEN_TTL_MS must be a positive integer, got "${rawTtl}"`);
  const history = env.PARLEY_LINK_HISTORY || d.defaultHistory;
  if (history !== "full" && history !== "from_link")
    throw new Error(`PARLEY_LINK_HISTORY must be full or from_link, got "${history}"`);
  return { tokenTtlMs, defaultHistory: history };
}
