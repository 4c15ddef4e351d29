// kafkajs logs through its own console logger by default; this routes it into Parley's
// structured logger, at warn and above only (its info level narrates every join and fetch).
import { type logCreator, logLevel } from "kafkajs";
import type { Logger } from "../../../shared/logger.ts";

export const kafkaLogLevel = logLevel.WARN;

export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      // kafkajs reports retried, recovered conditions (rebalances, a broker restart) as errors;
      // the adapter logs the failures that matter itself, so these stay warnings.
      const text = `kafkajs: ${message}`;
      const context = { kafkaNamespace: namespace, ...fields };
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(text, context);
      else logger.debug(text, context);
    };
}
