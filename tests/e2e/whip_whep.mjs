// e2e (a): WHIP in, WHEP out, through ternd's HTTP gateway and the SFU.
//
// Page A publishes Chromium's fake camera + microphone with WHIP into room
// r1; page B subscribes with WHEP. Asserted from B's getStats: video
// framesDecoded >= 100, audio packetsReceived growing between two samples
// 2 s apart. Then both resources are DELETEd and ternd's room.get must show
// the sessions gone (the room, made by the publish, closes with its last
// session) and session.get of both must answer -32002 (not found).
import {Harness, check, sleep, waitFor} from './lib/harness.mjs';

const ROOM = 'r1';
const t = await Harness.start('whip_whep', {budgetMs: 80_000});
await t.run(async () => {
  await t.startTernd({http: true});
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  const base = await t.serve();
  const ctx = await t.browser('a');
  const pubPage = await t.page(ctx, 'publisher', base + 'client.html');
  const subPage = await t.page(ctx, 'subscriber', base + 'client.html');

  const pubRes = await pubPage.evaluate(async (room) => {
    window.pub = await tern.whipPublish(`/whip/${room}`);
    return window.pub.resource;
  }, ROOM);
  t.log(`published: ${pubRes}`);
  const room1 = await t.ctl('room.get', {room: ROOM});
  t.log(`room.get after publish: ${JSON.stringify(room1)}`);
  check(room1.producers.length >= 2, `room ${ROOM} has ${room1.producers.length} producers, want audio + video`);

  const subRes = await subPage.evaluate(async (room) => {
    window.sub = await tern.whepSubscribe(`/whep/${room}`);
    return window.sub.resource;
  }, ROOM);
  t.log(`subscribed: ${subRes}`);

  // Video: at least 100 frames decoded (~4 s of the fake camera at 30 fps).
  let last;
  const decoded = await waitFor(async () => {
    last = await subPage.evaluate(() => tern.inboundStats(window.sub.pc));
    const v = last.video[0];
    return v && v.framesDecoded >= 100;
  }, 45_000, 500);
  const subState = await subPage.evaluate(() => window.sub.pc.connectionState);
  const pubStates = await pubPage.evaluate(() => window.pub.pc.connectionState);
  t.log(`subscriber stats: ${JSON.stringify(last)}; subscriber ${subState}, publisher ${pubStates}`);
  check(decoded, `subscriber decoded ${last.video[0] ? last.video[0].framesDecoded : 'no video stream'} frames, want >= 100 ` +
                 `(subscriber ${subState}, publisher ${pubStates})`);

  // Audio: packetsReceived grows between two samples.
  const a1 = (await subPage.evaluate(() => tern.inboundStats(window.sub.pc))).audio[0];
  check(a1, 'subscriber has no inbound audio stream');
  await sleep(2_000);
  const a2 = (await subPage.evaluate(() => tern.inboundStats(window.sub.pc))).audio[0];
  t.log(`audio packetsReceived ${a1.packetsReceived} -> ${a2.packetsReceived}`);
  check(a2.packetsReceived > a1.packetsReceived, `audio packetsReceived did not grow (${a1.packetsReceived} -> ${a2.packetsReceived})`);

  const room2 = await t.ctl('room.get', {room: ROOM});
  check(room2.sessions.length === 2, `room.get shows ${room2.sessions.length} sessions, want 2: ${JSON.stringify(room2)}`);
  check(room2.consumers.length >= 2, `room.get shows ${room2.consumers.length} consumers, want >= 2`);

  // Tear down through WHIP/WHEP DELETE; ternd must forget both sessions.
  const delSub = await subPage.evaluate((r) => tern.deleteResource(r), subRes);
  const delPub = await pubPage.evaluate((r) => tern.deleteResource(r), pubRes);
  t.log(`DELETE: subscriber ${delSub}, publisher ${delPub}`);
  check(delSub >= 200 && delSub < 300, `DELETE ${subRes}: HTTP ${delSub}`);
  check(delPub >= 200 && delPub < 300, `DELETE ${pubRes}: HTTP ${delPub}`);
  let after;
  const gone = await waitFor(async () => {
    try {
      after = await t.ctl('room.get', {room: ROOM});
      return after.sessions.length === 0 && after.producers.length === 0 && after.consumers.length === 0;
    } catch (e) {
      after = e.message;
      return e.code === -32002;  // the room closed with its last session
    }
  }, 5_000, 200);
  check(gone, `after DELETE, room.get still shows: ${JSON.stringify(after)}`);
  for (const sid of room2.sessions) {
    const err = await t.ctl('session.get', {session_id: sid}).then(() => null, (e) => e);
    check(err && err.code === -32002, `session.get ${sid} after DELETE: ${err ? err.message : 'still there'}`);
  }
  const list = await t.ctl('room.list');
  t.log(`room.list after DELETE: ${JSON.stringify(list)}`);
  const again = await subPage.evaluate((r) => tern.deleteResource(r), subRes);
  check(again === 404, `second DELETE ${subRes}: HTTP ${again}, want 404`);
  return `video framesDecoded ${last.video[0].framesDecoded} (${last.video[0].frameWidth}x${last.video[0].frameHeight}), ` +
         `audio packets ${a1.packetsReceived} -> ${a2.packetsReceived}, sessions gone after DELETE`;
});
