import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyAddress, isPublicAddress } from "./address-class.js";

const CASES: Array<[string, string]> = [
  ["127.0.0.1", "loopback"],
  ["127.255.1.2", "loopback"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["169.254.169.254", "metadata"],
  ["fd00:ec2::254", "metadata"],
  ["169.254.0.1", "link_local"],
  ["fe80::1", "link_local"],
  ["fe80::1%eth0", "link_local"],
  ["febf::1", "link_local"],
  ["10.0.0.1", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "shared"],
  ["100.127.255.255", "shared"],
  ["fc00::1", "unique_local"],
  ["fd12:3456::1", "unique_local"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "reserved"],
  ["240.0.0.1", "reserved"],
  ["192.0.2.1", "reserved"],
  ["2001:db8::1", "reserved"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:169.254.169.254", "metadata"],
  ["::ffff:10.0.0.1", "private"],
  ["::127.0.0.1", "loopback"],
  ["64:ff9b::10.0.0.1", "private"],
  ["64:ff9b::a9fe:a9fe", "metadata"],
  ["8.8.8.8", "public"],
  ["172.32.0.1", "public"],
  ["100.128.0.1", "public"],
  ["2606:4700::1111", "public"],
  ["::ffff:8.8.8.8", "public"],
  ["localhost", "invalid"],
  ["example.com", "invalid"],
  ["999.1.1.1", "invalid"],
];

for (const [address, expected] of CASES) {
  test(`classifyAddress(${address}) is ${expected}`, () => {
    assert.equal(classifyAddress(address), expected);
    assert.equal(isPublicAddress(address), expected === "public");
  });
}
