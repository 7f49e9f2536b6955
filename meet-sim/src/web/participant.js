// The browser participant page, GET /m/{meetingCode}?name=&video= (meet-side.md §5.b): joins
// like a Meet web client. Publishes the fake microphone (Opus) and camera (VP8 simulcast q/h/f
// from a 1280×720 capture), receives 3 audio streams and `video` video streams (default 3,
// at most 8), and asks for a 1+7 layout once JOINED.
//
// Synthetic mode, `?color=RRGGBB&tone=HZ`: instead of the fake devices, a 1280×720 canvas of
// that solid colour (`color`) and a sine of `tone` Hz (default 440), so that what the page
// sends can be checked by pixels and by spectrum; the page then also plays what it receives
// (so Chromium decodes the audio) and `tcn.stats()` adds `probe` (see client.js).

import { connect, enableProbe, intParam, meetingCode, openChannels, postJson, showVideo, tcn } from './client.js';

const params = new URLSearchParams(location.search);
const displayName = params.get('name') || 'Browser';
const videoStreams = intParam(params.get('video'), 3, 0, 8);
const colour = /^[0-9a-f]{6}$/i.test(params.get('color') ?? '') ? `#${params.get('color')}` : null;
const toneHz = intParam(params.get('tone'), 440, 20, 20000);

// The data channels, created by the client; sim extensions start with `x-`.
const LABELS = ['session-control', 'media-stats', 'participants', 'media-entries', 'video-assignment', 'x-conference', 'x-chat'];

// The three simulcast layers (rid, scale, bitrate): 320×180, 640×360, 1280×720.
const LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1300000 },
];

/**
 * A 1280×720 canvas of `fill` (redrawn every 100 ms, so its capture keeps producing frames)
 * and a sine of `hz` Hz, as one stream.
 */
function syntheticStream(fill, hz) {
  const canvas = document.createElement('canvas');
  Object.assign(canvas, { width: 1280, height: 720 });
  const g = canvas.getContext('2d');
  const paint = () => {
    g.fillStyle = fill;
    g.fillRect(0, 0, canvas.width, canvas.height);
  };
  paint();
  setInterval(paint, 100);
  const audio = new AudioContext({ sampleRate: 48000 });
  const oscillator = new OscillatorNode(audio, { type: 'sine', frequency: hz });
  const gain = new GainNode(audio, { gain: 0.5 });
  const destination = new MediaStreamAudioDestinationNode(audio);
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  audio.resume();
  const video = canvas.captureStream(30).getVideoTracks()[0];
  return new MediaStream([destination.stream.getAudioTracks()[0], video]);
}

async function main() {
  document.title = `${displayName} in ${meetingCode()}`;
  let stream;
  if (colour) {
    stream = syntheticStream(colour, toneHz);
    enableProbe();
  } else {
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { exact: 1280 }, height: { exact: 720 }, frameRate: 30 },
      });
    } catch (err) {
      tcn.error = `getUserMedia: ${err.name}: ${err.message}`;
      return;
    }
  }
  const { width, height, frameRate } = stream.getVideoTracks()[0].getSettings();
  tcn.camera = { width, height, frameRate };
  showVideo(stream, 'local camera');

  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  // m-line order: send audio, send video, 3 × receive audio, n × receive video, data.
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  const video = pc.addTransceiver(stream.getVideoTracks()[0], {
    direction: 'sendonly',
    streams: [stream],
    sendEncodings: LAYERS,
  });
  // VP8 only (with its RTX): the simulator checks VP8 simulcast and forwards without decoding.
  const codecs = RTCRtpSender.getCapabilities('video').codecs;
  video.setCodecPreferences([
    ...codecs.filter(c => c.mimeType === 'video/VP8'),
    ...codecs.filter(c => c.mimeType === 'video/rtx'),
  ]);
  for (let i = 0; i < 3; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
  for (let i = 0; i < videoStreams; i++) pc.addTransceiver('video', { direction: 'recvonly' });
  const channels = openChannels(pc, LABELS);

  await connect(pc, channels, {
    canvases: Math.min(8, videoStreams),
    async join(offer) {
      const reply = await postJson(`/m/${encodeURIComponent(meetingCode())}:join`, { offer, displayName });
      tcn.participantId = reply.participantId;
      tcn.traceId = reply.traceId;
      return reply.answer;
    },
  });
}

main();
