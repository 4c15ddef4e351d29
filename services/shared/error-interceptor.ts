// Maps every failure to a public ConnectError (unknown errors become INTERNAL, logged once) and
// logs each call's outcome, for unary calls and streams alike.
import { Code, type ConnectError, type Interceptor } from "@connectrpc/connect";
import { reasonOf, toPublicError } from "./errors.ts";
import type { Logger } from "./logger.ts";

export function createErrorInterceptor(logger: Logger, onError?: (procedure: string, code: Code) => void): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const started = performance.now();
    const publish = (error: unknown): ConnectError => {
      const { error: publicError, unexpected } = toPublicError(error);
      if (unexpected) logger.error("rpc failed unexpectedly", { procedure, error });
      else if (publicError.code !== Code.Canceled) {
        logger.debug("rpc refused", { procedure, code: Code[publicError.code], reason: reasonOf(publicError) });
      }
      onError?.(procedure, publicError.code);
      return publicError;
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        logger.debug("rpc", { procedure, ms: Math.round(performance.now() - started) });
        return res;
      }
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } catch (error) {
            throw publish(error);
          }
        })(),
      };
    } catch (error) {
      throw publish(error);
    }
  };
}
