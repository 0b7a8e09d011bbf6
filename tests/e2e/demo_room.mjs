// e2e (b): three participants in one room through the demo signaling service
// (examples/demo/server.py driving ternd's session.* over the control socket).
//
// Three pages open the demo page in room e2e, one after another; each
// publishes its fake camera + microphone and must end up decoding both
// others: per remote participant video framesDecoded >= 50 and audio
// packets arriving, read from the page's own subscription (window.demo). The
// pages use 320x240 video (?video=small): three encoders and six decoders
// share two cores. Then one page closes and the others must drop its tile.
//
// --driver dpdk (e2e_demo_room_dpdk): ternd on the DPDK driver, net_af_packet
// on a veth (198.18.74.1), chromium in a network namespace, the demo service
// on the pages veth (198.18.75.1); lib/dpdk_env.mjs, as e2e_dpdk. Also
// asserted then: every page's publish and subscribe pair goes to
// 198.18.74.1, and the DPDK queue carried >= 300 packets each way and
// answered ARP. SKIPs as e2e_dpdk does (root, ethtool, a DPDK build).
import {Harness, check, parseArgs, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, checkPairsTo, driverSummary, startDpdkTernd} from './lib/dpdk_env.mjs';

const ROOM = 'e2e';
const NAMES = ['ann', 'bob', 'cy'];
const DPDK = parseArgs(process.argv.slice(2)).driver === 'dpdk';
const t = await Harness.start(DPDK ? 'demo_room_dpdk' : 'demo_room', {budgetMs: 80_000});
await t.run(async () => {
  const serverPy = t.args.demo;
  check(serverPy, 'no --demo path to examples/demo/server.py');
  check(!t.args.driver || ['socket', 'dpdk'].includes(t.args.driver), `--driver ${t.args.driver}: socket or dpdk`);
  const env = DPDK ? await startDpdkTernd(t, 'dpdkroom', {media: '198.18.74', pages: '198.18.75'}) : null;
  if (!DPDK) await t.startTernd();
  await t.requireMethod('session.publish', {room: ROOM, offer: ''});
  const url = await t.startDemo(serverPy, DPDK ? env.pages : '127.0.0.1');
  const ctx = DPDK ? await t.browser('room', [t.secureOrigin(url)], {netns: env.ns.name}) : await t.browser('room');
  const pages = {};
  for (const name of NAMES) {
    pages[name] = await t.page(ctx, name, `${url}?room=${ROOM}&name=${name}&video=small`);
    const pid = await waitFor(() => pages[name].evaluate(() => window.demo.pid || window.demo.errors[0]), 20_000, 200);
    check(pid && !/error|HTTP|:/.test(pid), `${name} did not join: ${pid}`);
    t.log(`${name} joined as ${pid}`);
  }

  // Everybody decodes everybody else.
  let seen = {};
  const ok = await waitFor(async () => {
    let all = true;
    for (const name of NAMES) {
      const s = await pages[name].evaluate(() => window.demo.stats());
      seen[name] = s;
      for (const other of NAMES) {
        if (other === name) continue;
        const x = s[other];
        if (!x || x.framesDecoded < 50 || x.audioPackets <= 0) all = false;
      }
    }
    return all;
  }, 50_000, 1000);
  t.log(`per page, per remote participant: ${JSON.stringify(seen)}`);
  const errors = {};
  for (const name of NAMES) errors[name] = await pages[name].evaluate(() => window.demo.errors);
  check(ok, `not every page decodes both others (framesDecoded >= 50, audio packets > 0): ${JSON.stringify(seen)}; page errors ${JSON.stringify(errors)}`);

  // Chat over data channels through ternd: each page says hello (typed into
  // the chat box), every other page shows it.
  for (const name of NAMES) {
    const sent = await waitFor(() => pages[name].evaluate((n) => {
      if (document.getElementById('chatsend').disabled) return false;
      document.getElementById('chattext').value = `hello from ${n}`;
      document.getElementById('chatsend').click();
      return true;
    }, name), 10_000, 200);
    check(sent, `${name}: the chat box never enabled (its "chat" channel did not open)`);
  }
  let chats = {};
  const chatted = await waitFor(async () => {
    for (const name of NAMES) chats[name] = await pages[name].evaluate(() => window.demo.chat.log.map((m) => `${m.from}: ${m.text}`));
    return NAMES.every((n) => NAMES.every((o) => o === n || chats[n].includes(`${o}: hello from ${o}`)));
  }, 10_000, 200);
  t.log(`chat logs: ${JSON.stringify(chats)}`);
  check(chatted, `not every page shows both others' chat messages: ${JSON.stringify(chats)}`);

  const room = await t.ctl('room.get', {room: ROOM});
  t.log(`room.get: ${room.sessions.length} sessions, ${room.producers.length} producers, ${room.consumers.length} consumers`);
  check(room.producers.length === 6, `room has ${room.producers.length} producers, want 6 (3 x audio + video)`);
  check(room.consumers.length === 12, `room has ${room.consumers.length} consumers, want 12 (3 x 2 others x 2)`);
  let drv = null;
  if (DPDK) {
    const pcs = {};
    for (const name of NAMES) {
      pcs[`${name} publish`] = [pages[name], ['demo', 'pub']];
      pcs[`${name} subscribe`] = [pages[name], ['demo', 'sub']];
    }
    await checkPairsTo(t, env.media, pcs);
    drv = await checkDpdkDriver(t, 300);
  }

  if (process.env.TERN_E2E_KEEP) await t.saveArtifacts();  // screenshots of the full room
  // cy leaves (tab closed): the others drop its tile, ternd drops its sessions.
  await pages.cy.close();
  const left = await waitFor(async () => {
    for (const name of ['ann', 'bob']) {
      const tiles = await pages[name].evaluate(() => Object.values(window.demo.tiles).map((x) => x.caption.textContent));
      if (tiles.includes('cy') || tiles.length !== 1) return false;
    }
    const r = await t.ctl('room.get', {room: ROOM});
    return r.producers.length === 4 && r.consumers.length === 4;
  }, 15_000, 500);
  const after = await t.ctl('room.get', {room: ROOM});
  check(left, `after cy left: room has ${after.producers.length} producers / ${after.consumers.length} consumers (want 4 / 4), or a page still shows cy`);
  const summary = NAMES.map((n) => `${n}: ${NAMES.filter((o) => o !== n).map((o) => `${o} ${seen[n][o].framesDecoded}f`).join(', ')}`).join('; ');
  return `3 participants, each decodes both others (${summary}); chat over data channels reached both others; leave handled` +
         (DPDK ? `; DPDK net_af_packet: ${driverSummary(drv)}` : '');
});
