// What every command gets: the profile, the server, output, and its parsed arguments.
import type { ParseArgsOptionsConfig } from "node:util";
import { Api } from "./api.ts";
import { usageError } from "./errors.ts";
import type { ProfileStore } from "./profile.ts";

export const defaultServer = "http://127.0.0.1:50051";

export interface Context {
  store: ProfileStore;
  /** --server, when given. */
  serverFlag: string | undefined;
  env: NodeJS.ProcessEnv;
  out(...lines: string[]): void;
  err(...lines: string[]): void;
  /** The server for a new sign-in: --server, then $PARLEY_SERVER, then the default. */
  loginServer(): string;
  /** Calls as the signed-in profile, on --server or the server the profile signed in to. */
  api(): Api;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandArgs {
  positionals: string[];
  options: OptionValues;
}

export interface Command {
  name: string;
  /** Arguments after the command name, as shown in usage. */
  args: string;
  summary: string;
  /** Extra lines for `<command> --help`. */
  help?: string[];
  options?: ParseArgsOptionsConfig;
  minArgs: number;
  /** Most positional arguments (unlimited when omitted). */
  maxArgs?: number;
  /** Returns the exit code (0 when nothing is returned). */
  run(ctx: Context, args: CommandArgs): Promise<number | undefined>;
}

export function createContext(options: { store: ProfileStore; serverFlag: string | undefined; env: NodeJS.ProcessEnv }): Context {
  const write =
    (stream: NodeJS.WriteStream) =>
    (...lines: string[]) => {
      if (lines.length > 0) stream.write(`${lines.join("\n")}\n`);
    };
  return {
    ...options,
    out: write(process.stdout),
    err: write(process.stderr),
    loginServer: () => options.serverFlag ?? (options.env.PARLEY_SERVER || defaultServer),
    api() {
      const profile = options.store.require();
      return new Api(options.store, profile, options.serverFlag ?? profile.server);
    },
  };
}

/** A string option's value, or undefined. */
export const stringOption = (options: OptionValues, name: string): string | undefined => {
  const value = options[name];
  return typeof value === "string" ? value : undefined;
};

/** A positive integer option, or the fallback. */
export function intOption(options: OptionValues, name: string, fallback: number, max: number): number {
  const raw = stringOption(options, name);
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw usageError(`--${name} must be a number from 1 to ${max}`);
  return Number(raw);
}

export const arg = (args: CommandArgs, index: number): string => args.positionals[index] ?? "";
