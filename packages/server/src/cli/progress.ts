/**
 * Pull progress for `nimbus image pull`: on a terminal, one bar per layer
 * (short digest, bytes received/total, rate) redrawn in place; otherwise
 * plain lines (resolved, a layer's progress at most once a second, each
 * layer's end, the result), which logs and pipes can keep.
 */
import type { PullProgress } from "@nimbus/nimbus";
import type { CliIo } from "./command.js";

const BAR_WIDTH = 24;
const TTY_REDRAW_MS = 100;
const PLAIN_LINE_MS = 1000;
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** "1.2 MiB/s"; "-" until there is something to measure. */
export function formatRate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) ? "-" : `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** `sha256:0123456789abcdef…` → `0123456789ab`. */
export function shortDigest(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, "").slice(0, 12);
}

export function renderBar(received: number, total: number, width = BAR_WIDTH): string {
  const ratio = total > 0 ? Math.min(1, received / total) : 0;
  const full = Math.floor(ratio * width);
  return `[${"=".repeat(full)}${full < width ? ">" : ""}${" ".repeat(Math.max(0, width - full - 1))}]`;
}

export interface LayerState {
  digest: string;
  receivedBytes: number;
  totalBytes: number;
  done: boolean;
  cached: boolean;
  /** When and at how many bytes the layer was first seen, for the rate. */
  firstMs: number;
  firstBytes: number;
  lastMs: number;
}

export function layerRate(l: LayerState): number | undefined {
  const seconds = (l.lastMs - l.firstMs) / 1000;
  return seconds > 0 ? (l.receivedBytes - l.firstBytes) / seconds : undefined;
}

/** One bar line: `0123456789ab  [=====>    ]  1.0 MiB / 3.0 MiB  512.0 KiB/s`. */
export function renderLayerLine(l: LayerState): string {
  const id = shortDigest(l.digest);
  if (l.cached) return `${id}  already present  ${formatBytes(l.totalBytes)}`;
  if (l.done) return `${id}  done  ${formatBytes(l.totalBytes)}`;
  return `${id}  ${renderBar(l.receivedBytes, l.totalBytes)}  ${formatBytes(l.receivedBytes)} / ${formatBytes(l.totalBytes)}  ${formatRate(layerRate(l))}`;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

export class PullProgressView {
  private readonly layers = new Map<string, LayerState>();
  private readonly lastPlainMs = new Map<string, number>();
  private drawnLines = 0;
  private lastDrawMs = -Infinity;

  constructor(
    private readonly io: Pick<CliIo, "out" | "isTty">,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: PullProgress): void {
    if (p.kind === "resolved") {
      this.print(`resolved ${str(p.reference)} to ${str(p.digest)} (${num(p.layers)} layer${num(p.layers) === 1 ? "" : "s"})`);
      return;
    }
    if (p.kind !== "layer") return;
    const t = this.now();
    const digest = str(p.digest);
    const prev = this.layers.get(digest);
    const l: LayerState = {
      digest,
      receivedBytes: num(p.receivedBytes),
      totalBytes: num(p.totalBytes),
      done: p.done === true,
      cached: p.cached === true,
      firstMs: prev?.firstMs ?? t,
      firstBytes: prev?.firstBytes ?? num(p.receivedBytes),
      lastMs: t,
    };
    // A layer seen for the first time mid-download has no baseline; measure from zero at the pull's start.
    if (!prev && !l.done) l.firstBytes = 0;
    this.layers.set(digest, l);
    if (this.io.isTty) {
      if (l.done || t - this.lastDrawMs >= TTY_REDRAW_MS) this.draw(t);
      return;
    }
    const last = this.lastPlainMs.get(digest);
    if (l.done || last === undefined || t - last >= PLAIN_LINE_MS) {
      this.lastPlainMs.set(digest, t);
      this.io.out(`layer ${renderLayerLine(l)}`);
    }
  }

  /** Draws the final state of every bar (on a terminal); call before printing the result. */
  finish(): void {
    if (this.io.isTty && this.layers.size > 0) this.draw(this.now());
    this.drawnLines = 0;
  }

  /** A line above the bars (they are redrawn below it). */
  private print(line: string): void {
    if (this.io.isTty && this.drawnLines > 0) {
      this.io.out(`\x1b[${this.drawnLines}F\x1b[2K${line}`);
      this.drawnLines = 0;
      this.draw(this.now());
      return;
    }
    this.io.out(line);
  }

  private draw(t: number): void {
    const lines = [...this.layers.values()].map(renderLayerLine);
    // Move up over the previous frame (cursor to column 0), then clear and rewrite each line.
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : "";
    lines.forEach((line, i) => this.io.out(`${i === 0 ? up : ""}\x1b[2K${line}`));
    this.drawnLines = lines.length;
    this.lastDrawMs = t;
  }
}
