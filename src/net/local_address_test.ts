import assert from "node:assert/strict";
import {
  type InterfaceInfo,
  isIpv4,
  lanAddresses,
  lanAddressesOf,
  localAddressFor,
  localAddressOf,
  parseIpv4,
} from "./local_address.ts";

const IFACES: InterfaceInfo[] = [
  { name: "lo", family: "IPv4", address: "127.0.0.1", netmask: "255.0.0.0" },
  {
    name: "lo",
    family: "IPv6",
    address: "::1",
    netmask: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  },
  { name: "eth0", family: "IPv4", address: "192.168.1.10", netmask: "255.255.255.0" },
  { name: "eth0", family: "IPv6", address: "fe80::1", netmask: "ffff:ffff:ffff:ffff::" },
  { name: "wlan0", family: "IPv4", address: "10.42.0.1", netmask: "255.255.0.0" },
  { name: "tun0", family: "IPv4", address: "10.42.7.1", netmask: "255.255.255.0" },
];

Deno.test("parseIpv4 gives the unsigned 32-bit value of a dotted quad", () => {
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("127.0.0.1"), 0x7f000001);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIpv4("192.168.1.10"), 0xc0a8010a);
});

Deno.test("parseIpv4 rejects host names, out-of-range octets and short forms", () => {
  for (
    const bad of ["", "localhost", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "::1", " 1.2.3.4"]
  ) {
    assert.throws(() => parseIpv4(bad), RangeError, bad);
    assert.equal(isIpv4(bad), false, bad);
  }
});

Deno.test("localAddressOf picks the interface whose subnet holds the client", () => {
  assert.equal(localAddressOf(IFACES, "192.168.1.77"), "192.168.1.10");
  assert.equal(localAddressOf(IFACES, "10.42.200.3"), "10.42.0.1");
});

Deno.test("localAddressOf prefers the longest prefix when subnets nest", () => {
  assert.equal(localAddressOf(IFACES, "10.42.7.9"), "10.42.7.1");
});

Deno.test("localAddressOf answers 127.0.0.1 for loopback clients, also IPv6 forms", () => {
  assert.equal(localAddressOf(IFACES, "127.0.0.1"), "127.0.0.1");
  assert.equal(localAddressOf(IFACES, "127.8.9.10"), "127.0.0.1");
  assert.equal(localAddressOf(IFACES, "::1"), "127.0.0.1");
  assert.equal(localAddressOf(IFACES, "::ffff:127.0.0.1"), "127.0.0.1");
});

Deno.test("localAddressOf unwraps IPv4-mapped IPv6 clients", () => {
  assert.equal(localAddressOf(IFACES, "::ffff:10.42.7.200"), "10.42.7.1");
});

Deno.test("localAddressOf falls back to the first LAN address for unknown or odd remotes", () => {
  assert.equal(localAddressOf(IFACES, "8.8.8.8"), "192.168.1.10");
  assert.equal(localAddressOf(IFACES, "fe80::99"), "192.168.1.10");
  assert.equal(localAddressOf(IFACES, "not an address"), "192.168.1.10");
});

Deno.test("localAddressOf with only loopback interfaces answers 127.0.0.1", () => {
  assert.equal(localAddressOf(IFACES.slice(0, 2), "192.168.1.77"), "127.0.0.1");
  assert.equal(localAddressOf([], "192.168.1.77"), "127.0.0.1");
});

Deno.test("lanAddressesOf lists non-loopback IPv4 addresses once, in order", () => {
  const dup = [...IFACES, { ...IFACES[2], name: "eth0:1" }];
  assert.deepEqual(lanAddressesOf(dup), ["192.168.1.10", "10.42.0.1", "10.42.7.1"]);
});

Deno.test("lanAddresses and localAddressFor read this machine's interfaces", () => {
  const lan = lanAddresses();
  for (const a of lan) assert.ok(isIpv4(a) && !a.startsWith("127."), a);
  assert.equal(localAddressFor("127.0.0.1"), "127.0.0.1");
  assert.equal(localAddressFor("203.0.113.9"), lan[0] ?? "127.0.0.1");
});
