/**
 * In-process event bus: the domain publishes lifecycle changes, the API
 * streams them to watchers (so clients need not poll). Subscribers are
 * tenant-scoped: a listener only ever sees its own tenant's events.
 */
export interface LifecycleEvent {
  type: "sandbox" | "session" | "service" | "egress";
  /** `denied` only for `egress` (a sandbox's connection attempt or DNS query was refused). */
  action: "updated" | "deleted" | "denied";
  tenantId: string;
  /** The resource id (sandbox/session id, service name). */
  key: string;
  resource: unknown;
}

export type EventListener = (event: LifecycleEvent) => void;

export class EventBus {
  private readonly listeners = new Map<string, Set<EventListener>>();

  publish(event: LifecycleEvent): void {
    for (const l of this.listeners.get(event.tenantId) ?? []) {
      try {
        l(event);
      } catch {
        /* a broken watcher must not break the publisher */
      }
    }
  }

  subscribe(tenantId: string, listener: EventListener): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenantId);
    };
  }
}
