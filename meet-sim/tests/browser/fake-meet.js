// A stand-in for meet-sim's media plane, run in a page of its own by driver.mjs when the spec
// has "fakeMeet": it answers a page's offer with a browser RTCPeerConnection, so the pages'
// own logic (data channels, layout request, stats uploads, simulcast send, receive) can be
// checked without the simulator's str0m plane. It is not a simulator: every client gets
// STATE_JOINED, a media-stats configuration and an OK to each request; the receive m-lines
// get a tone, the first two video ones a painted canvas.
//
// window.fakeMeet.answer(offerSdp, uploadIntervalSeconds) → {id, answer}
// window.fakeMeet.requests[id] → [{channel, request}] received from client `id`.

(() => {
  // The stats the clients are asked to upload.
  const ALLOWLIST = {
    'outbound-rtp': { keys: ['ssrc', 'packetsSent', 'framesEncoded', 'frameWidth', 'rid'] },
    'inbound-rtp': { keys: ['ssrc', 'packetsReceived', 'framesDecoded'] },
  };

  // Video m-lines of a client that get video: each is one more encoder on a 2-core box.
  const VIDEO_SENT = 2;

  // RFC 8853 lines for the sections the offer sends simulcast on: a browser answerer leaves
  // them out, and without them the sender keeps to one layer (test-peers.md §4.1).
  function acceptSimulcast(answer, offer) {
    const offered = offer.split(/\r\n(?=m=)/);
    return answer
      .split(/\r\n(?=m=)/)
      .map((section, i) => {
        const rids = [...(offered[i] ?? '').matchAll(/a=rid:(\S+) send/g)].map(m => m[1]);
        if (!rids.length) return section;
        const lines = rids.map(r => `a=rid:${r} recv`).concat(`a=simulcast:recv ${rids.join(';')}`);
        // Only the last section still ends in CRLF after the split.
        const last = section.endsWith('\r\n');
        return `${section.replace(/\r\n$/, '')}\r\n${lines.join('\r\n')}${last ? '\r\n' : ''}`;
      })
      .join('\r\n');
  }

  const gathered = pc =>
    new Promise(resolve => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    });

  // What the fake sends: a painted canvas and a tone. Not the fake camera: Chrome shares one
  // capture among its pages, and a second size requested while the participant page asks
  // for exactly 1280×720 fails that request (OverconstrainedError).
  function syntheticMedia() {
    const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
    const g = canvas.getContext('2d');
    let frame = 0;
    setInterval(() => {
      g.fillStyle = `hsl(${(frame * 7) % 360} 70% 50%)`;
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.fillStyle = '#fff';
      g.fillText(`fake Meet ${frame++}`, 10, 20);
    }, 33);
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const sink = audio.createMediaStreamDestination();
    tone.connect(sink);
    tone.start();
    return new MediaStream([...sink.stream.getAudioTracks(), ...canvas.captureStream(30).getVideoTracks()]);
  }

  let media = null; // shared by every answer
  const requests = [];

  async function answer(offer, uploadIntervalSeconds) {
    media ??= syntheticMedia();
    const id = requests.length;
    const received = (requests[id] = []);
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.ondatachannel = ({ channel }) => {
      const send = message => channel.send(JSON.stringify(message));
      const greet = () => {
        if (channel.label === 'session-control') {
          send({ resources: [{ sessionStatus: { connectionState: 'STATE_JOINED' } }] });
        } else if (channel.label === 'media-stats') {
          send({ resources: [{ id: 0, configuration: { uploadIntervalSeconds, allowlist: ALLOWLIST } }] });
        }
      };
      if (channel.readyState === 'open') greet();
      else channel.onopen = greet;
      channel.onmessage = e => {
        const { request } = JSON.parse(e.data);
        received.push({ channel: channel.label, request });
        const { requestId, ...payload } = request;
        const echo = Object.fromEntries(Object.keys(payload).map(k => [k, {}]));
        send({ response: { requestId, status: { code: 0, message: 'OK' }, ...echo } });
      };
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    // What the client receives, we send: the tone on every audio m-line, the canvas on the
    // first VIDEO_SENT video m-lines (the rest stay inactive).
    let videoSent = 0;
    for (const t of pc.getTransceivers()) {
      if (!/a=recvonly/.test(sectionOf(offer, t.mid))) continue;
      const kind = t.receiver.track.kind;
      if (kind === 'video' && videoSent++ >= VIDEO_SENT) continue;
      t.direction = 'sendonly';
      await t.sender.replaceTrack(kind === 'audio' ? media.getAudioTracks()[0] : media.getVideoTracks()[0]);
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return { id, answer: acceptSimulcast(pc.localDescription.sdp, offer) };
  }

  // The offer's media section with `a=mid:{mid}`.
  function sectionOf(sdp, mid) {
    return sdp.split(/\r\n(?=m=)/).find(s => s.includes(`\r\na=mid:${mid}\r\n`)) ?? '';
  }

  window.fakeMeet = { answer, requests };
})();
