// e2e (c): simulcast. A WHIP publisher sends three VP8 encodings (rid q/h/f,
// scaleResolutionDownBy 4/2/1); a WHEP subscriber receives one of them. The
// operator switches the subscriber's consumer with
// `ternctl consumer.set_layer id=N layer=L` to 0, 2, then 1; after each
// switch the subscriber must keep decoding (>= 30 more frames), and its
// decoded frameWidth must become that layer's width as the publisher's own
// getStats reports it for that rid at that moment (q/h/f: 160/320/640).
//
// --driver dpdk (e2e_simulcast_dpdk): ternd on the DPDK driver, net_af_packet
// on a veth (198.18.76.1), chromium in a network namespace, the pages on a
// second veth (198.18.77.1); lib/dpdk_env.mjs, as e2e_dpdk. Also asserted
// then: both selected pairs go to 198.18.76.1, and the DPDK queue carried
// >= 300 packets each way and answered ARP. SKIPs as e2e_dpdk does.
import {Harness, check, parseArgs, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, checkPairsTo, driverSummary, startDpdkTernd} from './lib/dpdk_env.mjs';

const ROOM = 'sim';
const LAYERS = [0, 2, 1];
const RIDS = ['q', 'h', 'f'];
const DPDK = parseArgs(process.argv.slice(2)).driver === 'dpdk';
const t = await Harness.start(DPDK ? 'simulcast_dpdk' : 'simulcast', {budgetMs: 80_000});
await t.run(async () => {
  check(!t.args.driver || ['socket', 'dpdk'].includes(t.args.driver), `--driver ${t.args.driver}: socket or dpdk`);
  const env = DPDK ? await startDpdkTernd(t, 'dpdksim', {media: '198.18.76', pages: '198.18.77', http: true}) : null;
  if (!DPDK) await t.startTernd({http: true});
  if (DPDK) await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  await t.requireMethod('consumer.set_layer', {id: 1, layer: 0});
  const base = await t.serve(DPDK ? env.pages : '127.0.0.1');
  // Chromium limits the number of simulcast layers by resolution (two at
  // 640x480); this field trial lifts the limit so 640x480 carries all three
  // and the fake camera can stay small on two cores.
  const flags = ['--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/'];
  const ctx = DPDK ? await t.browser('a', [...flags, t.secureOrigin()], {netns: env.ns.name}) : await t.browser('a', flags);
  const pubPage = await t.page(ctx, 'publisher', base + 'client.html');
  const subPage = await t.page(ctx, 'subscriber', base + 'client.html');
  const video = {width: 640, height: 480};
  // A bandwidth floor for the publisher (x-google-min/start-bitrate in the
  // answer it applies): without it Chromium starts at 300 kbps and sends only
  // the lower layers until its estimate grows, which takes the feedback of a
  // congestion controller (TERN_E2E_NO_BITRATE_HINT=1 shows how far it gets).
  const hint = process.env.TERN_E2E_NO_BITRATE_HINT ? null : {min: 1000, start: 1500};
  const pubRes = await pubPage.evaluate(async ({room, video, hint}) => {
    window.pub = await tern.whipPublish(`/whip/${room}`, {simulcast: true, video, sendBitrateKbps: hint});
    return window.pub.resource;
  }, {room: ROOM, video, hint});
  t.log(`published: ${pubRes}`);
  const producers = (await t.ctl('room.get', {room: ROOM})).producers;
  t.log(`producers: ${JSON.stringify(producers)}`);

  // What Chromium sends per rid (it may drop layers on a busy CPU).
  let out;
  await waitFor(async () => {
    out = (await pubPage.evaluate(() => tern.outboundStats(window.pub.pc))).filter((s) => s.kind === 'video');
    return out.filter((s) => s.framesEncoded > 10).length === 3;
  }, 15_000, 500);
  t.log(`publisher sends: ${JSON.stringify(out)}`);
  const width = {};
  for (const s of out) width[s.rid] = s.frameWidth;
  check(out.filter((s) => s.framesEncoded > 10 && s.frameWidth > 0).length === 3,
        `publisher does not encode three layers: ${JSON.stringify(out)}`);

  const subRes = await subPage.evaluate(async (room) => {
    window.sub = await tern.whepSubscribe(`/whep/${room}`);
    return window.sub.resource;
  }, ROOM);
  t.log(`subscribed: ${subRes}`);
  const room = await t.ctl('room.get', {room: ROOM});
  const consumer = room.consumers.find((c) => c.kind === 'video');
  check(consumer, `no video consumer in room.get: ${JSON.stringify(room)}`);

  const stats = async () => (await subPage.evaluate(() => tern.inboundStats(window.sub.pc))).video[0] || {framesDecoded: 0};
  let v = {framesDecoded: 0};
  const first = await waitFor(async () => (v = await stats()).framesDecoded >= 30, 30_000, 500);
  check(first, `subscriber decoded ${v.framesDecoded} frames before any switch, want >= 30`);
  t.log(`before switching: ${JSON.stringify(v)}`);

  const results = [];
  for (const layer of LAYERS) {
    const res = await t.ternctl(['consumer.set_layer', `id=${consumer.id}`, `layer=${layer}`]);
    const f0 = (await stats()).framesDecoded;
    // The layer's width as the publisher encodes it now (under CPU pressure
    // Chromium may scale a layer down mid-test).
    let want = width[RIDS[layer]];
    const sendWidth = async () => {
      const o = await pubPage.evaluate(() => tern.outboundStats(window.pub.pc));
      const x = o.find((e) => e.kind === 'video' && e.rid === RIDS[layer]);
      return x ? x.frameWidth : 0;
    };
    // Frames keep decoding, and the decoded width settles on the layer's.
    let s = v;
    const moving = await waitFor(async () => (s = await stats()).framesDecoded >= f0 + 30, 20_000, 250);
    check(moving, `after set_layer ${layer}: framesDecoded ${f0} -> ${s.framesDecoded}, want +30 (${JSON.stringify(await t.ctl('consumer.get', {id: consumer.id}))})`);
    const sized = await waitFor(async () => {
      s = await stats();
      want = await sendWidth();
      return want > 0 && s.frameWidth === want;
    }, 10_000, 250);
    const cg = await t.ctl('consumer.get', {id: consumer.id});
    t.log(`set_layer ${layer} -> ${JSON.stringify(res)}; frames ${f0} -> ${s.framesDecoded}, width ${s.frameWidth} (rid ${RIDS[layer]} sends ${want}); consumer current_layer ${cg.current_layer}`);
    check(sized, `after set_layer ${layer}: decoded width ${s.frameWidth}, want ${want} (rid ${RIDS[layer]})`);
    check(cg.current_layer === layer, `after set_layer ${layer}: consumer.get current_layer ${cg.current_layer}`);
    results.push(`layer ${layer}: ${s.frameWidth}x${s.frameHeight}, +${s.framesDecoded - f0} frames`);
  }
  if (DPDK) {
    await checkPairsTo(t, env.media, {subscriber: [subPage, ['sub', 'pc']], publisher: [pubPage, ['pub', 'pc']]});
    results.push(`DPDK net_af_packet: ${driverSummary(await checkDpdkDriver(t, 300))}`);
  }
  return results.join('; ');
});
