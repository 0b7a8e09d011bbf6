// A lossy link between chromium (in a namespace of its own) and ternd (in
// the root namespace), for the loss tests (e2e_loss, e2e_datachannel_loss and
// their _dpdk variants). A second namespace forwards the frames between two
// veth pairs and drops a share of the UDP ones, both ways:
//
//   ns tern-e2e-<tag>c-<pid>   ns tern-e2e-<tag>l-<pid>              root ns
//   chromium  te<pid>cn ---- te<pid>cl [lossy_bridge.py] te<pid>sl ---- te<pid>sh
//             <net>.2                                                 <net>.1
//
// Socket driver: te<pid>sh has <net>.1 and the pages are served there too
// (their TCP crosses the bridge, which never drops TCP). DPDK driver
// (`pages` given): te<pid>sh has no kernel address, DPDK's net_af_packet
// answers <net>.1 on it, and the pages go over a second veth pair straight
// from chromium's namespace (te<pid>ph <pages>.1 / te<pid>pn <pages>.2).
//
// The loss is netem (`tc qdisc ... netem loss N%` on both bridge ports'
// egress) where the kernel has sch_netem, else the bridge's own random drop
// (lib/lossy_bridge.py; ARP and TCP pass). It starts off: setLoss(true/false).
//
//   const link = await lossyLink(t, 'loss', {net: '198.18.71', loss: 5});
//   ... link.setLoss(true) ... link.setLoss(false) ...
//   const summary = await link.finish();   // '' or the bridge's counters
//
// SkipError unless root with ip, ethtool and python3. The namespaces and veths
// go on every exit (netns.mjs).
import path from 'node:path';
import {E2E_DIR, check, waitFor} from './harness.mjs';
import {Netns, requireRoot, run} from './netns.mjs';

// tag: [a-z]+; net, pages: the first three octets of unused /24s in 198.18.0.0/15.
export async function lossyLink(t, tag, {net, pages = null, loss}) {
  requireRoot(['ethtool', 'python3']);
  const nsC = Netns.create(`${tag}c`);
  const nsL = Netns.create(`${tag}l`);
  const pid = process.pid;
  const hS = `te${pid}sh`, lS = `te${pid}sl`, lC = `te${pid}cl`, nC = `te${pid}cn`;
  Netns.vethBetween(hS, null, lS, nsL);
  Netns.vethBetween(lC, nsL, nC, nsC);
  // No IPv6 on the root end: with DPDK there the kernel would answer ND for
  // the link-local address DPDK answers too.
  run(['sysctl', '-qw', `net.ipv6.conf.${hS}.disable_ipv6=1`], {ignore: true});
  if (!pages) run(['ip', 'addr', 'add', `${net}.1/24`, 'dev', hS]);
  nsC.exec(['ip', 'addr', 'add', `${net}.2/24`, 'dev', nC]);
  // Complete frames on the wire: the bridge (and DPDK's af_packet) read and
  // write them as bytes.
  run(['ethtool', '-K', hS, 'tx', 'off', 'sg', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], {ignore: true});
  nsC.noOffloads(nC);
  nsL.noOffloads(lS);
  nsL.noOffloads(lC);
  if (pages) nsC.addVeth('p', {hostAddr: `${pages}.1/24`, nsAddr: `${pages}.2/24`});

  const bridge = t.spawnLogged('bridge', 'ip', ['netns', 'exec', nsL.name, 'python3',
                                                path.join(E2E_DIR, 'lib', 'lossy_bridge.py'), lC, lS, String(loss)]);
  const up = await waitFor(() => bridge.exited || /bridging/.test(t.readLog('bridge', 'out')), 5_000, 100);
  check(up && !bridge.exited, `lossy_bridge.py did not start: ${t.readLog('bridge')}`);
  // netem where the kernel has it (each bridge port's egress: one per
  // direction), else the bridge drops.
  const netem = (how, pct) => [lS, lC].map((dev) => nsL.exec(['tc', 'qdisc', how, 'dev', dev, 'root', 'netem', 'loss', pct],
                                                              {ignore: how === 'add'}));
  const mode = netem('add', '0%').every((r) => r !== null) ? 'netem' : 'bridge';
  t.log(`loss by ${mode === 'netem' ? 'tc netem' : 'lossy_bridge.py (no sch_netem in this kernel)'}`);
  return {
    nsC,
    mode,
    hostIf: hS,
    host: `${net}.1`,
    pagesHost: pages ? `${pages}.1` : `${net}.1`,
    setLoss(on) {
      if (mode === 'netem') netem('change', on ? `${loss}%` : '0%');
      else bridge.proc.kill(on ? 'SIGUSR1' : 'SIGUSR2');
    },
    // Stops the bridge; returns its counters ('; bridge {...}') or ''.
    async finish() {
      if (mode !== 'bridge') return '';
      await t.stopChild(bridge);
      return `; bridge ${t.readLog('bridge', 'out').trim().split('\n').pop()}`;
    },
  };
}
