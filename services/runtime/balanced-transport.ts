// A Connect transport over several instances of one service: calls go round-robin, and a unary
// call that finds an instance unavailable moves on to the next (Parley's writes are idempotent,
// so a retry elsewhere is safe).
import { Code, ConnectError, type Transport } from "@connectrpc/connect";

export function balancedTransport(transports: Transport[]): Transport {
  if (transports.length === 0) throw new Error("balancedTransport needs at least one transport");
  let next = 0;
  const pick = () => transports[next++ % transports.length] as Transport;
  return {
    async unary(...args) {
      let lastError: unknown;
      for (let attempt = 0; attempt < transports.length; attempt++) {
        try {
          return await pick().unary(...args);
        } catch (error) {
          if (!(error instanceof ConnectError && error.code === Code.Unavailable)) throw error;
          lastError = error;
        }
      }
      throw lastError;
    },
    stream: (...args) => pick().stream(...args),
  };
}
