// e2e (e): WHIP in, WHEP out (as e2e_whip_whep) with ternd on the DPDK
// driver: net_af_packet on the root end of a veth pair, chromium in a
// network namespace of our own on the other end.
//
//   root ns                                   namespace tern-e2e-dpdk-<pid>
//   ternd, DPDK net_af_packet on te<pid>dh    te<pid>dn 198.18.72.2  (media)
//     (198.18.72.1 answered by DPDK: ARP, UDP; the kernel has no address there)
//   page server on te<pid>ph 198.18.73.1      te<pid>pn 198.18.73.2  (HTTP)
//
// ternd's HTTP listener (WHIP/WHEP) and control socket are kernel sockets in
// the root namespace, reached through the harness's proxy. Asserted: the
// subscriber's selected candidate pair is to 198.18.72.1, >= 100 video frames
// decoded, audio packetsReceived grows over 2 s, both DELETEs 2xx and the
// room gone; stats.get shows the DPDK queue's rx/tx packets and ARP replies.
// SKIP with the reason: not root, no ip/ethtool, ternd built without DPDK,
// the af_packet PMD did not start. The namespace and veths go on every exit.
// The setup (and those skips) is lib/dpdk_env.mjs, shared with
// e2e_demo_room_dpdk and e2e_simulcast_dpdk.
import {Harness, check, sleep, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, checkPairsTo, driverSummary, startDpdkTernd} from './lib/dpdk_env.mjs';

const ROOM = 'dpdk';

const t = await Harness.start('dpdk', {budgetMs: 82_000});
await t.run(async () => {
  const env = await startDpdkTernd(t, 'dpdk', {media: '198.18.72', pages: '198.18.73', http: true});
  const MEDIA = env.media;
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  const base = await t.serve(env.pages);
  const ctx = await t.browser('ns', [t.secureOrigin()], {netns: env.ns.name});
  const pubPage = await t.page(ctx, 'publisher', base + 'client.html');
  const subPage = await t.page(ctx, 'subscriber', base + 'client.html');

  const pubRes = await pubPage.evaluate(async (room) => {
    window.pub = await tern.whipPublish(`/whip/${room}`);
    return window.pub.resource;
  }, ROOM);
  const room1 = await t.ctl('room.get', {room: ROOM});
  check(room1.producers.length >= 2, `room ${ROOM} has ${room1.producers.length} producers, want audio + video`);
  const subRes = await subPage.evaluate(async (room) => {
    window.sub = await tern.whepSubscribe(`/whep/${room}`);
    return window.sub.resource;
  }, ROOM);
  t.log(`published ${pubRes}, subscribed ${subRes}`);

  let last;
  const decoded = await waitFor(async () => {
    last = await subPage.evaluate(() => tern.inboundStats(window.sub.pc));
    return last.video[0] && last.video[0].framesDecoded >= 100;
  }, 45_000, 500);
  const states = `subscriber ${await subPage.evaluate(() => window.sub.pc.connectionState)}, ` +
                 `publisher ${await pubPage.evaluate(() => window.pub.pc.connectionState)}`;
  t.log(`subscriber stats: ${JSON.stringify(last)}; ${states}`);
  check(decoded, `subscriber decoded ${last.video[0] ? last.video[0].framesDecoded : 'no video stream'} frames, want >= 100 (${states})`);
  await checkPairsTo(t, MEDIA, {sub: [subPage, ['sub', 'pc']], pub: [pubPage, ['pub', 'pc']]});

  const a1 = (await subPage.evaluate(() => tern.inboundStats(window.sub.pc))).audio[0];
  check(a1, 'subscriber has no inbound audio stream');
  await sleep(2_000);
  const a2 = (await subPage.evaluate(() => tern.inboundStats(window.sub.pc))).audio[0];
  check(a2.packetsReceived > a1.packetsReceived, `audio packetsReceived did not grow (${a1.packetsReceived} -> ${a2.packetsReceived})`);

  const drv = await checkDpdkDriver(t, 300);

  const delSub = await subPage.evaluate((r) => tern.deleteResource(r), subRes);
  const delPub = await pubPage.evaluate((r) => tern.deleteResource(r), pubRes);
  check(delSub >= 200 && delSub < 300, `DELETE ${subRes}: HTTP ${delSub}`);
  check(delPub >= 200 && delPub < 300, `DELETE ${pubRes}: HTTP ${delPub}`);
  let after;
  const gone = await waitFor(async () => {
    try {
      after = await t.ctl('room.get', {room: ROOM});
      return after.sessions.length === 0;
    } catch (e) {
      after = e.message;
      return e.code === -32002;
    }
  }, 5_000, 200);
  check(gone, `after DELETE, room.get still shows: ${JSON.stringify(after)}`);
  return `DPDK net_af_packet: video framesDecoded ${last.video[0].framesDecoded} ` +
         `(${last.video[0].frameWidth}x${last.video[0].frameHeight}), audio packets ${a1.packetsReceived} -> ` +
         `${a2.packetsReceived}, ${driverSummary(drv)}`;
});
