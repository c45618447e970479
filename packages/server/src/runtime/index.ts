// runtime/ — sandbox runtime backends: the RuntimeBackend interface, the real
// backend (an OCI runtime — crun by default, runc or runsc — supervised by conmon,
// on an overlayfs root), an in-memory fake for unit tests, the host check run at
// start, and the leak check and conformance suite other tests reuse.
// May import: node built-ins only. Never imports domain, api, store or images;
// it throws RuntimeError, which the domain translates.

export type { ContainerSpec, ContainerState, ContainerStatus, ExitInfo, RuntimeBackend, RuntimeName } from "./backend.js";
export { RuntimeError, assertValidId, isRuntimeError, type RuntimeErrorKind } from "./errors.js";
export { ContainerBackend, type ContainerBackendOptions } from "./container/crun-backend.js";
export { containersOnDisk } from "./container/layout.js";
export { parseK8sLog, joinLog, readLogText } from "./container/log-file.js";
export { readAllRecords, readRecordsFrom, type LogRecord } from "./container/k8s-log.js";
export { FakeBackend, FakeHost, type FakeBackendOptions } from "./fake/fake-backend.js";
export { HUGETLB_FIX_COMMAND, checkHost, hugetlbNeedsFix, type HostCheckOptions, type HostCheckResult } from "./host-check.js";
export { assertNoLeftovers, describeLeftovers, findLeftovers, type Leftovers } from "./leak-check.js";
