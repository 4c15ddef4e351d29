// Entry point of `npm start`: the all-in-one Parley process on the embedded default.
import { createLogger } from "../shared/logger.ts";
import { configFromEnv } from "./config.ts";
import { startParley } from "./server.ts";

const config = configFromEnv();
const logger = createLogger({ level: config.logLevel });

// A closed log pipe (for example `npm start | tee` stopped with Ctrl-C) must not kill the server.
process.stdout.on("error", () => {});

process.on("unhandledRejection", (reason) => {
  logger.error("unhandled rejection (a bug)", { error: reason });
});

const parley = await startParley(config, { logger });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info("shutting down", { signal });
    parley.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  });
}
