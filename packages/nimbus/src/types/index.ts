/**
 * All wire types of the Nimbus native API, written from the contract.
 */
export type * from "./common.js";
export type * from "./sandbox.js";
export type * from "./session.js";
export type * from "./service.js";
export type * from "./admin.js";
export type * from "./event.js";
export type * from "./secret.js";
export type * from "./registry-credential.js";
