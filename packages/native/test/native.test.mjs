// The binding's promises: spawn hands over exactly the fds it is given, resets
// signal dispositions (Node ignores SIGPIPE, containers must not inherit that),
// starts a new session when asked and reports exec failures by errno; mount,
// mountLoop and umount run the syscalls and reject with errno names.
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import { loadNative } from "../lib/index.js";

const native = loadNative();
const asRoot = { skip: process.getuid?.() !== 0 ? "needs root" : false };

/** Runs `sh -c script` with fd 3 as a pipe back to us; returns what it wrote there and its status. */
async function runShell(script, { setsid = false, extraFd } = {}) {
  const [r, w] = native.pipe();
  const fds = [-1, -1, -1, w];
  if (extraFd !== undefined) fds.push(extraFd);
  const pid = native.spawn("/bin/sh", ["sh", "-c", script], ["PATH=/usr/bin:/bin"], "/", fds, setsid);
  closeSync(w);
  const out = [];
  const sock = new Socket({ fd: r, readable: true, writable: false });
  sock.on("data", (b) => out.push(b));
  await new Promise((res) => sock.on("close", res));
  let status;
  while ((status = native.reap(pid)) === null) await new Promise((res) => setTimeout(res, 2));
  return { pid, out: Buffer.concat(out).toString(), status };
}

test("spawn: the child gets the given fds and no others, and its exit status is reaped", async () => {
  const leaked = native.pipe(); // close-on-exec, and not in the list: must not reach the child
  try {
    const { out, status } = await runShell("ls /proc/self/fd >&3; exit 7");
    const fds = out
      .trim()
      .split(/\s+/)
      .map(Number)
      .sort((a, b) => a - b);
    // 0-2 (/dev/null), 3 (our pipe) and the fd ls itself opens for the listing.
    assert.deepEqual(fds.slice(0, 4), [0, 1, 2, 3]);
    assert.ok(fds.length <= 5, `unexpected fds in the child: ${fds}`);
    assert.ok(!fds.includes(leaked[0]) || leaked[0] <= 4);
    assert.deepEqual(status, { exitCode: 7, signal: null });
  } finally {
    leaked.forEach((fd) => closeSync(fd));
  }
});

test("wait: resolves with the status of a child once it exits, including a signal", async () => {
  const pid = native.spawn("/bin/sh", ["sh", "-c", "sleep 0.05; exit 3"], [], "/", [-1, -1, -1], false);
  assert.deepEqual(await native.wait(pid), { exitCode: 3, signal: null });
  const killed = native.spawn("/bin/sleep", ["sleep", "10"], [], "/", [-1, -1, -1], false);
  process.kill(killed, "SIGKILL");
  assert.deepEqual(await native.wait(killed), { exitCode: null, signal: 9 });
  await assert.rejects(native.wait(killed), { code: "ECHILD" });
});

test("spawn: signals are reset to default (Node's ignored SIGPIPE is not inherited)", async () => {
  const { out } = await runShell("grep SigIgn /proc/self/status >&3");
  const ignored = BigInt("0x" + out.split(":")[1].trim());
  assert.equal(ignored & (1n << 12n), 0n, `SIGPIPE is ignored in the child: ${out}`);
});

test("spawn: setsid makes the child a session leader, out of our process group", async () => {
  const { pid, out } = await runShell("cut -d' ' -f6 /proc/self/stat >&3", { setsid: true });
  assert.equal(Number(out.trim()), pid, "its session id is its own pid");
});

test("spawnAsync: the same spawn on a pool thread; failures reject", async () => {
  const pid = await native.spawnAsync("/bin/sh", ["sh", "-c", "exit 4"], [], "/", [-1, -1, -1], true);
  assert.deepEqual(await native.wait(pid), { exitCode: 4, signal: null });
  await assert.rejects(native.spawnAsync("/nonexistent/prog", ["prog"], [], "/", [], false), { code: "ENOENT", syscall: "posix_spawn" });
  assert.throws(() => native.spawnAsync("/bin/true", ["true"], [], "/", [0], false), /must be >= fds.length/);
});

test("spawn: a missing program and bad fds fail with clear errors", () => {
  assert.throws(() => native.spawn("/nonexistent/prog", ["prog"], [], "/", [], false), { code: "ENOENT", syscall: "posix_spawn" });
  assert.throws(() => native.spawn("/bin/true", ["true"], [], "/", [0, 1, 2], false), /must be >= fds.length/);
  assert.throws(() => native.spawn("/bin/true", ["tr\0ue"], [], "/", [], false), /NUL/);
  assert.throws(() => native.spawn("/bin/true", "true", [], "/", [], false), TypeError);
  assert.throws(() => native.reap(1), { code: "ECHILD" });
});

test("mount and umount: a tmpfs comes and goes; errors carry the errno name", asRoot, async () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-native-"));
  const target = join(dir, "m");
  try {
    await assert.rejects(native.mount("tmpfs", target, "tmpfs", 0, "size=1m"), { code: "ENOENT", syscall: "mount" });
    rmSync(target, { force: true });
    (await import("node:fs")).mkdirSync(target);
    await native.mount("tmpfs", target, "tmpfs", 0, "size=1m");
    assert.ok(readFileSync("/proc/self/mountinfo", "utf8").includes(` ${target} `));
    writeFileSync(join(target, "f"), "x");
    await native.umount(target, 0);
    assert.equal(existsSync(join(target, "f")), false, "the file lived on the tmpfs only");
    await assert.rejects(native.umount(target, 0), { code: "EINVAL", syscall: "umount2" });
  } finally {
    await native.umount(target, 2).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mountLoop: an image is mounted on an autoclear loop device that goes with the unmount; errors carry the errno name", asRoot, async (t) => {
  const { execFileSync } = await import("node:child_process");
  const { mkdirSync, readdirSync } = await import("node:fs");
  try {
    execFileSync("mkfs.ext4", ["-V"], { stdio: "ignore" });
  } catch {
    return t.skip("mkfs.ext4 is not installed (e2fsprogs)");
  }
  const dir = mkdtempSync(join(tmpdir(), "nimbus-native-"));
  const image = join(dir, "disk.img");
  const target = join(dir, "m");
  const loopsOf = (file) =>
    readdirSync("/sys/block")
      .filter((n) => n.startsWith("loop"))
      .filter((n) => {
        try {
          return readFileSync(`/sys/block/${n}/loop/backing_file`, "utf8").trim() === file;
        } catch {
          return false;
        }
      });
  try {
    mkdirSync(target);
    await assert.rejects(native.mountLoop(image, target, "ext4", 0, ""), { code: "ENOENT", syscall: "open image" });
    writeFileSync(image, "");
    execFileSync("truncate", ["-s", "16M", image]);
    execFileSync("mkfs.ext4", ["-q", "-F", image]);
    await native.mountLoop(image, target, "ext4", 2 | 4, "");
    const [loop] = loopsOf(image);
    assert.ok(loop, "a loop device is backed by the image");
    assert.equal(readFileSync(`/sys/block/${loop}/loop/autoclear`, "utf8").trim(), "1");
    assert.ok(readFileSync("/proc/self/mountinfo", "utf8").includes(` ${target} `));
    writeFileSync(join(target, "f"), "x");
    await native.umount(target, 0);
    assert.equal(existsSync(join(target, "f")), false);
    // autoclear detaches the device once the filesystem is unmounted.
    for (let i = 0; i < 50 && loopsOf(image).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(loopsOf(image), []);
    // Not a filesystem: the mount fails and the device is released at once.
    writeFileSync(image, Buffer.alloc(1024 * 1024));
    await assert.rejects(native.mountLoop(image, target, "ext4", 0, ""), { syscall: "mount" });
    assert.deepEqual(loopsOf(image), []);
  } finally {
    await native.umount(target, 2).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mount with signalFd: one byte is written there once the mount succeeded, none on failure", asRoot, async () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-native-"));
  const target = join(dir, "m");
  (await import("node:fs")).mkdirSync(target);
  const [r, w] = native.pipe();
  try {
    await assert.rejects(native.mount("tmpfs", join(dir, "missing"), "tmpfs", 0, "size=1m", w), { code: "ENOENT" });
    await native.mount("tmpfs", target, "tmpfs", 0, "size=1m", w);
    closeSync(w);
    const got = [];
    const sock = new Socket({ fd: r, readable: true, writable: false });
    sock.on("data", (b) => got.push(b));
    await new Promise((res) => sock.on("close", res));
    assert.equal(Buffer.concat(got).toString(), "0", "exactly one byte, from the successful mount");
  } finally {
    await native.umount(target, 2).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mount with before: directories (with parents) and files are made first, by the same thread", asRoot, async () => {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-native-"));
  const target = join(dir, "a", "b", "m");
  try {
    await native.mount("tmpfs", target, "tmpfs", 0, "size=1m", -1, { dirs: [target, join(dir, "c")], files: [join(dir, "c", "f.json"), '{"x":1}'] });
    assert.equal(readFileSync(join(dir, "c", "f.json"), "utf8"), '{"x":1}');
    assert.ok(readFileSync("/proc/self/mountinfo", "utf8").includes(` ${target} `));
    await assert.rejects(native.mount("tmpfs", target, "tmpfs", 0, "", -1, { files: [join(dir, "nope", "f"), ""] }), { code: "ENOENT", syscall: "open" });
  } finally {
    await native.umount(target, 2).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("inotify reports only the events asked for: renames into the directory, not writes", () => {
  const IN_MOVED_TO = 0x80;
  const dir = mkdtempSync(join(tmpdir(), "nimbus-native-"));
  const fd = native.inotifyInit();
  try {
    const wd = native.inotifyAddWatch(fd, dir, IN_MOVED_TO);
    writeFileSync(join(dir, "log.tmp"), "x".repeat(1000));
    writeFileSync(join(dir, "log.tmp"), "more", { flag: "a" });
    renameSync(join(dir, "log.tmp"), join(dir, "log"));
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, null); // the rename is queued, so this does not block
    const len = buf.readUInt32LE(12);
    assert.equal(n, 16 + len, "exactly one event");
    assert.equal(buf.readInt32LE(0), wd);
    assert.equal(buf.readUInt32LE(4) & IN_MOVED_TO, IN_MOVED_TO);
    assert.equal(buf.toString("utf8", 16, 16 + len).replace(/\0+$/, ""), "log");
    rmSync(dir, { recursive: true, force: true });
    native.inotifyRmWatch(fd, wd); // already dropped with the directory
    assert.throws(() => native.inotifyAddWatch(fd, join(dir, "gone"), IN_MOVED_TO), { code: "ENOENT" });
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("confined: paths resolve inside the root; absolute symlinks, `..` and magic links never leave it", async () => {
  const { mkdirSync, symlinkSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const { O_PATH, RESOLVE_NO_XDEV } = await import("../lib/index.js");
  const outside = mkdtempSync(join(tmpdir(), "nimbus-confined-out-"));
  const root = mkdtempSync(join(tmpdir(), "nimbus-confined-root-"));
  writeFileSync(join(outside, "secret"), "host");
  writeFileSync(join(root, "inside"), "sandbox");
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc", "secret"), "decoy in root");
  symlinkSync(join(outside, "secret"), join(root, "abs"));
  symlinkSync(`../../../../..${outside}/secret`, join(root, "rel"));
  symlinkSync("/proc/self/root/etc/hostname", join(root, "magic"));
  execFileSync("mkfifo", [join(root, "fifo")]);
  const fd = native.openRoot(root);
  try {
    const read = (o) => {
      const b = Buffer.alloc(64);
      const n = readSync(o.fd, b, 0, 64, 0);
      closeSync(o.fd);
      return b.subarray(0, n).toString();
    };
    const file = native.openRegularSync(fd, "/inside", 0, RESOLVE_NO_XDEV);
    assert.equal(file.type, "file");
    assert.equal(read(file), "sandbox");
    await assert.rejects(native.openRegular(fd, "/abs", 0, 0), { code: "ENOENT" });
    await assert.rejects(native.openRegular(fd, "/rel", 0, 0), { code: "ENOENT" });
    await assert.rejects(native.openRegular(fd, "/magic", 0, 0), { code: "ENOENT" });
    assert.equal(read(await native.openRegular(fd, "/../../etc/secret", 0, 0)), "decoy in root");
    const fifo = await native.openRegular(fd, "/fifo", 0, 0); // would block forever if it were opened
    assert.deepEqual([fifo.fd, fifo.type], [-1, "fifo"]);
    if (process.getuid?.() === 0) {
      execFileSync("mknod", [join(root, "null"), "c", "1", "3"]);
      const dev = native.openRegularSync(fd, "/null", 0, 0);
      assert.deepEqual([dev.fd, dev.type], [-1, "char-device"]);
    }
    const dirFd = await native.openat2(fd, "/etc", O_PATH | 0o200000, 0, 0);
    assert.throws(() => native.renameat(dirFd, "../x", dirFd, "y"), /single path component/);
    assert.throws(() => native.unlinkat(dirFd, "..", 0), /single path component/);
    const w = await native.openat2(dirFd, "new", 0o1 | 0o100 | 0o200 | 0o400000, 0o4755, 0);
    closeSync(w);
    await native.renameat(dirFd, "new", dirFd, "renamed");
    assert.ok(existsSync(join(root, "etc", "renamed")));
    await native.unlinkat(dirFd, "renamed", 0);
    closeSync(dirFd);
  } finally {
    closeSync(fd);
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
