// e2e data channels under loss: a WHIP publisher (microphone) opens three
// channels, a WHEP subscriber gets them through ternd over a link that drops
// 5 % of the UDP frames both ways (lib/lossy_link.mjs, as e2e_loss):
//   "rel"   reliable, ordered
//   "rtx0"  unordered, maxRetransmits 0
//   "life"  unordered, maxPacketLifeTime 150 ms
// (The subscriber opens "fromb" so that its offer has m=application.)
// On each in turn, under loss, the publisher sends 300 numbered 1000-byte
// messages (one SCTP packet each, paced 10 per 20 ms). Asserted:
//   - the subscriber's legs carry the publisher's settings (ordered,
//     maxRetransmits, maxPacketLifeTime);
//   - rel: all 300 arrive, once each, in order, every byte right; ternd
//     relayed every one it got (stats.get datachannels: out = in);
//   - rtx0: what arrives is right and never duplicated, at least 70 % gets
//     through, and some is lost on ternd's leg to the subscriber (relayed
//     copies > received): ternd's leg is partially reliable too, a reliable
//     leg would have repaired every loss on that hop;
//   - life: right, no duplicates, at least 70 %.
// --driver dpdk (e2e_datachannel_loss_dpdk): ternd on DPDK net_af_packet on
// the lossy link. Needs root, ethtool and python3: else SKIP with the reason.
import {Harness, check, parseArgs, waitFor} from './lib/harness.mjs';
import {checkDpdkDriver, driverSummary, startTerndOnDpdk} from './lib/dpdk_env.mjs';
import {lossyLink} from './lib/lossy_link.mjs';

const ROOM = 'dcloss';
const DPDK = parseArgs(process.argv.slice(2)).driver === 'dpdk';
const LOSS = 5;
const N = 300;
const SIZE = 1000;
const CHANNELS = [['rel', {}], ['rtx0', {ordered: false, maxRetransmits: 0}], ['life', {ordered: false, maxPacketLifeTime: 150}]];

const t = await Harness.start(DPDK ? 'datachannel_loss_dpdk' : 'datachannel_loss', {budgetMs: 82_000});
await t.run(async () => {
  const link = DPDK ? await lossyLink(t, 'dpdkdcloss', {net: '198.18.82', pages: '198.18.83', loss: LOSS})
                   : await lossyLink(t, 'dcloss', {net: '198.18.84', loss: LOSS});
  if (DPDK) await startTerndOnDpdk(t, {ifname: link.hostIf, addr: link.host, prefix: link.nsC.name, http: true});
  else await t.startTernd({http: true, addresses: [link.host]});
  await t.requireMethod('datachannel.send', {});
  const base = await t.serve(link.pagesHost);
  const ctx = await t.browser('ns', [t.secureOrigin()], {netns: link.nsC.name});
  const a = await t.page(ctx, 'a', base + 'client.html');
  const b = await t.page(ctx, 'b', base + 'client.html');
  await a.evaluate(async ({room, channels}) => {
    window.pub = await tern.whipPublish(`/whip/${room}`, {video: false, dataChannels: channels});
  }, {room: ROOM, channels: CHANNELS});
  await b.evaluate(async (room) => { window.sub = await tern.whepSubscribe(`/whep/${room}`, {kinds: ['audio'], dataChannels: [['fromb', {}]]}); }, ROOM);
  const labels = CHANNELS.map(([l]) => l);
  const opened = await waitFor(async () => {
    const sa = await a.evaluate(() => ternData.state());
    const sb = await b.evaluate(() => ternData.state());
    return labels.every((l) => sa[l] === 'open' && sb[l] === 'open');
  }, 30_000, 250);
  check(opened, `channels not open: A ${JSON.stringify(await a.evaluate(() => ternData.state()))}, ` +
                `B ${JSON.stringify(await b.evaluate(() => ternData.state()))}`);
  const legs = await b.evaluate(() => Object.fromEntries(Object.entries(ternData.channels).map(
      ([l, c]) => [l, {ordered: c.ordered, maxRetransmits: c.maxRetransmits, maxPacketLifeTime: c.maxPacketLifeTime}])));
  t.log(`B's legs: ${JSON.stringify(legs)}`);
  check(legs.rel.ordered && legs.rel.maxRetransmits === null && legs.rel.maxPacketLifeTime === null,
        `B's "rel" leg is not reliable ordered: ${JSON.stringify(legs.rel)}`);
  check(!legs.rtx0.ordered && legs.rtx0.maxRetransmits === 0, `B's "rtx0" leg: ${JSON.stringify(legs.rtx0)}`);
  check(!legs.life.ordered && legs.life.maxPacketLifeTime === 150, `B's "life" leg: ${JSON.stringify(legs.life)}`);
  const pair = await b.evaluate(() => tern.selectedPair(window.sub.pc));
  check(pair && pair.remote.address === link.host, `the subscriber's media does not cross the lossy link: ${JSON.stringify(pair)}`);

  const dcStats = async () => (await t.ctl('stats.get')).workers[0].datachannels;
  link.setLoss(true);
  t.log(`${LOSS}% loss both ways (${link.mode})`);
  const res = {};
  for (const [label] of CHANNELS) {
    const seed = labels.indexOf(label) + 1;
    const s0 = await dcStats();
    const t0 = Date.now();
    await a.evaluate(({label, n, size, seed}) => ternData.sendSeq(label, n, size, seed), {label, n: N, size: SIZE, seed});
    // Settle: all in, or nothing new for 2 s (reliable repairs take an RTO or two).
    let v, prev = -1, since = Date.now();
    await waitFor(async () => {
      v = await b.evaluate(({label, n, size, seed}) => ternData.verifySeq(label, n, size, seed), {label, n: N, size: SIZE, seed});
      if (v.received !== prev) { prev = v.received; since = Date.now(); }
      return v.unique >= N || Date.now() - since > 2_000;
    }, 25_000, 200);
    const s1 = await dcStats();
    const d = (k) => s1[k] - s0[k];
    res[label] = {...v, in: d('messages_in'), out: d('messages_out'), relay_dropped: d('relay_dropped'), ms: Date.now() - t0};
    t.log(`${label}: ${JSON.stringify(res[label])}`);
  }
  link.setLoss(false);
  const bridgeSummary = await link.finish();
  const drv = DPDK ? await checkDpdkDriver(t, 300) : null;
  const fmt = (l) => `${l} ${res[l].unique}/${N} received (ternd got ${res[l].in}, relayed ${res[l].out}), ` +
                     `${res[l].dups} dups, ${res[l].outOfOrder} reordered, ${res[l].bad} bad`;
  const summary = `${CHANNELS.map(([l]) => fmt(l)).join('; ')}${bridgeSummary}` +
                  (DPDK ? `; DPDK net_af_packet: ${driverSummary(drv)}` : '');
  t.log(summary);
  for (const l of labels) {
    check(res[l].dups === 0 && res[l].bad === 0, `${l}: duplicates or corrupt messages: ${JSON.stringify(res[l])}`);
  }
  const r = res.rel;
  check(r.unique === N && r.outOfOrder === 0, `rel (reliable, ordered) lost or reordered messages under loss: ${JSON.stringify(r)}`);
  check(r.out === r.in && r.in === N, `rel: ternd got ${r.in} of ${N} and relayed ${r.out}, want all`);
  const x = res.rtx0;
  check(x.unique >= 0.7 * N, `rtx0: only ${x.unique}/${N} arrived under ${LOSS}% loss: ${JSON.stringify(x)}`);
  check(x.out > x.unique, `rtx0: the subscriber got every copy ternd relayed (${x.unique} of ${x.out}) under loss: ` +
                          `ternd's leg did not behave as maxRetransmits 0: ${JSON.stringify(x)}`);
  check(res.life.unique >= 0.7 * N, `life: only ${res.life.unique}/${N} arrived: ${JSON.stringify(res.life)}`);
  return summary;
});
