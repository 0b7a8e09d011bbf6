// e2e data channels: two Chromium pages exchange messages through ternd's
// SCTP relay (engine/sctp, engine/sfu/data_router), both directions.
//
// Page A publishes (WHIP, microphone only) with three channels it opens:
// "ordered", "unordered" ({ordered: false}) and "closeme". Page B subscribes
// (WHEP, audio) and opens "fromb". tern opens each one on the other page
// (same label, ordering). Asserted:
//   - B gets ordered/unordered/closeme with A's settings, A gets fromb;
//   - on ordered and unordered, A -> B and then B -> A, a batch of text and
//     binary messages of 0, 1, 2, 100, 1200, 16 KiB, 64 KiB +-1, 128 KiB and
//     256 KiB (the max-message-size tern answers) arrives exactly once with
//     every byte and its kind (PPID) right; on "ordered" in send order;
//   - A closes "closeme": B's leg closes;
//   - the control socket: datachannel.send text and binary into B's "fromb"
//     arrive on B; a message B sends arrives as a datachannel.message event
//     naming B's transport, and at A (relayed);
//   - the datachannel.open events name both transports.
// --driver dpdk (e2e_datachannel_dpdk): the same with ternd on the DPDK
// driver, chromium in a namespace (lib/dpdk_env.mjs, as e2e_dpdk).
import {Harness, check, parseArgs, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, driverSummary, startDpdkTernd} from './lib/dpdk_env.mjs';

const ROOM = 'dc';
const DPDK = parseArgs(process.argv.slice(2)).driver === 'dpdk';
const SIZES = [0, 1, 2, 100, 1200, 16384, 65535, 65536, 65537, 131072, 262144];
const BATCH = [...SIZES.map((size) => ({kind: 'text', size})), ...SIZES.map((size) => ({kind: 'binary', size}))];
const BATCH_BYTES = BATCH.reduce((n, s) => n + s.size, 0);

const t = await Harness.start(DPDK ? 'datachannel_dpdk' : 'datachannel', {budgetMs: 80_000});
await t.run(async () => {
  const env = DPDK ? await startDpdkTernd(t, 'dpdkdc', {media: '198.18.78', pages: '198.18.79', http: true}) : null;
  if (!DPDK) await t.startTernd({http: true});
  await t.requireMethod('datachannel.send', {});
  const events = await t.subscribe(['datachannel.open', 'datachannel.close', 'datachannel.message', 'datachannel.error']);
  const base = await t.serve(DPDK ? env.pages : '127.0.0.1');
  const ctx = DPDK ? await t.browser('ns', [t.secureOrigin()], {netns: env.ns.name}) : await t.browser('a');
  const a = await t.page(ctx, 'a', base + 'client.html');
  const b = await t.page(ctx, 'b', base + 'client.html');

  const aRes = await a.evaluate(async (room) => {
    window.pub = await tern.whipPublish(`/whip/${room}`, {
      video: false,
      dataChannels: [['ordered', {protocol: 'tern-test'}], ['unordered', {ordered: false}], ['closeme', {}]],
    });
    return window.pub.resource;
  }, ROOM);
  const bRes = await b.evaluate(async (room) => {
    window.sub = await tern.whepSubscribe(`/whep/${room}`, {kinds: ['audio'], dataChannels: [['fromb', {}]]});
    return window.sub.resource;
  }, ROOM);
  t.log(`A published ${aRes}, B subscribed ${bRes}`);
  const sessionOf = (res) => new URL(res).pathname.split('/').pop();
  const aTransport = (await t.ctl('session.get', {session_id: sessionOf(aRes)})).transport.id;
  const bTransport = (await t.ctl('session.get', {session_id: sessionOf(bRes)})).transport.id;

  const opened = await waitFor(async () => {
    const sa = await a.evaluate(() => ternData.state());
    const sb = await b.evaluate(() => ternData.state());
    return ['ordered', 'unordered', 'closeme', 'fromb'].every((l) => sa[l] === 'open' && sb[l] === 'open') && {sa, sb};
  }, 30_000, 250);
  check(opened, `channels not open on both pages: A ${JSON.stringify(await a.evaluate(() => ternData.state()))}, ` +
                `B ${JSON.stringify(await b.evaluate(() => ternData.state()))}`);
  const legs = await b.evaluate(() => Object.fromEntries(Object.entries(ternData.channels).map(
      ([l, c]) => [l, {ordered: c.ordered, protocol: c.protocol, maxRetransmits: c.maxRetransmits}])));
  t.log(`B's channels: ${JSON.stringify(legs)}`);
  check(legs.ordered.ordered && legs.ordered.protocol === 'tern-test', `B's "ordered" leg: ${JSON.stringify(legs.ordered)}`);
  check(!legs.unordered.ordered, `B's "unordered" leg is ordered`);
  const openEv = (tr, label) => events.events.find((e) => e.topic === 'datachannel.open' && e.data.transport_id === tr && e.data.label === label);
  // Events come through the worker's event ring and the control thread: they
  // may trail the pages' view by a moment.
  const haveOpen = await waitFor(() => openEv(aTransport, 'ordered') && openEv(bTransport, 'ordered') &&
                                       openEv(aTransport, 'fromb'), 5_000, 100);
  check(haveOpen,
        `datachannel.open events missing: ${JSON.stringify(events.events.filter((e) => e.topic === 'datachannel.open').map((e) => e.data))}`);

  // Batches both ways on both channels, every byte checked.
  const results = [];
  for (const label of ['ordered', 'unordered']) {
    for (const [from, to, name] of [[a, b, 'A->B'], [b, a, 'B->A']]) {
      const seed = results.length + 1;
      const start = await to.evaluate((l) => ternData.count(l), label);
      const t0 = Date.now();
      await from.evaluate(({label, batch, seed}) => ternData.sendBatch(label, batch, seed), {label, batch: BATCH, seed});
      let v;
      await waitFor(async () => {
        v = await to.evaluate(({label, batch, seed, start}) => ternData.verify(label, batch, seed, {ordered: label === 'ordered', from: start}),
                              {label, batch: BATCH, seed, start});
        return v.ok || v.problems.length > 0 || v.received >= BATCH.length;
      }, 30_000, 250);
      const ms = Date.now() - t0;
      t.log(`${label} ${name}: ${JSON.stringify(v)} in ${ms} ms`);
      check(v.ok, `${label} ${name}: ${v.received}/${BATCH.length} messages, missing ${JSON.stringify(v.missing)}, problems ${JSON.stringify(v.problems)}`);
      results.push(`${label} ${name} ${BATCH.length} msgs ${(BATCH_BYTES / 1024).toFixed(0)} KiB ${ms} ms` +
                   (label === 'unordered' ? ` (${v.outOfOrder} reordered)` : ''));
    }
  }

  // A closes "closeme": B's leg closes.
  await a.evaluate(() => ternData.channels.closeme.close());
  const closed = await waitFor(() => b.evaluate(() => !!ternData.closed.closeme), 10_000, 200);
  check(closed, `B's "closeme" did not close after A closed it (state ${JSON.stringify(await b.evaluate(() => ternData.state()))})`);
  check(await b.evaluate(() => ternData.open('ordered')), 'closing "closeme" closed B\'s "ordered" too');

  // Control plane -> browser, and browser -> control plane.
  const hello = 'hello from the control plane ✓';
  const bin = Buffer.from([0, 1, 2, 254, 255]);
  const before = await b.evaluate(() => ternData.count('fromb'));
  const q = await t.ctl('datachannel.send', {transport_id: bTransport, label: 'fromb', text: hello});
  check(q.queued, `datachannel.send: ${JSON.stringify(q)}`);
  const gotText = await waitFor(async () => (await b.evaluate(() => ternData.count('fromb'))) > before &&
                                            b.evaluate(() => ternData.last('fromb')), 5_000, 100);
  check(gotText && gotText.text === hello, `B got ${JSON.stringify(gotText)} on "fromb", want the control plane's text`);
  await t.ctl('datachannel.send', {transport_id: bTransport, label: 'fromb', binary_b64: bin.toString('base64')});
  const gotBin = await waitFor(async () => (await b.evaluate(() => ternData.count('fromb'))) > before + 1 &&
                                           b.evaluate(() => ternData.last('fromb')), 5_000, 100);
  check(gotBin && gotBin.binary_b64 === bin.toString('base64'), `B got ${JSON.stringify(gotBin)}, want binary ${bin.toString('base64')}`);

  const aBefore = await a.evaluate(() => ternData.count('fromb'));
  await b.evaluate(() => ternData.channels.fromb.send('hi control plane'));
  const ev = await events.waitFor((e) => e.topic === 'datachannel.message' && e.data.transport_id === bTransport &&
                                         e.data.text === 'hi control plane', 5_000);
  check(ev, `no datachannel.message event from B's transport ${bTransport}: ${JSON.stringify(events.events.filter((e) => e.topic === 'datachannel.message').slice(-3))}`);
  const relayed = await waitFor(async () => (await a.evaluate(() => ternData.count('fromb'))) > aBefore &&
                                            a.evaluate(() => ternData.last('fromb')), 5_000, 100);
  check(relayed && relayed.text === 'hi control plane', `A got ${JSON.stringify(relayed)} on "fromb", want B's message`);

  const errors = events.events.filter((e) => e.topic === 'datachannel.error');
  check(errors.length === 0, `datachannel.error events: ${JSON.stringify(errors)}`);
  const drv = DPDK ? await checkDpdkDriver(t, 300) : null;
  return `${results.join('; ')}; close propagated; control plane text+binary to B, B's message as an event and at A` +
         (DPDK ? `; DPDK net_af_packet: ${driverSummary(drv)}` : '');
});
