// e2e (d): WHIP publisher + WHEP subscriber over a lossy link (5 % loss).
//
// Chromium runs in a network namespace of our own; its only link to ternd
// (in the root namespace) crosses a second namespace that forwards the
// frames between two veth pairs and drops 5 % of the UDP ones, both ways:
//
//   ns tern-e2e-lossc-<pid>      ns tern-e2e-lossl-<pid>             root ns
//   chromium  te<pid>cn ---- te<pid>cl [lossy_bridge.py] te<pid>sl ---- te<pid>sh
//             198.18.71.2                                                198.18.71.1
//                                                                        ternd (socket
//                                                                        driver), pages
//
// The loss is netem (`tc qdisc add dev <each bridge port> root netem loss
// 5%`) where the kernel has sch_netem, else the bridge's own random drop of
// UDP frames (tests/e2e/lib/lossy_bridge.py; ARP and the pages' TCP are not
// dropped). ternd's HTTP listener and control socket stay on loopback / a
// Unix socket (the harness proxies WHIP/WHEP). Once the subscriber decodes,
// loss goes on for 8 s:
//   - the subscriber keeps decoding (framesDecoded grows in both halves and
//     by >= 60 frames in all),
//   - ternd repairs: consumer.get (video) nack_in > 0 and rtx_out > 0 (the
//     subscriber's NACKs answered with RTX), producer.get (video)
//     nack_out > 0 (ternd NACKs the publisher's gaps).
// Needs root, `ip netns`, ethtool and python3: else SKIP with the reason.
// Only our namespaces see loss; they (and the veths) go on every exit.
import path from 'node:path';
import {E2E_DIR, Harness, check, sleep, waitFor} from './lib/harness.mjs';
import {Netns, requireRoot, run} from './lib/netns.mjs';

const ROOM = 'loss';
const HOST = '198.18.71.1';
const LOSS = 5;  // percent
const LOSS_MS = 8_000;

const t = await Harness.start('loss', {budgetMs: 82_000});
await t.run(async () => {
  requireRoot(['ethtool', 'python3']);
  const nsC = Netns.create('lossc');
  const nsL = Netns.create('lossl');
  const pid = process.pid;
  const hS = `te${pid}sh`, lS = `te${pid}sl`, lC = `te${pid}cl`, nC = `te${pid}cn`;
  Netns.vethBetween(hS, null, lS, nsL);
  Netns.vethBetween(lC, nsL, nC, nsC);
  run(['sysctl', '-qw', `net.ipv6.conf.${hS}.disable_ipv6=1`], {ignore: true});
  run(['ip', 'addr', 'add', `${HOST}/24`, 'dev', hS]);
  nsC.exec(['ip', 'addr', 'add', '198.18.71.2/24', 'dev', nC]);
  // Complete frames on the wire: the bridge reads and writes them as bytes.
  run(['ethtool', '-K', hS, 'tx', 'off', 'sg', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], {ignore: true});
  nsC.noOffloads(nC);
  nsL.noOffloads(lS);
  nsL.noOffloads(lC);

  const bridge = t.spawnLogged('bridge', 'ip', ['netns', 'exec', nsL.name, 'python3',
                                                path.join(E2E_DIR, 'lib', 'lossy_bridge.py'), lC, lS, String(LOSS)]);
  const up = await waitFor(() => bridge.exited || /bridging/.test(t.readLog('bridge', 'out')), 5_000, 100);
  check(up && !bridge.exited, `lossy_bridge.py did not start: ${t.readLog('bridge')}`);
  // netem where the kernel has it (each bridge port's egress: one per
  // direction), else the bridge drops.
  const netem = (how, loss) => [lS, lC].map((dev) => nsL.exec(['tc', 'qdisc', how, 'dev', dev, 'root', 'netem', 'loss', loss],
                                                               {ignore: how === 'add'}));
  const mode = netem('add', '0%').every((r) => r !== null) ? 'netem' : 'bridge';
  const setLoss = (on) => {
    if (mode === 'netem') netem('change', on ? `${LOSS}%` : '0%');
    else bridge.proc.kill(on ? 'SIGUSR1' : 'SIGUSR2');
  };
  t.log(`loss by ${mode === 'netem' ? 'tc netem' : 'lossy_bridge.py (no sch_netem in this kernel)'}`);

  await t.startTernd({http: true, addresses: [HOST]});
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  const base = await t.serve(HOST);
  const ctx = await t.browser('ns', [t.secureOrigin()], {netns: nsC.name});
  const pubPage = await t.page(ctx, 'publisher', base + 'client.html');
  const subPage = await t.page(ctx, 'subscriber', base + 'client.html');

  await pubPage.evaluate(async (room) => { window.pub = await tern.whipPublish(`/whip/${room}`); }, ROOM);
  await subPage.evaluate(async (room) => { window.sub = await tern.whepSubscribe(`/whep/${room}`); }, ROOM);
  const video = () => subPage.evaluate(async () => (await tern.inboundStats(window.sub.pc)).video[0]);
  let v0;
  const started = await waitFor(async () => (v0 = await video()) && v0.framesDecoded >= 30, 30_000, 500);
  const states = async () => `subscriber ${await subPage.evaluate(() => window.sub.pc.connectionState)}, ` +
                             `publisher ${await pubPage.evaluate(() => window.pub.pc.connectionState)}`;
  check(started, `before any loss the subscriber decoded ${v0 ? v0.framesDecoded : 'no video'} frames, want >= 30 (${await states()})`);
  const pair = await subPage.evaluate(() => tern.selectedPair(window.sub.pc));
  t.log(`decoding without loss: ${JSON.stringify(v0)}; subscriber pair ${JSON.stringify(pair)}`);
  check(pair && pair.remote.address === HOST, `the subscriber's media does not cross the veth: ${JSON.stringify(pair)}`);

  const room = await t.ctl('room.get', {room: ROOM});
  const prod = room.producers.find((p) => p.kind === 'video');
  const cons = room.consumers.find((c) => c.kind === 'video');
  check(prod && cons, `room.get has no video producer/consumer: ${JSON.stringify(room)}`);
  const stats = async () => ({
    p: (await t.ctl('producer.get', {id: prod.id})).stats,
    c: (await t.ctl('consumer.get', {id: cons.id})).stats,
  });
  const s0 = await stats();

  setLoss(true);
  t.log(`${LOSS}% loss both ways (${mode}) for ${LOSS_MS / 1000} s`);
  const f = [(await video()).framesDecoded];
  for (let i = 1; i <= 2; i++) {
    await sleep(LOSS_MS / 2);
    f.push((await video()).framesDecoded);
  }
  const v1 = await video();
  const s1 = await stats();
  const out = await pubPage.evaluate(async () => (await tern.outboundStats(window.pub.pc)).find((o) => o.kind === 'video'));
  setLoss(false);
  let link = '';
  if (mode === 'bridge') {
    await t.stopChild(bridge);
    link = `; bridge ${t.readLog('bridge', 'out').trim().split('\n').pop()}`;
  }
  const d = (o, k) => s1[o][k] - s0[o][k];
  const summary = `framesDecoded ${f.join(' -> ')}; subscriber packetsLost ${v1.packetsLost}, nackCount ${v1.nackCount}, ` +
                  `retransmitted received ${v1.retransmittedPacketsReceived}; publisher nackCount ${out && out.nackCount}, ` +
                  `retransmitted sent ${out && out.retransmittedPacketsSent}; ternd consumer nack_in ${s1.c.nack_in} ` +
                  `(+${d('c', 'nack_in')}), rtx_out ${s1.c.rtx_out} (+${d('c', 'rtx_out')}), nack_missed ${s1.c.nack_missed}, ` +
                  `pli_in ${s1.c.pli_in}; producer nack_out ${s1.p.nack_out} (+${d('p', 'nack_out')}), rtx_in ${s1.p.rtx_in} ` +
                  `(+${d('p', 'rtx_in')}), pli_out ${s1.p.pli_out}${link}`;
  t.log(summary);
  t.log(`consumer stats ${JSON.stringify(s1.c)}; producer stats ${JSON.stringify(s1.p)}`);
  check(f[1] > f[0] && f[2] > f[1], `decoding stalled under ${LOSS}% loss: ${summary} (${await states()})`);
  check(f[2] - f[0] >= 60, `only ${f[2] - f[0]} frames decoded in ${LOSS_MS / 1000} s of ${LOSS}% loss, want >= 60: ${summary}`);
  check(d('c', 'nack_in') > 0, `ternd counted no NACK from the subscriber under loss: ${summary}`);
  check(d('c', 'rtx_out') > 0, `ternd sent no RTX to the subscriber under loss: ${summary}`);
  check(d('p', 'nack_out') > 0, `ternd sent no NACK to the publisher under loss: ${summary}`);
  return summary;
});
