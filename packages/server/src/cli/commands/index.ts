/** Every CLI command, in the order `nimbus --help` lists them. */
import type { CommandDef } from "../command.js";
import { startCommand } from "./start.js";
import { authTokenCommand, tokenRotateCommand } from "./auth.js";
import { tenantCommands } from "./tenant.js";
import { secretCommands } from "./secret.js";
import { tenantLimitCommands } from "./tenant-limits.js";
import { machineCommand } from "./machine.js";
import { imageCommands } from "./image.js";
import { registryCommands } from "./registry.js";
import { sandboxCommands } from "./sandbox.js";
import { lifetimeCommands } from "./lifetime.js";
import { sessionCommands } from "./session.js";
import { serviceCommands } from "./service.js";
import { execCommand } from "./exec.js";
import { cpCommand } from "./cp.js";
import { attachCommand } from "./attach.js";
import { runCommand } from "./run.js";
import { completionCommand } from "./completion.js";
import { backupCommand, restoreCommand } from "./backup.js";

export const COMMANDS: CommandDef[] = [
  startCommand,
  authTokenCommand,
  tokenRotateCommand,
  ...tenantCommands,
  ...secretCommands,
  ...tenantLimitCommands,
  ...imageCommands,
  ...registryCommands,
  ...sandboxCommands,
  ...lifetimeCommands,
  ...sessionCommands,
  runCommand,
  attachCommand,
  execCommand,
  cpCommand,
  ...serviceCommands,
  backupCommand,
  restoreCommand,
  machineCommand,
  completionCommand,
];
