// Embedded schema changes for groups: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const groupsMigrations: NamedMigration[] = [];
