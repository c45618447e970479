/** Generated from the server's schemas: see ../wire.ts. */
import type { Secret } from "../wire.js";
export type { Secret };
