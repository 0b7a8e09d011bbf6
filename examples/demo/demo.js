// tern demo page: join a room, publish camera + microphone, see and hear
// everybody else. Talks only to the demo service (server.py), which drives
// ternd. Plain browser JS, no dependencies.
//
// URL parameters: room (default "demo"), name (default random), video=small
// (320x240 camera, used by the tests to spare the CPU).
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'demo';
  const name = params.get('name') || `guest-${Math.floor(Math.random() * 1000)}`;
  const small = params.get('video') === 'small';
  // ?relay=1: every connection goes through ternd's own TURN server (relay
  // candidates only), which relays into its SFU.
  const relayOnly = params.get('relay') === '1';

  // State the tests read through window.demo.
  const demo = {room, name, pid: '', pub: null, sub: null, roster: [], tiles: {}, subscribes: 0, errors: []};
  window.demo = demo;

  const $ = (id) => document.getElementById(id);
  function status(msg) {
    $('status').textContent = msg;
    console.log(`demo: ${msg}`);
  }
  function fail(msg) {
    demo.errors.push(msg);
    status(`error: ${msg}`);
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(body),
    });
    const out = await res.json().catch(() => ({error: `HTTP ${res.status}`}));
    if (!res.ok) throw new Error(out.error || `HTTP ${res.status}`);
    return out;
  }

  // tern is ICE-lite and learns our address from our checks; a short wait
  // for gathering only makes the offer complete.
  function gathered(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  // iceServers from the service (TURN credentials ternd minted), once.
  let pcConfigCache = null;
  async function pcConfig() {
    if (!pcConfigCache) {
      let iceServers = [];
      try {
        const res = await fetch('/api/config', {cache: 'no-store'});
        if (res.ok) iceServers = (await res.json()).iceServers || [];
      } catch (e) {
        console.log(`demo: no /api/config (${e}): direct connections only`);
      }
      pcConfigCache = {bundlePolicy: 'max-bundle', iceServers};
      if (relayOnly) pcConfigCache.iceTransportPolicy = 'relay';
    }
    return pcConfigCache;
  }

  async function join() {
    status(`joining room ${room} as ${name}`);
    const video = small ? {width: 320, height: 240} : true;
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video});
    $('local').srcObject = stream;
    $('me').textContent = `${name} (you)`;
    const pc = new RTCPeerConnection(await pcConfig());
    for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: 'sendonly', streams: [stream]});
    pc.addEventListener('connectionstatechange', () => console.log(`demo: publish ${pc.connectionState}`));
    chatOn(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 1000);
    const res = await post('/api/join', {room, name, offer: pc.localDescription.sdp});
    await pc.setRemoteDescription({type: 'answer', sdp: res.answer});
    demo.pid = res.pid;
    demo.pub = pc;
    status(`in room ${room}`);
    listen();
    addEventListener('pagehide', () => navigator.sendBeacon('/api/leave', JSON.stringify({pid: demo.pid})));
  }

  // Chat over data channels through ternd: our publish connection opens
  // "chat" (so its offer has an m=application section); ternd opens it on
  // every other participant's connection and relays each message to all the
  // others (docs/datachannels.md). Everybody else's "chat" arrives here as a
  // channel ternd opened. Messages are JSON {from, text}.
  demo.chat = {log: [], channels: []};
  function chatOn(pc) {
    const own = pc.createDataChannel('chat');
    demo.chat.own = own;
    hookChat(own);
    pc.addEventListener('datachannel', (ev) => { if (ev.channel.label === 'chat') hookChat(ev.channel); });
    $('chatform').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = $('chattext').value.trim();
      if (text && demo.sendChat(text)) $('chattext').value = '';
    });
  }
  function hookChat(dc) {
    demo.chat.channels.push(dc);
    dc.addEventListener('open', () => { if (dc === demo.chat.own) $('chatsend').disabled = false; });
    dc.addEventListener('message', (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (typeof m.from === 'string' && typeof m.text === 'string') showChat(m.from, m.text);
    });
  }
  function showChat(from, text) {
    demo.chat.log.push({from, text});
    const line = document.createElement('div');
    const who = document.createElement('b');
    who.textContent = `${from}: `;
    line.append(who, document.createTextNode(text));
    $('chatlog').append(line);
    $('chatlog').scrollTop = $('chatlog').scrollHeight;
  }
  // Sends on our own channel (ternd relays it to everybody); false until it is open.
  demo.sendChat = function (text) {
    const dc = demo.chat.own;
    if (!dc || dc.readyState !== 'open') return false;
    dc.send(JSON.stringify({from: name, text}));
    showChat(`${name} (you)`, text);
    return true;
  };

  // Server-Sent Events: the roster of published participants. EventSource
  // reconnects by itself after a network hiccup.
  function listen() {
    const es = new EventSource(`/api/events?pid=${encodeURIComponent(demo.pid)}`);
    es.addEventListener('roster', (ev) => {
      const msg = JSON.parse(ev.data);
      demo.roster = msg.participants;
      const others = msg.participants.filter((p) => p.pid !== demo.pid);
      const key = others.map((p) => p.pid).sort().join(',');
      $('count').textContent = `${others.length} other${others.length === 1 ? '' : 's'} in the room`;
      if (key !== demo.subKey) {
        demo.subKey = key;
        resubscribe(others).catch((e) => fail(`subscribe: ${e.message}`));
      }
    });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        // The service forgot us (restarted, or we were gone too long).
        fail('lost the signaling service; reload the page to join again');
      } else {
        console.log('demo: event stream interrupted; reconnecting');
      }
    });
  }

  // One subscription carries everybody else: ternd matches the room's
  // producers (minus ours) to our recvonly m-lines by kind, in order. A
  // roster change replaces it (serialised: one at a time, latest wins).
  let chain = Promise.resolve();
  function resubscribe(others) {
    chain = chain.then(() => doSubscribe(others));
    return chain;
  }

  async function doSubscribe(others) {
    if (others.map((p) => p.pid).sort().join(',') !== demo.subKey) return;  // superseded
    const old = demo.sub;
    demo.sub = null;
    if (old) old.close();
    if (others.length === 0) {
      clearTiles(new Set());
      return;
    }
    const pc = new RTCPeerConnection(await pcConfig());
    for (let i = 0; i < others.length; i++) {
      pc.addTransceiver('audio', {direction: 'recvonly'});
      pc.addTransceiver('video', {direction: 'recvonly'});
    }
    pc.addEventListener('connectionstatechange', () => console.log(`demo: subscribe ${pc.connectionState}`));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 1000);
    const res = await post('/api/subscribe', {pid: demo.pid, offer: pc.localDescription.sdp});
    await pc.setRemoteDescription({type: 'answer', sdp: res.answer});
    demo.sub = pc;
    demo.subscribes++;
    demo.consumers = res.consumers;
    // Each transceiver's mid tells whose track it carries.
    const byMid = {};
    for (const c of res.consumers) byMid[c.mid] = c;
    const streams = {};
    for (const tr of pc.getTransceivers()) {
      const c = byMid[tr.mid];
      if (!c) continue;
      if (!streams[c.pid]) streams[c.pid] = {name: c.name, stream: new MediaStream()};
      streams[c.pid].stream.addTrack(tr.receiver.track);
    }
    for (const [pid, x] of Object.entries(streams)) {
      const t = tile(pid, x.name);
      t.video.srcObject = x.stream;
      t.video.play().catch(() => {});  // with sound, autoplay may wait for a click
    }
    clearTiles(new Set(Object.keys(streams)));
  }

  function tile(pid, label) {
    let t = demo.tiles[pid];
    if (!t) {
      const div = document.createElement('div');
      div.className = 'tile';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      const caption = document.createElement('div');
      caption.className = 'caption';
      div.append(video, caption);
      $('tiles').appendChild(div);
      t = demo.tiles[pid] = {div, video, caption};
    }
    t.caption.textContent = label;
    return t;
  }

  function clearTiles(keep) {
    for (const pid of Object.keys(demo.tiles)) {
      if (keep.has(pid)) continue;
      demo.tiles[pid].div.remove();
      delete demo.tiles[pid];
    }
  }

  // For tests and the curious: decoded frames and audio packets per
  // participant we receive, from the subscription's getStats.
  demo.stats = async function () {
    const out = {};
    if (!demo.sub || !demo.consumers) return out;
    const byMid = {};
    for (const c of demo.consumers) byMid[c.mid] = c;
    (await demo.sub.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || !byMid[s.mid]) return;
      const c = byMid[s.mid];
      const e = (out[c.name] = out[c.name] || {pid: c.pid, framesDecoded: 0, audioPackets: 0});
      if (s.kind === 'video') {
        e.framesDecoded = s.framesDecoded || 0;
        e.frameWidth = s.frameWidth || 0;
      } else {
        e.audioPackets = s.packetsReceived || 0;
      }
    });
    return out;
  };

  $('unmute').addEventListener('click', () => {
    for (const t of Object.values(demo.tiles)) {
      t.video.muted = false;
      t.video.play().catch(() => {});
    }
  });

  join().catch((e) => fail(e.message));
})();
