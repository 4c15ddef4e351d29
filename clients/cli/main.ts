// Entry point of `npm run cli -- <command> ...`: global options, the command table, dispatch,
// and the one place that turns failures into `error: ...` and an exit code.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { type Command, createContext, defaultServer } from "./command.ts";
import { chat } from "./commands/chat.ts";
import { devices } from "./commands/devices.ts";
import { dm } from "./commands/dm.ts";
import { follow } from "./commands/follow.ts";
import { group } from "./commands/group.ts";
import { admin, invite, join } from "./commands/group-admin.ts";
import { history } from "./commands/history.ts";
import { link } from "./commands/link.ts";
import { list } from "./commands/list.ts";
import { login } from "./commands/login.ts";
import { pushOutbox } from "./commands/push-outbox.ts";
import { revoke } from "./commands/revoke.ts";
import { send } from "./commands/send.ts";
import { whoami } from "./commands/whoami.ts";
import { CliError, describeError, hintFor, usageError } from "./errors.ts";
import { ProfileStore, profileHome } from "./profile.ts";

const commands: Command[] = [
  login,
  link,
  whoami,
  devices,
  revoke,
  dm,
  group,
  invite,
  join,
  admin,
  list,
  send,
  history,
  chat,
  follow,
  pushOutbox,
];
const byName = new Map(commands.map((c) => [c.name, c]));

const globalOptions = {
  profile: { type: "string" },
  server: { type: "string" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsOptionsConfig;

function usage(): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length));
  return [
    "usage: npm run cli -- [--profile NAME] [--server URL] <command> [arguments]",
    "",
    "commands:",
    ...commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    "",
    "global options:",
    '  --profile NAME  which stored sign-in to use (default "default"); use one per terminal to chat with yourself',
    `  --server URL    Parley server (default: the profile's server, else $PARLEY_SERVER, else ${defaultServer})`,
    "  -h, --help      show this help, or a command's help: <command> --help",
    "",
    "Profiles are stored in $PARLEY_CLI_HOME (default ~/.parley).",
    "A <conversation> argument is a conversation id, or +phone for your direct conversation with that number.",
    "Exit codes: 0 success, 1 error, 2 wrong usage.",
  ].join("\n");
}

function commandUsage(command: Command): string {
  return [
    `usage: npm run cli -- [--profile NAME] [--server URL] ${command.name} ${command.args}`,
    "",
    command.summary,
    ...(command.help ?? []),
  ]
    .join("\n")
    .trimEnd();
}

/** The command name: the first argument that is neither a global option nor its value. */
function findCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") break;
    if (token === "--profile" || token === "--server") {
      i++;
      continue;
    }
    if (token.startsWith("-")) continue;
    return { name: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

/** What hints name: set as soon as the profile and server are known. */
const where = { server: defaultServer, profile: "default" };

async function main(argv: string[]): Promise<number> {
  const { name, rest } = findCommand(argv);
  const command = name === undefined ? undefined : byName.get(name);
  if (name !== undefined && !command) throw usageError(`unknown command "${name}"`);
  const parsed = parseArgs({
    args: rest,
    options: { ...globalOptions, ...command?.options },
    allowPositionals: true,
    strict: true,
  });
  const options = parsed.values as Record<string, string | boolean | undefined>;
  if (!command) {
    if (options.help) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    throw usageError("no command given");
  }
  if (options.help) {
    process.stdout.write(`${commandUsage(command)}\n`);
    return 0;
  }
  const count = parsed.positionals.length;
  if (count < command.minArgs || (command.maxArgs !== undefined && count > command.maxArgs)) {
    throw usageError(`wrong number of arguments; usage: ${command.name} ${command.args}`);
  }
  const store = new ProfileStore(profileHome(process.env), (options.profile as string | undefined) ?? "default");
  const ctx = createContext({ store, serverFlag: options.server as string | undefined, env: process.env });
  where.profile = store.name;
  where.server = ctx.serverFlag ?? safeLoad(store)?.server ?? ctx.loginServer();
  return (await command.run(ctx, { positionals: parsed.positionals, options })) ?? 0;
}

function safeLoad(store: ProfileStore) {
  try {
    return store.load();
  } catch {
    return undefined;
  }
}

function report(error: unknown): number {
  const isUsage =
    error instanceof CliError ? error.usage : (error as { code?: unknown })?.code?.toString().startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`${describeError(error)}\n`);
  if (isUsage) {
    process.stderr.write("run with --help for usage\n");
    return 2;
  }
  const hint = hintFor(error, where);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  if (process.env.PARLEY_CLI_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 1;
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  code = report(error);
}
// The HTTP/2 connection would keep the process alive; everything has been written by now.
process.exit(code);
