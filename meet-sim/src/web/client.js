// Shared by meet-sim's browser pages (participant.js, media-api.js): the `window.tcn` object
// the tests read, data channels in the Media API envelope (meet-side.md §1.4), the layout
// request, media-stats uploads, and a summary of pc.getStats(). Plain ES module, no
// frameworks, nothing loaded from elsewhere.

/** What tests read (meet-sim/tests/browser/driver.mjs). `stats()` is filled in by `connect`. */
export const tcn = {
  participantId: null, // from the join answer (participant page only)
  traceId: null, // from the join answer
  sessionState: null, // last session-control connectionState
  disconnectReason: null, // with STATE_DISCONNECTED
  error: null, // the first failure, as text
  offer: null, // the local SDP offer, after ICE gathering
  answer: null, // the SDP answer, as received
  camera: null, // the capture's {width, height, frameRate} (participant page only)
  messages: [], // every data-channel message received: {channel, message}
  async stats() {
    return { connectionState: 'new', availableOutgoingBitrate: null, outbound: [], inbound: [] };
  },
  // Set by `connect`: request(label, payload) sends a request on a channel (e.g.
  // tcn.request('x-chat', {sendMessage: {text: 'hi'}})) and returns its id; leave() asks to
  // leave on session-control.
  request: null,
  leave: null,
};
window.tcn = tcn;

/** Appends a line to the page's log. */
export function log(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}\n`;
  document.getElementById('log').append(line);
}

/** Records the first failure in `tcn.error` (later ones only go to the log). */
export function fail(where, err) {
  const text = `${where}: ${err instanceof Error ? err.message : err}`;
  tcn.error ??= text;
  log(`ERROR ${text}`);
}

/** `value` as an integer in [min, max], `fallback` when absent or not a number. */
export function intParam(value, fallback, min, max) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isNaN(n) ? fallback : Math.min(max, Math.max(min, n));
}

/** The last path segment: the meeting code of `/m/{code}` and `/media-api/{code}`. */
export function meetingCode() {
  return decodeURIComponent(location.pathname.split('/').pop());
}

/** Shows `stream` in a new `<video autoplay muted playsinline>` captioned `caption`. */
export function showVideo(stream, caption, mid = null) {
  const figure = document.createElement('figure');
  const video = document.createElement('video');
  Object.assign(video, { autoplay: true, muted: true, playsInline: true, srcObject: stream });
  if (mid !== null) video.dataset.mid = mid;
  const label = document.createElement('figcaption');
  label.textContent = caption;
  figure.append(video, label);
  document.getElementById('videos').append(figure);
}

/**
 * POSTs `body` as JSON; resolves to the parsed reply. A non-2xx reply throws an Error that
 * carries the HTTP status and, for Google-style errors, `error.status`, the reason and the
 * message.
 */
export async function postJson(url, body, headers = {}) {
  const reply = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json;charset=UTF-8', ...headers },
    body: JSON.stringify(body),
  });
  const text = await reply.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (axum's 405 has an empty body)
  }
  if (!reply.ok) {
    const e = json?.error;
    const detail = e ? ` ${e.status} ${e.details?.[0]?.reason ?? ''}: ${e.message}` : '';
    throw new Error(`HTTP ${reply.status} ${reply.statusText}${detail}`);
  }
  return json;
}

/**
 * Creates one ordered, reliable data channel per label (the client creates them; the labels
 * are the contract). `request(label, payload)` sends `{"request":{"requestId",...payload}}`
 * once the channel is open, with request ids counted per channel from 1.
 */
export function openChannels(pc, labels) {
  const channels = new Map();
  const nextId = new Map();
  for (const label of labels) {
    const dc = pc.createDataChannel(label, { ordered: true });
    dc.onopen = () => log(`${label} open`);
    dc.onclose = () => log(`${label} closed`);
    dc.onerror = e => log(`${label} error ${e.error?.message ?? ''}`);
    dc.onmessage = e => received(label, e.data);
    channels.set(label, dc);
    nextId.set(label, 1);
  }
  return {
    request(label, payload) {
      const dc = channels.get(label);
      const requestId = nextId.get(label);
      nextId.set(label, requestId + 1);
      const text = JSON.stringify({ request: { requestId, ...payload } });
      const send = () => {
        dc.send(text);
        log(`${label} → ${text}`);
      };
      if (dc.readyState === 'open') send();
      else dc.addEventListener('open', send, { once: true });
      return requestId;
    },
  };
}

// Synthetic mode (participant.js): received audio is played, and `tcn.stats()` adds `probe`.
let probing = false;

/** Turns on synthetic mode's extras: playing received audio, and `stats().probe`. */
export function enableProbe() {
  probing = true;
}

/** `[r, g, b]` as `RRGGBB`. */
const hex = (r, g, b) => [r, g, b].map(c => c.toString(16).padStart(2, '0')).join('');

// Received audio tracks (synthetic mode), each with an analyser: {mid, analyser}.
const analysed = [];
let analysisContext = null;

/** Feeds received audio `track` (of transceiver `mid`) to an FFT analyser for `probeAudio`. */
function analyse(track, mid) {
  analysisContext ??= new AudioContext({ sampleRate: 48000 });
  analysisContext.resume();
  const analyser = new AnalyserNode(analysisContext, { fftSize: 8192, smoothingTimeConstant: 0 });
  new MediaStreamAudioSourceNode(analysisContext, { mediaStream: new MediaStream([track]) }).connect(analyser);
  analysed.push({ mid, analyser });
}

/**
 * Each received audio track as `{mid, peakHz, peakDb}`: the frequency of the strongest FFT bin
 * (±3 Hz at 48 kHz) and its level in dBFS (null in silence).
 */
function probeAudio() {
  return analysed.map(({ mid, analyser }) => {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 1; // skip DC
    for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    const peakHz = (best * analysisContext.sampleRate) / analyser.fftSize;
    return { mid, peakHz, peakDb: Number.isFinite(bins[best]) ? bins[best] : null };
  });
}

// How many points along a row `probeVideos` samples.
const ROW_POINTS = 16;

/**
 * Each received `<video>` as `{mid, width, height, centre, row}`: its decoded size, the colour
 * (`RRGGBB`) at its centre, and `ROW_POINTS` colours evenly along the row at a third of its
 * height (where the bars of a test pattern are).
 */
function probeVideos() {
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  return [...document.querySelectorAll('video[data-mid]')].map(video => {
    const { videoWidth: width, videoHeight: height } = video;
    const out = { mid: video.dataset.mid, width, height, centre: null, row: [] };
    if (!width || !height) return out;
    Object.assign(canvas, { width, height });
    g.drawImage(video, 0, 0, width, height);
    const at = (x, y) => {
      const [r, gr, b] = g.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
      return hex(r, gr, b);
    };
    out.centre = at(width / 2, height / 2);
    for (let i = 0; i < ROW_POINTS; i++) out.row.push(at(((i + 0.5) * width) / ROW_POINTS, height / 3));
    return out;
  });
}

// What `connect` reacts to; set there.
let handlers = { joined() {}, statsConfiguration() {} };

/** One message arrived on `label`: record it, then act on session state and stats config. */
function received(label, data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    message = data; // kept as text
  }
  tcn.messages.push({ channel: label, message });
  log(`${label} ← ${typeof data === 'string' ? data : '(binary)'}`);
  for (const resource of message?.resources ?? []) {
    if (label === 'session-control' && resource.sessionStatus) {
      const { connectionState, disconnectReason } = resource.sessionStatus;
      const first = connectionState === 'STATE_JOINED' && tcn.sessionState !== 'STATE_JOINED';
      tcn.sessionState = connectionState;
      tcn.disconnectReason = disconnectReason ?? null;
      if (first) handlers.joined();
    }
    if (label === 'media-stats' && resource.configuration) {
      handlers.statsConfiguration(resource.configuration);
    }
  }
}

/**
 * A `setAssignment` payload for `count` canvases, ids 1..count: canvas 1 is the main tile
 * (1280×720), the rest are 320×180 thumbnails; the server picks the streams (`relevant`).
 */
export function setAssignment(count) {
  const canvases = [];
  for (let id = 1; id <= count; id++) {
    const [width, height] = id === 1 ? [1280, 720] : [320, 180];
    canvases.push({ id, dimensions: { height, width }, relevant: {} });
  }
  return {
    setAssignment: {
      layoutModel: { label: `tcn-1+${count - 1}`, canvases },
      maxVideoResolution: { height: 720, width: 1280, frameRate: 30 },
    },
  };
}

// The stats types uploaded, TS-client style: section key in snake_case, numeric members only.
const UPLOADED_TYPES = ['outbound-rtp', 'inbound-rtp'];

/** `framesDecoded` → `frames_decoded`. */
const snakeCase = key => key.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);

/** The `uploadMediaStats.sections` of one report, filtered by the allowlist. */
function statsSections(report, allowlist) {
  const sections = [];
  report.forEach(s => {
    const keys = UPLOADED_TYPES.includes(s.type) ? allowlist[s.type]?.keys ?? [] : [];
    const values = {};
    for (const key of keys) {
      if (typeof s[key] === 'number') values[snakeCase(key)] = s[key];
    }
    if (Object.keys(values).length) sections.push({ id: s.id, [s.type.replaceAll('-', '_')]: values });
  });
  return sections;
}

/** Uploads stats every `uploadIntervalSeconds` (0: never), replacing earlier uploads. */
let uploadTimer = null;
function uploadStats(pc, channels, configuration) {
  clearInterval(uploadTimer);
  const seconds = Number(configuration.uploadIntervalSeconds ?? 0);
  if (!(seconds > 0)) return;
  const allowlist = configuration.allowlist ?? {};
  uploadTimer = setInterval(async () => {
    if (tcn.sessionState === 'STATE_DISCONNECTED') return clearInterval(uploadTimer);
    const sections = statsSections(await pc.getStats(), allowlist);
    channels.request('media-stats', { uploadMediaStats: { sections } });
  }, seconds * 1000);
}

/** The part of pc.getStats() tests look at. */
async function statsSummary(pc) {
  const outbound = [];
  const inbound = [];
  let pair = null;
  (await pc.getStats()).forEach(s => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    const common = { kind: s.kind, ssrc: s.ssrc, frameWidth: s.frameWidth ?? null, frameHeight: s.frameHeight ?? null };
    if (s.type === 'outbound-rtp') {
      const limit = s.qualityLimitationReason ?? null;
      outbound.push({ ...common, rid: s.rid ?? null, packetsSent: s.packetsSent, framesEncoded: s.framesEncoded ?? null, qualityLimitationReason: limit });
    } else if (s.type === 'inbound-rtp') {
      const audio = s.kind === 'audio' ? { totalAudioEnergy: s.totalAudioEnergy ?? null, audioLevel: s.audioLevel ?? null } : {};
      inbound.push({ ...common, mid: s.mid ?? null, packetsReceived: s.packetsReceived, framesDecoded: s.framesDecoded ?? null, ...audio });
    }
  });
  const key = s => `${s.kind} ${s.rid ?? s.mid}`;
  const order = (a, b) => key(a).localeCompare(key(b), 'en', { numeric: true });
  const summary = {
    connectionState: pc.connectionState,
    availableOutgoingBitrate: pair?.availableOutgoingBitrate ?? null, // the send-side estimate
    outbound: outbound.sort(order),
    inbound: inbound.sort(order),
  };
  if (probing) summary.probe = { videos: probeVideos(), audio: probeAudio() };
  return summary;
}

/**
 * Resolves once ICE gathering is complete (vanilla ICE: the offer carries the candidates);
 * rejects when it is still not after `timeoutMs`.
 */
export function gatheringComplete(pc, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(() => {
      pc.removeEventListener('icegatheringstatechange', changed);
      reject(new Error(`still ${pc.iceGatheringState} after ${timeoutMs} ms`));
    }, timeoutMs);
    function changed() {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', changed);
      resolve();
    }
    pc.addEventListener('icegatheringstatechange', changed);
  });
}

/** Whether `sdp` has a UDP candidate line (meet-sim's ICE is UDP only). */
const hasUdpCandidate = sdp => /^a=candidate:\S+ \d+ udp /im.test(sdp);

/**
 * The signalling both pages share. `pc` already has its transceivers and `channels` (from
 * `openChannels`). Offers, waits for ICE gathering, hands the offer to `join` (which POSTs
 * it and resolves to the answer SDP), applies the answer; sends a `setAssignment` of
 * `canvases` canvases once JOINED and uploads stats as the server configures.
 */
export async function connect(pc, channels, { canvases, join }) {
  tcn.stats = () => statsSummary(pc);
  tcn.request = (label, payload) => channels.request(label, payload);
  tcn.leave = () => channels.request('session-control', { leave: {} });
  handlers = {
    joined() {
      if (canvases > 0) channels.request('video-assignment', setAssignment(canvases));
    },
    statsConfiguration(configuration) {
      uploadStats(pc, channels, configuration);
    },
  };
  pc.onconnectionstatechange = () => log(`connection ${pc.connectionState}`);
  pc.ontrack = e => {
    log(`track ${e.track.kind} mid ${e.transceiver.mid}`);
    if (e.track.kind === 'video') showVideo(new MediaStream([e.track]), `mid ${e.transceiver.mid}`, e.transceiver.mid);
    // Chromium decodes received audio only for a sink: synthetic pages play it, and measure
    // its energy and spectrum.
    if (e.track.kind === 'audio' && probing) {
      const audio = Object.assign(document.createElement('audio'), { autoplay: true, srcObject: new MediaStream([e.track]) });
      document.getElementById('videos').append(audio);
      analyse(e.track, e.transceiver.mid);
    }
  };
  let step = 'createOffer';
  try {
    await pc.setLocalDescription(await pc.createOffer());
    step = 'ICE gathering';
    await gatheringComplete(pc);
    tcn.offer = pc.localDescription.sdp;
    // Sent all the same (the server judges offers), but ICE with meet-sim cannot work
    // without one, so the page says so rather than failing later as a mere "failed".
    if (!hasUdpCandidate(tcn.offer)) fail('ICE gathering', 'the offer has no UDP candidate');
    step = 'join';
    const answer = await join(tcn.offer);
    tcn.answer = answer;
    step = 'setRemoteDescription';
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    log('answer applied');
  } catch (err) {
    fail(step, err);
  }
}
