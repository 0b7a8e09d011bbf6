// A small WHIP (RFC 9725) / WHEP client for tern's browser tests, plus
// getStats summaries. Plain browser JS, no dependencies; everything hangs off
// window.tern so a test can drive it with page.evaluate().
//
//   const pub = await tern.whipPublish('/whip/r1', {simulcast: true});
//   const sub = await tern.whepSubscribe('/whep/r1');
//   await tern.inboundStats(sub.pc)   -> {video: [...], audio: [...]}
//   await tern.deleteResource(pub.resource)
'use strict';
(function () {
  const tern = {};
  window.tern = tern;

  // Non-trickle offer/answer: wait (bounded) for ICE gathering so the offer
  // carries our candidates. tern is ICE-lite and learns our address from the
  // checks anyway, so a timeout here is harmless.
  function gathered(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      function check() {
        if (pc.iceGatheringState === 'complete') done();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  // Chromium's x-google-{min,start}-bitrate codec parameters, added to the
  // video codecs of an answer before we apply it: they set our sender's
  // bandwidth estimate floor and start (kbps). Used by the simulcast test so
  // all three layers are sent even when the estimate cannot grow.
  function withSendBitrate(sdp, kbps) {
    const lines = sdp.split('\r\n');
    const pts = new Set();
    let video = false;
    for (const l of lines) {
      if (l.startsWith('m=')) video = l.startsWith('m=video');
      const m = /^a=rtpmap:(\d+) (VP8|VP9|H264|AV1)\//i.exec(l);
      if (video && m) pts.add(m[1]);
    }
    const extra = `x-google-min-bitrate=${kbps.min};x-google-start-bitrate=${kbps.start}`;
    const out = [];
    const hasFmtp = new Set();
    for (const l of lines) {
      const m = /^a=fmtp:(\d+) /.exec(l);
      if (m && pts.has(m[1])) {
        hasFmtp.add(m[1]);
        out.push(`${l};${extra}`);
      } else {
        out.push(l);
      }
      const r = /^a=rtpmap:(\d+) /.exec(l);
      if (r && pts.has(r[1]) && !lines.some((x) => x.startsWith(`a=fmtp:${r[1]} `))) out.push(`a=fmtp:${r[1]} ${extra}`);
    }
    return out.join('\r\n');
  }

  // POSTs the offer as application/sdp; expects 201 + Location + answer.
  async function exchange(pc, endpoint, opts = {}) {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, opts.gatherMs || 1000);
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {'Content-Type': 'application/sdp'},
      body: pc.localDescription.sdp,
    });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`POST ${endpoint}: HTTP ${res.status}: ${body}`);
    const loc = res.headers.get('Location');
    if (!loc) throw new Error(`POST ${endpoint}: 201 without a Location header`);
    const sdp = opts.sendBitrateKbps ? withSendBitrate(body, opts.sendBitrateKbps) : body;
    await pc.setRemoteDescription({type: 'answer', sdp});
    return new URL(loc, new URL(endpoint, location.href)).href;
  }

  function watch(pc, label) {
    pc.addEventListener('connectionstatechange', () =>
      console.log(`${label}: connectionState ${pc.connectionState}`));
    pc.addEventListener('iceconnectionstatechange', () =>
      console.log(`${label}: iceConnectionState ${pc.iceConnectionState}`));
  }

  // The fake camera and microphone. Chromium's fake device gives 640x480 by
  // default; a bigger size is asked for only when a test needs it.
  tern.media = async function (video = true) {
    return navigator.mediaDevices.getUserMedia({audio: true, video});
  };

  // Data channels created before the offer (so it has an m=application
  // section): [[label, RTCDataChannelInit], ...], tracked by ternData
  // (tern_data.js) when the page loads it; channels tern opens are tracked too.
  function dataChannels(pc, list) {
    if (!list) return;
    if (window.ternData) window.ternData.watch(pc);
    for (const [label, init] of list) {
      const dc = pc.createDataChannel(label, init || {});
      if (window.ternData) window.ternData.track(dc);
    }
  }

  // Publishes camera + microphone. opts.simulcast: three rid layers q/h/f at
  // 1/4, 1/2 and full resolution. opts.video: getUserMedia video constraints
  // (false: microphone only). opts.sendBitrateKbps: {min, start} (see
  // withSendBitrate). opts.pcConfig: more RTCConfiguration (iceServers,
  // iceTransportPolicy: 'relay'). opts.dataChannels: see dataChannels().
  tern.whipPublish = async function (endpoint, opts = {}) {
    const stream = opts.stream || (await tern.media(opts.video === undefined ? true : opts.video));
    const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle', ...(opts.pcConfig || {})});
    watch(pc, 'whip');
    dataChannels(pc, opts.dataChannels);
    for (const track of stream.getTracks()) {
      const init = {direction: 'sendonly', streams: [stream]};
      if (track.kind === 'video' && opts.simulcast) {
        init.sendEncodings = [
          {rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000},
          {rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 400000},
          {rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1200000},
        ];
      }
      pc.addTransceiver(track, init);
    }
    const resource = await exchange(pc, endpoint, opts);
    showLocal(stream);
    return {pc, resource, stream};
  };

  // Subscribes to a room: one recvonly audio and one recvonly video
  // transceiver (tern matches producers to m-lines by kind, in order).
  // opts.kinds: other kinds per subscription (['audio']); opts.dataChannels:
  // see dataChannels().
  tern.whepSubscribe = async function (endpoint, opts = {}) {
    const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle'});
    watch(pc, 'whep');
    const n = opts.count || 1;
    for (let i = 0; i < n; i++) {
      for (const kind of opts.kinds || ['audio', 'video']) pc.addTransceiver(kind, {direction: 'recvonly'});
    }
    dataChannels(pc, opts.dataChannels);
    pc.addEventListener('track', (ev) => showRemote(ev.track, ev.streams[0]));
    const resource = await exchange(pc, endpoint);
    return {pc, resource};
  };

  tern.deleteResource = async function (resource) {
    const res = await fetch(resource, {method: 'DELETE'});
    return res.status;
  };

  // Remote media must reach a sink for the page to look right in a
  // screenshot; decoding happens either way.
  function showRemote(track, stream) {
    const id = `remote-${track.id}`;
    if (document.getElementById(id)) return;
    const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
    el.id = id;
    el.autoplay = true;
    el.muted = true;
    el.playsInline = true;
    el.srcObject = new MediaStream([track]);
    document.getElementById('remote').appendChild(el);
  }

  function showLocal(stream) {
    const v = document.getElementById('local');
    if (v) v.srcObject = stream;
  }

  // Inbound RTP per kind: one entry per receiving stream, with its mid.
  tern.inboundStats = async function (pc) {
    const out = {video: [], audio: []};
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const e = {
        mid: s.mid,
        ssrc: s.ssrc,
        packetsReceived: s.packetsReceived || 0,
        bytesReceived: s.bytesReceived || 0,
        packetsLost: s.packetsLost || 0,
      };
      if (s.kind === 'video') {
        e.nackCount = s.nackCount || 0;
        e.retransmittedPacketsReceived = s.retransmittedPacketsReceived || 0;
        Object.assign(e, {
          framesDecoded: s.framesDecoded || 0,
          frameWidth: s.frameWidth || 0,
          frameHeight: s.frameHeight || 0,
          keyFramesDecoded: s.keyFramesDecoded || 0,
          decoderImplementation: s.decoderImplementation,
          pliCount: s.pliCount || 0,
        });
        out.video.push(e);
      } else if (s.kind === 'audio') {
        out.audio.push(e);
      }
    });
    return out;
  };

  // The selected candidate pair: local and remote candidate types and
  // addresses (relay, host, ...), and the pair's packet counts.
  tern.selectedPair = async function (pc) {
    const report = await pc.getStats();
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const l = report.get(pair.localCandidateId) || {};
    const r = report.get(pair.remoteCandidateId) || {};
    return {
      state: pair.state,
      local: {type: l.candidateType, address: l.address, port: l.port, relayProtocol: l.relayProtocol, url: l.url},
      remote: {type: r.candidateType, address: r.address, port: r.port},
      packetsSent: pair.packetsSent || 0,
      packetsReceived: pair.packetsReceived || 0,
    };
  };

  // Outbound RTP of a publisher: per rid, what Chromium actually sends.
  tern.outboundStats = async function (pc) {
    const out = [];
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      out.push({
        kind: s.kind,
        rid: s.rid,
        packetsSent: s.packetsSent || 0,
        retransmittedPacketsSent: s.retransmittedPacketsSent || 0,
        nackCount: s.nackCount || 0,
        framesEncoded: s.framesEncoded || 0,
        frameWidth: s.frameWidth || 0,
        frameHeight: s.frameHeight || 0,
        active: s.active,
        qualityLimitationReason: s.qualityLimitationReason,
      });
    });
    return out;
  };
})();
