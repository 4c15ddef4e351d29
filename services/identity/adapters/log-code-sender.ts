// Dev-mode code delivery: writes the code to the server log instead of sending an SMS.
import type { Logger } from "../../shared/logger.ts";
import type { CodeSender } from "../ports.ts";

export class LogCodeSender implements CodeSender {
  readonly #logger: Logger;
  constructor(logger: Logger) {
    this.#logger = logger;
  }
  async send(phoneNumber: string, code: string): Promise<void> {
    this.#logger.info("dev mode: sign-in code", { phoneNumber, code });
  }
}
