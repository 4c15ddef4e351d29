// Structured logging: one JSON object per line on stdout, so logs can be shipped and queried.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const rank: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

export type LogSink = (line: string) => void;

export function createLogger(options: { level?: LogLevel; sink?: LogSink; base?: LogFields } = {}): Logger {
  const sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  return new JsonLogger(rank[options.level ?? "info"], sink, options.base ?? {});
}

/**
 * A class rather than an object of closures: every device stream keeps a child logger, and a child
 * is then one small object that shares its parent's level and sink.
 */
class JsonLogger implements Logger {
  readonly #min: number;
  readonly #sink: LogSink;
  readonly #base: LogFields;

  constructor(min: number, sink: LogSink, base: LogFields) {
    this.#min = min;
    this.#sink = sink;
    this.#base = base;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#min, this.#sink, { ...this.#base, ...fields });
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (rank[level] < this.#min) return;
    this.#sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.#base, ...fields }, jsonSafe));
  }
}

// bigint (sequence numbers) and Error objects need help to become JSON.
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export const silentLogger: Logger = createLogger({ sink: () => {} });
