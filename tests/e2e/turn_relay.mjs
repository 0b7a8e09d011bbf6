// e2e (f): a publisher that may only use TURN relay candidates, relayed by
// ternd's own TURN server into ternd's SFU.
//
// ternd runs with [turn] enabled (REST secret, relay ports on 127.0.0.1,
// allow_peers = ["127.0.0.0/8"]: the relayed peer is ternd's own media
// address 127.0.0.1:<base_port>). The publisher page gets its RTCIceServer
// from `ternctl turn.credentials` and sets iceTransportPolicy 'relay', then
// publishes with WHIP; a normal subscriber (host candidates) uses WHEP.
// Asserted: the publisher's selected pair has a local 'relay' candidate; the
// subscriber decodes >= 100 video frames; ternd's stats.get counts
// ChannelData / relayed traffic, and its final counters (SIGTERM) show
// packets relayed to peers.
//
// ternd's TURN server accepts its own media endpoints as peers (never its
// relayed ports): a 403 to CreatePermission here is a regression and fails.
import {Harness, check, waitFor} from './lib/harness.mjs';

const ROOM = 'turn';

const t = await Harness.start('turn_relay', {budgetMs: 80_000});
await t.run(async () => {
  // Relayed ports below Linux's ephemeral range, so they rarely collide
  // (ternd skips busy ones anyway); the base port is ephemeral, outside.
  const relay = 20000 + 100 * Math.floor(Math.random() * 100);
  const turnToml = `[turn]\nenabled = true\nrealm = "tern.e2e"\nrest_secrets = ["e2e-rest-secret"]\n` +
                   `relay_ports = [${relay}, ${relay + 99}]\nallow_peers = ["127.0.0.0/8"]\n`;
  await t.startTernd({http: true, extraToml: turnToml});
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  await t.requireMethod('turn.credentials', {user: 'probe'});
  const cred = await t.ternctl(['turn.credentials', 'user=e2e-publisher', 'ttl_s=600']);
  t.log(`turn.credentials: ${JSON.stringify(cred)}; relay ports ${relay}-${relay + 99}`);
  check(cred.uris && cred.uris.length > 0, `turn.credentials gave no URIs: ${JSON.stringify(cred)}`);

  const base = await t.serve();
  const ctx = await t.browser('a');
  const pubPage = await t.page(ctx, 'publisher', base + 'client.html');
  const subPage = await t.page(ctx, 'subscriber', base + 'client.html');
  const pcConfig = {
    iceServers: [{urls: cred.uris, username: cred.username, credential: cred.password}],
    iceTransportPolicy: 'relay',
  };
  await pubPage.evaluate(async ({room, pcConfig}) => {
    window.pub = await tern.whipPublish(`/whip/${room}`, {pcConfig, gatherMs: 5000});
  }, {room: ROOM, pcConfig});
  const offer = await pubPage.evaluate(() => window.pub.pc.localDescription.sdp);
  const cands = offer.split('\r\n').filter((l) => l.startsWith('a=candidate'));
  t.log(`publisher offer candidates: ${JSON.stringify(cands)}`);
  check(cands.length > 0 && cands.every((c) => / typ relay /.test(c)),
        `the publisher gathered no relay candidate from ${cred.uris.join(', ')} (or not only relay): ${JSON.stringify(cands)}`);

  let pubState;
  const connected = await waitFor(async () => {
    pubState = await pubPage.evaluate(() => window.pub.pc.connectionState);
    return pubState === 'connected' || pubState === 'failed';
  }, 30_000, 250);
  const pubPair = await pubPage.evaluate(() => tern.selectedPair(window.pub.pc));
  const st0 = await t.ctl('stats.get');
  t.log(`publisher ${pubState}, pair ${JSON.stringify(pubPair)}; stats.get classes ${JSON.stringify(st0.workers[0].classes)}`);
  if (pubState !== 'connected') {
    // ternd's final counters say what the TURN server answered (403s etc.).
    await t.stopChild(t.terndRec);
    const turnLines = t.readLog('ternd', 'out').split('\n').filter((l) => /turn|drops/i.test(l)).map((l) => l.trim());
    t.log(`ternd final counters (TURN): ${turnLines.join(' | ')}`);
  }
  check(connected && pubState === 'connected',
        `the relay-only publisher is ${pubState} (ternd relays to its own media address 127.0.0.1:${t.udpPort}); ` +
        `stats.get classes ${JSON.stringify(st0.workers[0].classes)}, drops ${JSON.stringify(st0.workers[0].drops)}`);
  check(pubPair && pubPair.local.type === 'relay', `the publisher's selected pair is not relayed: ${JSON.stringify(pubPair)}`);

  await subPage.evaluate(async (room) => { window.sub = await tern.whepSubscribe(`/whep/${room}`); }, ROOM);
  let last;
  const decoded = await waitFor(async () => {
    last = await subPage.evaluate(() => tern.inboundStats(window.sub.pc));
    return last.video[0] && last.video[0].framesDecoded >= 100;
  }, 40_000, 500);
  const subState = await subPage.evaluate(() => window.sub.pc.connectionState);
  t.log(`subscriber ${subState}: ${JSON.stringify(last)}`);
  check(decoded, `subscriber decoded ${last.video[0] ? last.video[0].framesDecoded : 'no video stream'} frames, want >= 100 ` +
                 `(subscriber ${subState}, publisher ${pubState})`);

  const st = await t.ctl('stats.get');
  const cls = st.workers[0].classes;
  t.log(`stats.get worker 0: classes ${JSON.stringify(cls)}, drops ${JSON.stringify(st.workers[0].drops)}`);
  check(cls.channel_data >= 100, `stats.get counts ${cls.channel_data} ChannelData packets from the relayed publisher, want >= 100`);

  // The TURN relay counters are in ternd's final counters (stats.get has none).
  await t.stopChild(t.terndRec);
  const out = t.readLog('ternd', 'out');
  const toPeers = Number((/turn relay: to peers (\d+) packets/.exec(out) || [])[1]);
  const toClients = Number((/to clients (\d+) packets/.exec(out) || [])[1]);
  t.log(`ternd final: ${out.split('\n').filter((l) => /turn/.test(l)).join(' | ')}`);
  check(toPeers >= 100, `ternd's final counters show ${toPeers} packets relayed to peers, want >= 100`);
  return `publisher relayed (${pubPair.local.address}:${pubPair.local.port} -> ${pubPair.remote.address}:${pubPair.remote.port}); ` +
         `subscriber framesDecoded ${last.video[0].framesDecoded}; stats.get channel_data ${cls.channel_data}; ` +
         `turn relay to peers ${toPeers}, to clients ${toClients}`;
});
