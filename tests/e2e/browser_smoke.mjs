// e2e (0): the test bed itself, without ternd. Headless Debian chromium with
// the fake camera and microphone connects two RTCPeerConnections in one page
// over loopback and decodes >= 30 frames. When this fails, the other e2e
// tests' failures are about the machine (chromium, flags, sandbox), not tern.
import {Harness, check, waitFor} from './lib/harness.mjs';

const t = await Harness.start('browser_smoke', {budgetMs: 60_000});
await t.run(async () => {
  const base = await t.serve();
  const ctx = await t.browser('a');
  const page = await t.page(ctx, 'loopback', base + 'client.html');
  const version = await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)[0]);
  await page.evaluate(async () => {
    const stream = await tern.media();
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    // Loopback candidates only: every packet stays on lo.
    const lo = (c) => c && (c.address === '127.0.0.1' || c.address === '::1');
    a.onicecandidate = (e) => lo(e.candidate) && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => lo(e.candidate) && a.addIceCandidate(e.candidate);
    for (const track of stream.getTracks()) a.addTrack(track, stream);
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    window.rx = b;
  });
  let s;
  const ok = await waitFor(async () => {
    s = await page.evaluate(() => tern.inboundStats(window.rx));
    return s.video[0] && s.video[0].framesDecoded >= 30 && s.audio[0] && s.audio[0].packetsReceived > 0;
  }, 30_000, 500);
  // The pair in use must be a loopback one.
  const pair = await page.evaluate(async () => {
    const stats = await window.rx.getStats();
    let sel = null;
    stats.forEach((x) => {
      if (x.type === 'transport' && x.selectedCandidatePairId) sel = stats.get(x.selectedCandidatePairId);
    });
    if (!sel) return null;
    const l = stats.get(sel.localCandidateId), r = stats.get(sel.remoteCandidateId);
    return {local: `${l.address}:${l.port}`, remote: `${r.address}:${r.port}`};
  });
  t.log(`chromium ${version}; selected pair ${JSON.stringify(pair)}; stats ${JSON.stringify(s)}`);
  check(ok, `loopback call decoded ${s.video[0] ? s.video[0].framesDecoded : 0} frames: ${JSON.stringify(s)}`);
  check(pair && /^(127\.0\.0\.1|::1):/.test(pair.local), `selected pair is not on loopback: ${JSON.stringify(pair)}`);
  return `loopback call: ${s.video[0].framesDecoded} frames decoded (${s.video[0].frameWidth}x${s.video[0].frameHeight}), ` +
         `${s.audio[0].packetsReceived} audio packets`;
});
