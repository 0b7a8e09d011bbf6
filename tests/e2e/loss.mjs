// e2e (d): WHIP publisher + WHEP subscriber over a lossy link (5 % loss).
//
// Chromium runs in a network namespace of our own; its only media path to
// ternd (in the root namespace) crosses a second namespace that forwards the
// frames and drops 5 % of the UDP ones, both ways (lib/lossy_link.mjs: tc
// netem where the kernel has sch_netem, else lib/lossy_bridge.py). Once the
// subscriber decodes, loss goes on for 8 s:
//   - the subscriber keeps decoding (framesDecoded grows in both halves and
//     by >= 60 frames in all),
//   - ternd repairs: consumer.get (video) nack_in > 0 and rtx_out > 0 (the
//     subscriber's NACKs answered with RTX), producer.get (video)
//     nack_out > 0 (ternd NACKs the publisher's gaps).
// --driver dpdk (e2e_loss_dpdk): ternd on DPDK net_af_packet on the root end
// of the lossy link (no kernel address there), the pages over a veth of
// their own; also checks the DPDK queue carried the media.
// Needs root, `ip netns`, ethtool and python3: else SKIP with the reason.
// Only our namespaces see loss; they (and the veths) go on every exit.
import {Harness, check, parseArgs, sleep, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, driverSummary, startTerndOnDpdk} from './lib/dpdk_env.mjs';
import {lossyLink} from './lib/lossy_link.mjs';

const ROOM = 'loss';
const DPDK = parseArgs(process.argv.slice(2)).driver === 'dpdk';
const LOSS = 5;  // percent
const LOSS_MS = 8_000;

const t = await Harness.start(DPDK ? 'loss_dpdk' : 'loss', {budgetMs: 82_000});
await t.run(async () => {
  const link = DPDK ? await lossyLink(t, 'dpdkloss', {net: '198.18.80', pages: '198.18.81', loss: LOSS})
                   : await lossyLink(t, 'loss', {net: '198.18.71', loss: LOSS});
  const HOST = link.host;
  if (DPDK) await startTerndOnDpdk(t, {ifname: link.hostIf, addr: HOST, prefix: link.nsC.name, http: true});
  else await t.startTernd({http: true, addresses: [HOST]});
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  const base = await t.serve(link.pagesHost);
  const ctx = await t.browser('ns', [t.secureOrigin()], {netns: link.nsC.name});
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

  link.setLoss(true);
  t.log(`${LOSS}% loss both ways (${link.mode}) for ${LOSS_MS / 1000} s`);
  const f = [(await video()).framesDecoded];
  for (let i = 1; i <= 2; i++) {
    await sleep(LOSS_MS / 2);
    f.push((await video()).framesDecoded);
  }
  const v1 = await video();
  const s1 = await stats();
  const out = await pubPage.evaluate(async () => (await tern.outboundStats(window.pub.pc)).find((o) => o.kind === 'video'));
  link.setLoss(false);
  const bridgeSummary = await link.finish();
  const drv = DPDK ? await checkDpdkDriver(t, 300) : null;
  const d = (o, k) => s1[o][k] - s0[o][k];
  const summary = `framesDecoded ${f.join(' -> ')}; subscriber packetsLost ${v1.packetsLost}, nackCount ${v1.nackCount}, ` +
                  `retransmitted received ${v1.retransmittedPacketsReceived}; publisher nackCount ${out && out.nackCount}, ` +
                  `retransmitted sent ${out && out.retransmittedPacketsSent}; ternd consumer nack_in ${s1.c.nack_in} ` +
                  `(+${d('c', 'nack_in')}), rtx_out ${s1.c.rtx_out} (+${d('c', 'rtx_out')}), nack_missed ${s1.c.nack_missed}, ` +
                  `pli_in ${s1.c.pli_in}; producer nack_out ${s1.p.nack_out} (+${d('p', 'nack_out')}), rtx_in ${s1.p.rtx_in} ` +
                  `(+${d('p', 'rtx_in')}), pli_out ${s1.p.pli_out}${bridgeSummary}` +
                  (DPDK ? `; DPDK net_af_packet: ${driverSummary(drv)}` : '');
  t.log(summary);
  t.log(`consumer stats ${JSON.stringify(s1.c)}; producer stats ${JSON.stringify(s1.p)}`);
  check(f[1] > f[0] && f[2] > f[1], `decoding stalled under ${LOSS}% loss: ${summary} (${await states()})`);
  check(f[2] - f[0] >= 60, `only ${f[2] - f[0]} frames decoded in ${LOSS_MS / 1000} s of ${LOSS}% loss, want >= 60: ${summary}`);
  check(d('c', 'nack_in') > 0, `ternd counted no NACK from the subscriber under loss: ${summary}`);
  check(d('c', 'rtx_out') > 0, `ternd sent no RTX to the subscriber under loss: ${summary}`);
  check(d('p', 'nack_out') > 0, `ternd sent no NACK to the publisher under loss: ${summary}`);
  return summary;
});
