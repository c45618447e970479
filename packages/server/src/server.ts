/**
 * Composition root: the only place that builds the object graph (store →
 * domain → api) and binds it to a socket. `nimbus start` and the in-process
 * tests both come through here.
 */
import { createServer, type Server } from "node:http";
import { accessSync, constants, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { ServerConfig } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { openDatabase, type Db } from "./store/db.js";
import { WalSync } from "./store/wal-sync.js";
import { TenantStore } from "./store/tenant-store.js";
import { Tenants } from "./domain/tenants.js";
import { ensureAdminToken, rotateAdminToken } from "./host/admin-token.js";
import { adminTokenPath, discoveryFilePath } from "./host/paths.js";
import { removeDiscovery, writeDiscovery } from "./host/discovery.js";
import { DataDirLockedError, lockDataDir } from "./host/data-dir-lock.js";
import { DataDirOwnerError, secureDataDir } from "./host/private-fs.js";
import { ensureInstanceId } from "./host/instance-id.js";
import { databaseRefusal } from "./database-guard.js";
import { AdminTokenVerifier } from "./api/auth.js";
import { createApp, type App } from "./api/app.js";
import { buildOpenApi } from "./api/openapi.js";
import { systemRoutes } from "./api/routes/system.js";
import { tenantRoutes } from "./api/routes/tenants.js";
import { tenantLimitRoutes } from "./api/routes/tenant-limits.js";
import { TenantLimitsStore } from "./store/tenant-limits-store.js";
import { TenantLimitsService, resolveDefaults, serverCeilings } from "./domain/tenant-limits.js";
import { TenantCaps } from "./domain/tenant-caps.js";
import { DiskGuard } from "./domain/disk-guard.js";
import { freeBytesUnder } from "./host/disk-space.js";
import { hostSize } from "./host/host-size.js";
import type { RouteDef } from "./api/route.js";
import { sandboxRoutes } from "./api/routes/sandboxes.js";
import { eventRoutes } from "./api/routes/events.js";
import { execRoutes } from "./api/routes/channels-exec.js";
import { SandboxExec } from "./domain/sandbox-exec.js";
import { Processes } from "./domain/processes.js";
import { ProcessStore } from "./store/process-store.js";
import { processRoutes, processWsRoutes } from "./api/routes/processes.js";
import { fileRoutes } from "./api/routes/files.js";
import { SandboxFiles } from "./domain/sandbox-files.js";
import { TenantWorkLimiter } from "./domain/tenant-work.js";
import { SandboxStore } from "./store/sandbox-store.js";
import { Sandboxes } from "./domain/sandboxes.js";
import { SandboxLifetimes } from "./domain/sandbox-lifetimes.js";
import { TenantLifetimes } from "./domain/tenant-lifetime.js";
import { TenantLifetimeStore } from "./store/tenant-lifetime-store.js";
import { tenantLifetimeRoutes } from "./api/routes/tenant-lifetime.js";
import { SessionStore } from "./store/session-store.js";
import { Sessions } from "./domain/sessions.js";
import { sessionRoutes } from "./api/routes/sessions.js";
import { ServiceStore } from "./store/service-store.js";
import { Services } from "./domain/services.js";
import { Supervisor } from "./domain/supervisor.js";
import { Endpoints } from "./domain/endpoints.js";
import { serviceRoutes } from "./api/routes/services.js";
import { serviceProxyRoutes, serviceProxyWsRoutes } from "./api/routes/service-proxy.js";
import { imageRoutes } from "./api/routes/images.js";
import { tenantImageRoutes } from "./api/routes/tenant-images.js";
import { registryCredentialRoutes } from "./api/routes/registry-credentials.js";
import { TenantImages } from "./domain/tenant-images.js";
import { RegistryCredentials } from "./domain/registry-credentials.js";
import { ImageRefStore } from "./store/image-ref-store.js";
import { RegistryCredentialStore } from "./store/registry-credential-store.js";
import { secretRoutes } from "./api/routes/secrets.js";
import { tenantEgressRoutes } from "./api/routes/tenant-egress.js";
import { EgressCeilings } from "./domain/egress-ceilings.js";
import { EgressLog } from "./domain/egress-log.js";
import { DenialEventThrottle } from "./domain/egress-event-throttle.js";
import { SandboxEgress } from "./domain/sandbox-egress.js";
import { EgressLogStore, type NewEgressLogRow } from "./store/egress-log-store.js";
import { sandboxEgressRoutes } from "./api/routes/sandbox-egress.js";
import { TenantEgressStore } from "./store/tenant-egress-store.js";
import { Secrets } from "./domain/secrets.js";
import { SecretStore } from "./store/secret-store.js";
import { SecretBox } from "./host/secret-box.js";
import { EventBus } from "./domain/events.js";
import { ImageStore } from "./images/index.js";
import type { RuntimeBackend } from "./runtime/backend.js";
import { ContainerBackend, RuntimeError, checkHost } from "./runtime/index.js";
import { VERSION } from "./version.js";
import { StdioChannels } from "./domain/stdio-channel.js";
import { stdioChannelRoutes, stdioChannelWsRoutes } from "./api/routes/channels-stdio.js";
import { createUpgradeHandler } from "./api/ws.js";

export class StartupError extends Error {}

export interface RunningServer {
  address: string;
  port: number;
  app: App;
  db: Db;
  parts: ServerParts;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Replace the real runtime (unit tests of the domain only). */
  runtime?: RuntimeBackend;
}

export interface ServerParts {
  sandboxes: Sandboxes;
  images: ImageStore;
  runtime: RuntimeBackend;
  events: EventBus;
  tenants: Tenants;
  sessions: Sessions;
  services: Services;
  endpoints: Endpoints;
  tenantLimits: TenantLimitsService;
  /** Sandbox lifetimes and the activity record (`touch`) the processes API calls. */
  lifetimes: SandboxLifetimes;
}

/**
 * Check the host (runtime and conmon present, root, overlayfs), apply the
 * crun cgroup v1 hugetlb fix when needed, fall back to runc when crun cannot
 * run here, and build the container backend. Failures name the packages or
 * commands to run.
 */
async function createRuntime(config: ServerConfig, log: Logger): Promise<RuntimeBackend> {
  try {
    const host = await checkHost({ runtime: config.runtime });
    for (const fix of host.fixesApplied) log.info("applied a host fix for the OCI runtime", { command: fix });
    for (const warning of host.warnings) log.warn(warning);
    const backend = new ContainerBackend({
      stateDir: join(config.dataDir, "runtime"),
      diskLimits: config.diskLimits,
      // Outside the runtime dir: the unix socket paths must stay under 108 bytes.
      portsSocketDir: join(config.dataDir, "endpoints"),
      runtime: host.runtime,
      runtimePath: host.runtimePath,
      conmonPath: host.conmonPath,
      log: log.child({ module: "stdio" }),
      // All tenants together stay within the host's share derived from its size.
      parentLimits: serverCeilings(hostSize()),
      egress: {
        dnsUpstream: config.egressDnsUpstream?.length ? config.egressDnsUpstream : undefined,
        caDir: join(config.dataDir, "egress-ca"),
        upstreamCa: readUpstreamCas(config.egressUpstreamCa ?? []),
        inspectCiphers: config.egressInspectCiphers,
      },
    });
    if (!backend.diskLimits.enforced && config.diskLimits !== "off") {
      log.warn(`sandbox disk limits cannot be enforced on this host (${backend.diskLimits.reason}): specs with diskLimitBytes will be refused (400)`);
    }
    return backend;
  } catch (err) {
    if (err instanceof RuntimeError) throw new StartupError(err.message);
    throw err;
  }
}

/** The extra upstream CAs' PEM text; a file that cannot be read stops the start with its name. */
function readUpstreamCas(paths: string[]): string[] {
  return paths.map((p) => {
    try {
      return readFileSync(p, "utf8");
    } catch (err) {
      throw new StartupError(`--egress-upstream-ca ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
}

/**
 * The data dir belongs to this server's user and is 0700, its direct
 * children (and those of images/ and runtime/) 0700 or 0600: a dir made with
 * a plain `mkdir` (0755) would let any local user run setuid binaries from
 * extracted layers and read the database.
 */
function checkDataDir(dir: string, log: Logger): void {
  try {
    const { repaired } = secureDataDir(dir, ["images", "runtime", "sandboxes"]);
    if (repaired.length > 0)
      log.warn("tightened data dir permissions (other local users could read them)", { paths: repaired.slice(0, 20), count: repaired.length });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (err) {
    if (err instanceof DataDirOwnerError) throw new StartupError(err.message);
    throw new StartupError(
      `data dir ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another with --data-dir or fix its permissions`,
    );
  }
}

function listen(server: Server, config: ServerConfig): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE")
        reject(new StartupError(`port ${config.port} on ${config.host} is already in use; stop the other process or pick another with --port`));
      else if (err.code === "EACCES")
        reject(new StartupError(`not allowed to listen on ${config.host}:${config.port}; use a port above 1023 or run with the needed privileges`));
      else if (err.code === "EADDRNOTAVAIL") reject(new StartupError(`${config.host} is not an address of this machine; check --host`));
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(config.port, config.host);
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  checkDataDir(config.dataDir, log);
  let unlock: () => void;
  try {
    unlock = lockDataDir(config.dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new StartupError(err.message);
    throw err;
  }
  const cleanups: Array<() => void> = [unlock];
  try {
    const refusal = databaseRefusal(config.dataDir);
    if (refusal) throw new StartupError(refusal);
    return await compose(config, env, log, options, cleanups);
  } catch (err) {
    for (const c of cleanups.reverse()) c();
    throw err;
  }
}

async function compose(config: ServerConfig, env: NodeJS.ProcessEnv, log: Logger, options: StartOptions, cleanups: Array<() => void>): Promise<RunningServer> {
  const db = openDatabase(config.dataDir);
  cleanups.push(() => db.close());
  let instanceId: string;
  try {
    instanceId = ensureInstanceId(config.dataDir);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const tokenPath = adminTokenPath(env);
  const { file: tokenFile, minted } = ensureAdminToken(tokenPath);
  if (minted) log.info("minted the admin token", { path: tokenPath });
  const adminToken = new AdminTokenVerifier(tokenFile.token);

  const tenants = new Tenants(new TenantStore(db));
  const events = new EventBus();
  const runtime = options.runtime ?? (await createRuntime(config, log));
  const images = new ImageStore({
    root: join(config.dataDir, "images"),
    mirrors: config.registryMirrors,
    insecureRegistries: config.insecureRegistries,
    limits: config.imageLimits,
    registryAllow: config.registryAllow,
    registryAllowPrivate: config.registryAllowPrivate,
    registryTimeoutMs: config.registryTimeoutMs,
    log: (level, msg, fields) => log[level](msg, { module: "images", ...fields }),
  });
  await images.init();
  const wal = WalSync.of(db);
  cleanups.push(() => wal.close());
  const sandboxStore = new SandboxStore(db, wal);
  const tenantLimits = new TenantLimitsService({
    store: new TenantLimitsStore(db),
    runtime,
    defaults: resolveDefaults(config.tenantLimitDefaults, hostSize()),
    requireTenant: (tenantId) => tenants.require(tenantId),
    maxCpuCount: hostSize().cpuCount,
  });
  const secretBox = SecretBox.open(config.dataDir);
  const secrets = new Secrets({ store: new SecretStore(db), box: secretBox });
  const registryCredentials = new RegistryCredentials({ store: new RegistryCredentialStore(db), box: secretBox });
  // Tenants see and use only their own references and public images; content stays shared by digest.
  const tenantImages = new TenantImages({ images, refs: new ImageRefStore(db), credentials: registryCredentials });
  const tenantLifetimes = new TenantLifetimes(new TenantLifetimeStore(db), (tenantId) => tenants.require(tenantId));
  tenants.onDelete(async (tenantId) => tenantLifetimes.forget(tenantId));
  const egressCeilings = new EgressCeilings(new TenantEgressStore(db), tenants);
  // `egress` / `denied` on the tenant's event stream, keyed by the sandbox (so `?id=` follows one sandbox),
  // a bounded number per sandbox and second (domain/egress-event-throttle.ts).
  const deniedEvents = new DenialEventThrottle<Omit<NewEgressLogRow, "tenantId">>({
    publish: (tenantId, sandboxId, row) => events.publish({ type: "egress", action: "denied", tenantId, key: sandboxId, resource: row }),
  });
  const egressLog = new EgressLog({
    store: new EgressLogStore(db),
    onDenied: ({ tenantId, ...row }) => deniedEvents.offer(tenantId, row.sandboxId, row),
  });
  cleanups.push(() => egressLog.close());
  cleanups.push(() => deniedEvents.stop());
  const egress = new SandboxEgress({ runtime, log: egressLog, ceilingOf: (tenantId) => egressCeilings.get(tenantId), secrets });
  const diskGuard = new DiskGuard({ freeBytes: () => freeBytesUnder(config.dataDir), minFreeBytes: config.diskFreeMinBytes });
  const sandboxes = new Sandboxes({
    store: sandboxStore,
    images: tenantImages,
    runtime,
    events,
    log: log.child({ module: "sandboxes" }),
    retainedDir: join(config.dataDir, "sandboxes"),
    maxActivePerTenant: config.tenantMaxSandboxes,
    tenantLimits,
    diskGuard,
    instanceId,
    egress,
    lifetimeDefault: (tenantId) => tenantLifetimes.of(tenantId),
  });
  const lifetimes: SandboxLifetimes = new SandboxLifetimes({
    store: sandboxStore,
    sandboxes,
    hasOpenSession: (tenantId, sandboxId): boolean => sessions.hasOpen(tenantId, sandboxId),
    log: log.child({ module: "lifetimes" }),
  });
  sandboxes.onChange((row, previous) => lifetimes.onSandboxChange(row, previous));
  const caps = new TenantCaps((tenantId) => tenantLimits.of(tenantId));
  const sessions = new Sessions({
    store: new SessionStore(db),
    sandboxes,
    events,
    log: log.child({ module: "sessions" }),
    maxOpenOf: (tenantId) => tenantLimits.of(tenantId).maxSessions,
    activity: lifetimes,
  });
  sandboxes.onChange((row) => sessions.onSandboxChange(row));
  const endpoints = new Endpoints({
    store: sandboxStore,
    runtime,
    events,
    log: log.child({ module: "endpoints" }),
    onPublishFailed: (row, message) => void sandboxes.failToPublish(row.tenantId, row.id, message),
  });
  sandboxes.onChange((row) => endpoints.onSandboxChange(row));
  const serviceStore = new ServiceStore(db);
  const services = new Services({ store: serviceStore, sandboxes, sessions, events, log: log.child({ module: "services" }) });
  const supervisor = new Supervisor({ services, store: serviceStore, sandboxes, endpoints, runtime, log: log.child({ module: "supervisor" }) });
  sandboxes.onChange((row) => supervisor.onSandboxChange(row));
  endpoints.onChange((row) => supervisor.onEndpointsChange(row));
  sessions.setServiceResolver(services);
  const stdio = new StdioChannels({ sessions, sandboxes, hubs: runtime.stdio, log: log.child({ module: "stdio" }), activity: lifetimes });
  stdio.start();
  sandboxes.onChange((row) => stdio.onSandboxChange(row));
  tenants.onDelete((tenantId) => sessions.deleteAllOfTenant(tenantId));
  // Services go before their sandboxes, so the supervisor does not replace what tenant deletion stops.
  tenants.onDelete((tenantId) => services.deleteAllOfTenant(tenantId));
  tenants.onDelete((tenantId) => sandboxes.deleteAllOfTenant(tenantId));
  const processes = new Processes({
    store: new ProcessStore(db),
    runtime: runtime.processes,
    sandboxEnv: (id) => runtime.processEnv(id),
    sandbox: (tenantId, id) => sandboxes.get(tenantId, id),
    findSandbox: (tenantId, id) => sandboxes.find(tenantId, id),
    caps,
    log: log.child({ module: "processes" }),
    retentionMs: config.processRetentionMs,
  });
  const files = new SandboxFiles({ runtime, limitBytes: config.filesMaxBytes, work: new TenantWorkLimiter(config.filesPoolPerTenant) });
  // Last: the tenant's cgroup group is empty once its sandboxes are gone.
  tenants.onDelete((tenantId) => tenantLimits.forget(tenantId));
  const routes: RouteDef[] = [
    ...systemRoutes({
      version: VERSION,
      openapi: () => buildOpenApi(routes, VERSION),
      rotateAdminToken: () => {
        const next = rotateAdminToken(tokenPath);
        adminToken.replace(next.token);
        log.info("admin token rotated", { generation: next.generation });
        return { generation: next.generation, token: next.token };
      },
    }),
    ...tenantRoutes(tenants),
    ...secretRoutes(secrets),
    ...tenantEgressRoutes(egressCeilings),
    ...tenantLimitRoutes(tenantLimits),
    ...tenantLifetimeRoutes(tenantLifetimes),
    ...sandboxRoutes(sandboxes, lifetimes),
    ...sandboxEgressRoutes(sandboxes, egress),
    ...sessionRoutes(sessions),
    ...stdioChannelRoutes(stdio),
    ...execRoutes(sandboxes, sessions, new SandboxExec(runtime), caps, lifetimes),
    ...processRoutes(processes),
    ...fileRoutes(sandboxes, sessions, files),
    ...serviceRoutes(services),
    ...serviceProxyRoutes(services, endpoints, lifetimes),
    ...eventRoutes(events),
    ...imageRoutes({
      images,
      tenantImages,
      digestsInUse: () => sandboxStore.imageDigestsInUse(),
      uploadDir: join(config.dataDir, "images", "tmp"),
      diskGuard,
    }),
    ...tenantImageRoutes(tenantImages, caps, diskGuard),
    ...registryCredentialRoutes(registryCredentials),
  ];
  const app = createApp({ log, tenants, adminToken }, routes);

  const server = createServer({ requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => app.handle(req, res));
  const upgrades = createUpgradeHandler({ log, tenants, adminToken, caps }, [
    ...stdioChannelWsRoutes(stdio),
    ...processWsRoutes(processes),
    ...serviceProxyWsRoutes(services, endpoints, lifetimes),
  ]);
  server.on("upgrade", (req, socket, head) => upgrades.handle(req, socket, head));
  server.keepAliveTimeout = 5_000;
  // Bind before reconciling so a taken port fails fast and touches nothing.
  const info = await listen(server, config);
  cleanups.push(() => server.close());
  await sandboxes.reconcile(log);
  // Leases that lapsed while the server was down expire now, after the sandboxes are known again.
  sessions.start();
  // Re-adopted sandboxes get their ports published again; services resume where they were (no duplicate launches).
  endpoints.start();
  supervisor.start();
  // After sessions: leases that lapsed while the server was down are closed, so they no longer keep a sandbox busy.
  lifetimes.start();
  // Processes still running (they outlived a restart) are watched again, with their slots and deadlines.
  processes.start();
  const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
  const address = `http://${host}:${info.port}`;
  const discoveryPath = discoveryFilePath(env);
  writeDiscovery(discoveryPath, { pid: process.pid, address, version: VERSION, dataDir: config.dataDir, startedAt: new Date().toISOString() });
  log.info("nimbus is listening", { address, dataDir: config.dataDir, version: VERSION });

  let closing: Promise<void> | undefined;
  return {
    address,
    port: info.port,
    app,
    db,
    parts: { sandboxes, images, runtime, events, tenants, sessions, services, endpoints, tenantLimits, lifetimes },
    close() {
      closing ??= (async () => {
        // Attached channels end with `closed: server_shutdown` instead of a cut connection.
        stdio.close();
        processes.close();
        upgrades.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2_000).unref();
        });
        sessions.stop();
        lifetimes.stop();
        await runtime.close();
        supervisor.stop();
        await endpoints.close();
        sandboxes.close();
        // The data path goes with the server: sandboxes that outlive it keep loopback only (deny, never open).
        await runtime.egress?.close().catch((err) => log.warn("removing the egress network failed", { err }));
        egressLog.close();
        removeDiscovery(discoveryPath);
        wal.close();
        db.close();
        cleanups[0]!();
        log.info("nimbus stopped");
      })();
      return closing;
    },
  };
}
