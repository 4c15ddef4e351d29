// Embedded schema changes for push: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const pushMigrations: NamedMigration[] = [];
