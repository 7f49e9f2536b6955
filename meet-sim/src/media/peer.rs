//! One participant's WebRTC connection: a str0m [`Rtc`] in RTP mode (ICE-lite, host
//! candidate on the sim's one UDP port), with the roles of its m-lines, its data channels
//! and what it sends and receives.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use str0m::change::SdpOffer;
use str0m::channel::ChannelId;
use str0m::crypto::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{Mid, Pt};
use str0m::rtp::Ssrc;
use str0m::{Candidate, Rtc};

use super::forward::{AudioSlot, VideoSlot};
use super::layers::LayerStats;
use crate::model::{Direction, OfferShape, SectionKind};

/// One receive m-line of the client: our send stream on it.
#[derive(Clone, Debug)]
pub(super) struct Outgoing<S> {
    pub(super) mid: Mid,
    pub(super) ssrc: Ssrc,
    pub(super) slot: S,
    /// The canvas height the stream is shown at (video): picks the layer.
    pub(super) target_height: u32,
    /// The CSRC sent (video: the source's; audio: set per packet).
    pub(super) csrc: u32,
    /// Keyframe requests (PLI or FIR) the participant sent about this stream.
    pub(super) keyframe_requests: u64,
}

impl<S: Default> Outgoing<S> {
    fn new(mid: Mid, ssrc: Ssrc) -> Self {
        Self {
            mid,
            ssrc,
            slot: S::default(),
            target_height: 0,
            csrc: 0,
            keyframe_requests: 0,
        }
    }
}

/// A participant's connection.
pub(super) struct Peer {
    pub(super) rtc: Rtc,
    /// The conference it takes part in, once joined.
    pub(super) space: Option<String>,
    pub(super) audio_csrc: u32,
    pub(super) video_csrc: u32,
    pub(super) video_muted: bool,
    pub(super) audio_muted: bool,
    /// The client's receive-video m-lines, in offer order.
    pub(super) video_out: Vec<Outgoing<VideoSlot>>,
    /// The client's receive-audio m-lines, in offer order.
    pub(super) audio_out: Vec<Outgoing<AudioSlot>>,
    /// The m-line the client sends video on, and its RIDs.
    pub(super) video_in: Option<(Mid, Vec<String>)>,
    /// The m-line the client sends audio on.
    pub(super) audio_in: Option<Mid>,
    pub(super) vp8_pt: Option<Pt>,
    pub(super) opus_pt: Option<Pt>,
    /// Open data channels by label.
    pub(super) channels: BTreeMap<String, ChannelId>,
    /// Messages for channels not open yet, in order.
    pub(super) pending: Vec<(String, String)>,
    /// Per-RID ingress.
    pub(super) layers: BTreeMap<String, LayerStats>,
    pub(super) audio_packets: u64,
    /// Smoothed audio level, 0 (loudest) to 127 (silence), from RFC 6464.
    pub(super) audio_level: f64,
    /// When it joined, on the simulator's (injectable) clock: the layer deadline runs from
    /// here.
    pub(super) joined_at: Option<SystemTime>,
    pub(super) layers_checked: bool,
    pub(super) bitrate_flagged: bool,
    /// When to close, after it left.
    pub(super) close_at: Option<Instant>,
    /// When str0m next wants a timeout input (from its last poll).
    pub(super) next_timeout: Option<Instant>,
}

impl Peer {
    /// Accepts `offer` for a client whose m-lines `shape` describes; returns the peer and
    /// the SDP answer.
    pub(super) fn accept(
        offer: &str,
        shape: &OfferShape,
        local: SocketAddr,
        crypto: &Arc<CryptoProvider>,
        now: Instant,
    ) -> Result<(Self, String), String> {
        let mut rtc = Rtc::builder()
            .set_crypto_provider(crypto.clone())
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|e| format!("local candidate: {e}"))?;
        rtc.add_local_candidate(candidate);
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| format!("SDP offer: {e}"))?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| format!("offer not accepted: {e}"))?;

        let mut peer = Self {
            rtc,
            space: None,
            audio_csrc: 0,
            video_csrc: 0,
            video_muted: false,
            audio_muted: false,
            video_out: Vec::new(),
            audio_out: Vec::new(),
            video_in: None,
            audio_in: None,
            vp8_pt: None,
            opus_pt: None,
            channels: BTreeMap::new(),
            pending: Vec::new(),
            layers: BTreeMap::new(),
            audio_packets: 0,
            audio_level: 127.0,
            joined_at: None,
            layers_checked: false,
            bitrate_flagged: false,
            close_at: None,
            next_timeout: None,
        };
        peer.vp8_pt = peer.pt(Codec::Vp8);
        peer.opus_pt = peer.pt(Codec::Opus);
        for section in &shape.sections {
            let Some(mid) = section.mid.as_deref().map(Mid::from) else {
                continue;
            };
            match (section.kind, section.direction) {
                (SectionKind::Video, Direction::RecvOnly) => {
                    let outgoing = Outgoing::new(mid, peer.send_stream(mid));
                    peer.video_out.push(outgoing);
                }
                (SectionKind::Audio, Direction::RecvOnly) => {
                    let outgoing = Outgoing::new(mid, peer.send_stream(mid));
                    peer.audio_out.push(outgoing);
                }
                (SectionKind::Video, Direction::SendOnly) => {
                    let rids = section.simulcast_send.clone().unwrap_or_default();
                    peer.video_in = Some((mid, rids));
                }
                (SectionKind::Audio, Direction::SendOnly) => peer.audio_in = Some(mid),
                _ => {}
            }
        }
        Ok((peer, answer.to_sdp_string()))
    }

    fn pt(&self, codec: Codec) -> Option<Pt> {
        self.rtc
            .codec_config()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
    }

    /// Our send stream on the client's receive m-line `mid` (str0m declares one when it
    /// answers; one is declared here if not).
    fn send_stream(&mut self, mid: Mid) -> Ssrc {
        let mut api = self.rtc.direct_api();
        if let Some(stream) = api.stream_tx_by_mid(mid, None) {
            return stream.ssrc();
        }
        let ssrc = api.new_ssrc();
        api.declare_stream_tx(ssrc, None, mid, None);
        ssrc
    }

    /// The virtual SSRCs of the client's receive-video m-lines.
    pub(super) fn video_ssrcs(&self) -> Vec<u32> {
        self.video_out.iter().map(|o| *o.ssrc).collect()
    }

    /// Sends `text` on channel `label`, or keeps it until the channel opens.
    pub(super) fn send_text(&mut self, label: &str, text: String) {
        if let Some(&id) = self.channels.get(label)
            && let Some(mut channel) = self.rtc.channel(id)
            && channel.write(false, text.as_bytes()).unwrap_or(false)
        {
            return;
        }
        self.pending.push((label.to_owned(), text));
    }

    /// Sends what waited for channel `label`.
    pub(super) fn flush(&mut self, label: &str) {
        let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(l, _)| l == label);
        self.pending = rest;
        for (label, text) in ready {
            self.send_text(&label, text);
        }
    }

    /// Whether it sends on RID `rid` heights: the highest RID whose key-frame height fits
    /// `height`, or the smallest known layer when none fits. `None` before any key frame.
    pub(super) fn layer_for(&self, height: u32, now: Instant) -> Option<String> {
        let mut known: Vec<(u16, &String)> = self
            .layers
            .iter()
            .filter(|(_, l)| l.active(now, std::time::Duration::from_secs(2)))
            .filter_map(|(rid, l)| l.size().map(|(_, h)| (h, rid)))
            .collect();
        known.sort();
        known
            .iter()
            .rev()
            .find(|(h, _)| u32::from(*h) <= height)
            .or_else(|| known.first())
            .map(|(_, rid)| (*rid).clone())
    }
}
