// The Media-API-style client page, GET /media-api/{meetingCode}?token=&video= (meet-side.md
// §1.2–1.4, §5.b): receives only, as Google's TS reference client does, written from the
// documented shapes. 3 audio m-lines, then the data channels, then `video` (default 3, at
// most 3) video m-lines: the TS order "audio, data channels, video". Connects with
// `connectActiveConference` and the OAuth test token from `?token=`.

import { connect, fail, gatheringComplete, intParam, meetingCode, openChannels, postJson, tcn } from './client.js';

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const videoStreams = intParam(params.get('video'), 3, 0, 3);

// The Media API's channels (§1.4); `video-assignment` only when video is received.
const LABELS = ['session-control', 'media-stats', 'participants', 'media-entries'];

async function main() {
  document.title = `Media API client in ${meetingCode()}`;
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  for (let i = 0; i < 3; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
  const channels = openChannels(pc, videoStreams > 0 ? [...LABELS, 'video-assignment'] : LABELS);
  // Chrome puts the data section after every transceiver that exists at the first
  // setLocalDescription; setting one now, before adding video, keeps it in the middle.
  try {
    await pc.setLocalDescription(await pc.createOffer());
  } catch (err) {
    return fail('first createOffer', err);
  }
  // Then let the ICE gathering that this started finish before the next offer: Chrome copies
  // the candidates already in the local description into a new offer, but those gathered
  // between that createOffer and its setLocalDescription are lost (they go into the
  // description being replaced). Offering again mid-gathering could thus send an offer
  // without the UDP host candidate, only the TCP one gathered later, and ICE would fail.
  try {
    await gatheringComplete(pc);
  } catch (err) {
    return fail('ICE gathering', err);
  }
  for (let i = 0; i < videoStreams; i++) pc.addTransceiver('video', { direction: 'recvonly' });

  await connect(pc, channels, {
    canvases: videoStreams,
    async join(offer) {
      const space = encodeURIComponent(meetingCode());
      const reply = await postJson(`/v2beta/spaces/${space}:connectActiveConference`, { offer }, {
        Authorization: `Bearer ${token}`,
      });
      tcn.traceId = reply.traceId;
      return reply.answer;
    },
  });
}

main();
