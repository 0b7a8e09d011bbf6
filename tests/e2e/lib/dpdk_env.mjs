// ternd on the DPDK driver for a browser test: net_af_packet on the root end
// of a veth pair, chromium in a network namespace of the test's own on the
// other end, the pages over a second veth (shared by the *_dpdk tests;
// e2e_loss_dpdk puts ternd on its lossy link with startTerndOnDpdk).
//
//   root ns                                   namespace tern-e2e-<tag>-<pid>
//   ternd, DPDK net_af_packet on te<pid>dh    te<pid>dn <media>.2  (media)
//     (<media>.1 answered by DPDK: ARP, UDP; the kernel has no address there)
//   page server on te<pid>ph <pages>.1        te<pid>pn <pages>.2  (HTTP)
//
//   const env = await startDpdkTernd(t, 'dpdk', {media: '198.18.72', pages: '198.18.73', http: true});
//   const ctx = await t.browser('ns', [t.secureOrigin(pageOrigin)], {netns: env.ns.name});
//   ...
//   const drv = await checkDpdkDriver(t, 300);   // rx/tx >= 300, ARP answered
//
// SkipError with the reason (the same in every test): not root, no
// ip/ethtool, no namespace or veth, ternd built without DPDK, the af_packet
// PMD did not start. The namespace and veths go on every exit (netns.mjs).
import {SkipError, check} from './harness.mjs';
import {Netns, requireRoot} from './netns.mjs';

// tag: [a-z]+ (netns.mjs reaps stale tern-e2e-<tag>-<pid> by that pattern).
// media, pages: the first three octets of two unused /24s in 198.18.0.0/15.
export async function startDpdkTernd(t, tag, {media, pages, http = false, workers = 1} = {}) {
  requireRoot(['ethtool']);
  const ns = Netns.create(tag);
  const mediaAddr = `${media}.1`;
  const pagesAddr = `${pages}.1`;
  // The DPDK end: no kernel address, no IPv6 (the kernel would answer ND for
  // the MAC-derived link-local address DPDK answers too).
  const link = ns.addVeth('d', {nsAddr: `${media}.2/24`, hostIpv6: false, nsChecksumOffload: false});
  ns.addVeth('p', {hostAddr: `${pagesAddr}/24`, nsAddr: `${pages}.2/24`});

  await startTerndOnDpdk(t, {ifname: link.hostIf, addr: mediaAddr, prefix: ns.name, http, workers});
  return {ns, mediaIf: link.hostIf, media: mediaAddr, pages: pagesAddr};
}

// ternd on DPDK net_af_packet on `ifname` (a root-namespace veth end with no
// kernel address), answering addr/24 there. prefix: a unique EAL file prefix.
// SkipError when ternd has no DPDK or the PMD does not start here.
export async function startTerndOnDpdk(t, {ifname, addr, prefix, http = false, workers = 1}) {
  const driverToml = `[driver]\nkind = "dpdk"\n\n[dpdk]\n` +
    `eal_args = ["--no-pci", "--no-huge", "--no-shconf", "-l", "0", "--file-prefix=${prefix}", ` +
    `"--log-level=lib.eal:error", "--vdev=net_af_packet0,iface=${ifname},qpairs=1"]\n` +
    `mbufs = 4095\nrx_desc = 512\ntx_desc = 512\nlink_wait_ms = 2000\n\n` +
    `[[dpdk.ports]]\nname = "net_af_packet0"\nipv4 = "${addr}/24"\n`;
  try {
    await t.startTernd({http, workers, driverToml});
  } catch (e) {
    if (e instanceof SkipError) throw e;
    const err = t.readLog('ternd');
    if (/built without DPDK/.test(err)) throw new SkipError(`ternd was built without DPDK: ${err.trim().split('\n').pop()}`);
    if (/net_af_packet|rte_eal_init|EAL|dpdk/i.test(err)) {
      throw new SkipError(`ternd on DPDK net_af_packet did not start here: ${err.trim().split('\n').slice(-3).join(' | ')}`);
    }
    throw e;
  }
  t.log(`ternd on DPDK net_af_packet0 (iface ${ifname}), ${addr}:${t.udpPort}`);
}

// stats.get's worker 0 driver counters: the DPDK queue carried >= minPackets
// each way and answered ARP. Returns the counters.
export async function checkDpdkDriver(t, minPackets) {
  const st = await t.ctl('stats.get');
  const drv = st.workers[0].driver;
  t.log(`stats.get worker 0 driver: ${JSON.stringify(drv)}`);
  check(drv.rx_packets >= minPackets && drv.tx_packets >= minPackets,
        `the DPDK queue carried only rx ${drv.rx_packets} / tx ${drv.tx_packets} packets, want >= ${minPackets} each`);
  check((drv.arp_replies || 0) > 0, `no ARP replies counted by the DPDK driver: ${JSON.stringify(drv)}`);
  return drv;
}

export function driverSummary(drv) {
  return `driver rx ${drv.rx_packets} tx ${drv.tx_packets} arp_replies ${drv.arp_replies} drops ${JSON.stringify(drv.drops)}`;
}

// The remote address:port of the selected candidate pair of the
// RTCPeerConnection at window[path[0]][path[1]]... on a page (['sub', 'pc'],
// ['demo', 'pub']); null before one is selected. Needs no tern_client.js.
export async function selectedRemote(page, path) {
  return page.evaluate(async (path) => {
    let pc = window;
    for (const k of path) pc = pc ? pc[k] : null;
    if (!pc) return null;
    const report = await pc.getStats();
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const r = report.get(pair.remoteCandidateId) || {};
    return `${r.address}:${r.port}`;
  }, path);
}

// Every page's selected pair (pcs: {label: [page, path]}) goes to ternd's
// DPDK address; returns {label: 'addr:port'}.
export async function checkPairsTo(t, addr, pcs) {
  const got = {};
  for (const [label, [page, path]] of Object.entries(pcs)) got[label] = await selectedRemote(page, path);
  t.log(`selected pairs: ${JSON.stringify(got)}`);
  for (const [label, r] of Object.entries(got)) {
    check(r && r.split(':')[0] === addr, `${label}: the selected pair is not to ternd's DPDK address ${addr}: ${r}`);
  }
  return got;
}
