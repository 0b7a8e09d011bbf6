// Data channel helpers for tern's browser tests (tests/e2e/datachannel.mjs).
// Plain browser JS on window.ternData, driven with page.evaluate().
//
// Messages are deterministic: message (kind, size, seed) has content that
// both ends compute, so the receiver checks every byte without the sender
// shipping a copy. Sizes in one batch are distinct per kind, so an unordered
// channel's messages are matched by (kind, size) whatever order they arrive.
//
//   ternData.track(dc)                        // start recording dc's messages
//   ternData.sendBatch(dc, specs, seed)       // specs: [{kind:'text'|'binary', size}]
//   ternData.verify(dc.label, specs, seed, {ordered: true}) -> {ok, problems, ...}
'use strict';
(function () {
  const d = {channels: {}, log: {}, closed: {}};
  window.ternData = d;

  // xorshift32 bytes; text is the same stream mapped onto printable ASCII so
  // a text message of `size` characters is `size` UTF-8 bytes.
  function bytes(size, seed) {
    const out = new Uint8Array(size);
    let x = (seed * 2654435761 + size * 40503 + 1) >>> 0 || 1;
    for (let i = 0; i < size; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  }
  d.binary = (size, seed) => bytes(size, seed);
  d.text = (size, seed) => {
    const b = bytes(size, seed ^ 0x5a5a);
    let s = '';
    const chunk = [];
    for (let i = 0; i < size; i++) {
      chunk.push(32 + (b[i] % 95));
      if (chunk.length === 8192) { s += String.fromCharCode(...chunk); chunk.length = 0; }
    }
    return s + String.fromCharCode(...chunk);
  };

  // Records every message of dc (and its open/close) under its label.
  d.track = function (dc) {
    if (d.channels[dc.label]) return;
    dc.binaryType = 'arraybuffer';
    d.channels[dc.label] = dc;
    d.log[dc.label] = [];
    dc.addEventListener('message', (ev) => {
      const binary = typeof ev.data !== 'string';
      d.log[dc.label].push({binary, data: ev.data, size: binary ? ev.data.byteLength : ev.data.length});
    });
    dc.addEventListener('close', () => { d.closed[dc.label] = true; });
  };

  // Every channel the remote (tern) opens on this connection is tracked.
  d.watch = function (pc) {
    pc.addEventListener('datachannel', (ev) => d.track(ev.channel));
  };

  d.open = (label) => !!d.channels[label] && d.channels[label].readyState === 'open';
  d.state = () => Object.fromEntries(Object.entries(d.channels).map(([l, c]) => [l, c.readyState]));

  // Sends the batch, waiting for bufferedAmount to drain below 1 MiB between
  // messages (the way an application paces a channel). Resolves when all are
  // handed to the browser's SCTP stack.
  d.sendBatch = async function (label, specs, seed) {
    const dc = d.channels[label];
    if (!dc || dc.readyState !== 'open') throw new Error(`channel ${label} is ${dc ? dc.readyState : 'missing'}`);
    dc.bufferedAmountLowThreshold = 256 * 1024;
    for (const s of specs) {
      if (dc.bufferedAmount > 1024 * 1024) {
        await new Promise((r) => dc.addEventListener('bufferedamountlow', r, {once: true}));
      }
      dc.send(s.kind === 'text' ? d.text(s.size, seed) : d.binary(s.size, seed));
    }
  };

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // Checks what arrived on `label` against the batch: every message present
  // exactly once with every byte right, kinds (text/binary = PPID) right,
  // and, when ordered, in send order. Messages received before `from` (an
  // index into the log) are ignored.
  d.verify = function (label, specs, seed, {ordered, from = 0} = {}) {
    const got = (d.log[label] || []).slice(from);
    const problems = [];
    const want = new Map(specs.map((s, i) => [`${s.kind}:${s.size}`, i]));
    const seen = new Set();
    let lastIndex = -1, outOfOrder = 0;
    for (const m of got) {
      const key = `${m.binary ? 'binary' : 'text'}:${m.size}`;
      if (!want.has(key)) { problems.push(`unexpected ${key}`); continue; }
      if (seen.has(key)) { problems.push(`duplicate ${key}`); continue; }
      seen.add(key);
      const i = want.get(key);
      if (i < lastIndex) outOfOrder++;
      lastIndex = Math.max(lastIndex, i);
      const ok = m.binary ? equalBytes(new Uint8Array(m.data), d.binary(m.size, seed)) : m.data === d.text(m.size, seed);
      if (!ok) problems.push(`${key}: content differs`);
    }
    const missing = specs.filter((s) => !seen.has(`${s.kind}:${s.size}`)).map((s) => `${s.kind}:${s.size}`);
    if (ordered && outOfOrder) problems.push(`${outOfOrder} message(s) out of order on an ordered channel`);
    return {ok: problems.length === 0 && missing.length === 0, received: got.length, missing, problems, outOfOrder,
            bytes: got.reduce((n, m) => n + m.size, 0)};
  };

  // Numbered messages for the loss tests: message `seq` is `size` bytes, the
  // first four the sequence number (little endian), the rest a function of
  // (size, seed, seq). Sent `burst` at a time, `gapMs` apart (paced so the
  // link, not the browser's buffer, decides what is lost).
  function seqMessage(size, seed, seq) {
    const b = bytes(size, (seed * 100003 + seq) >>> 0);
    new DataView(b.buffer).setUint32(0, seq, true);
    return b;
  }
  d.sendSeq = async function (label, count, size, seed, {burst = 10, gapMs = 20} = {}) {
    const dc = d.channels[label];
    if (!dc || dc.readyState !== 'open') throw new Error(`channel ${label} is ${dc ? dc.readyState : 'missing'}`);
    for (let i = 0; i < count; i++) {
      dc.send(seqMessage(size, seed, i));
      if ((i + 1) % burst === 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  // What arrived on `label` (from log index `from`) of sendSeq(count, size,
  // seed): distinct messages, duplicates, ones out of send order, corrupt
  // ones (wrong size or bytes) and the first missing numbers.
  d.verifySeq = function (label, count, size, seed, {from = 0} = {}) {
    const got = (d.log[label] || []).slice(from);
    const seen = new Set();
    let dups = 0, outOfOrder = 0, bad = 0, last = -1;
    for (const m of got) {
      if (!m.binary || m.size !== size) { bad++; continue; }
      const b = new Uint8Array(m.data);
      const seq = new DataView(m.data).getUint32(0, true);
      if (seq >= count || !equalBytes(b, seqMessage(size, seed, seq))) { bad++; continue; }
      if (seen.has(seq)) { dups++; continue; }
      seen.add(seq);
      if (seq < last) outOfOrder++;
      last = Math.max(last, seq);
    }
    const missing = [];
    for (let i = 0; i < count && missing.length < 10; i++) if (!seen.has(i)) missing.push(i);
    return {received: got.length, unique: seen.size, dups, outOfOrder, bad, missing};
  };

  d.count = (label) => (d.log[label] || []).length;
  // The last message on label, as text or base64 (control-plane checks).
  d.last = function (label) {
    const l = d.log[label] || [];
    if (!l.length) return null;
    const m = l[l.length - 1];
    if (!m.binary) return {text: m.data};
    let s = '';
    for (const b of new Uint8Array(m.data)) s += String.fromCharCode(b);
    return {binary_b64: btoa(s)};
  };
})();
