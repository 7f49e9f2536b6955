//! Plain specs that shape the graphs: the simulcast layer table, the Meet leg (payload types,
//! ICE port range, jitter-buffer latency) and the uplink's input (the VTC's RTP: which video
//! and audio codec on which payload type).
//!
//! `node` fills these from the negotiated SIP media and its configuration; nothing here is
//! SIP or SDP.

use std::net::IpAddr;
use std::time::Duration;

/// One VP8 simulcast layer sent to Meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// The RID of the layer in `a=rid` / `a=simulcast` and in the RID header extension.
    pub rid: String,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Target bitrate in bit/s (libvpx CBR).
    pub bitrate_bps: u32,
    /// The RTP SSRC of the layer: fixed, so RTCP feedback maps back to this layer.
    pub ssrc: u32,
}

impl LayerSpec {
    /// A layer.
    pub fn new(rid: &str, width: u32, height: u32, bitrate_bps: u32, ssrc: u32) -> Self {
        Self {
            rid: rid.to_owned(),
            width,
            height,
            bitrate_bps,
            ssrc,
        }
    }
}

/// The simulcast ladder, lowest layer first (the order of `a=simulcast:send`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTable {
    /// The layers, lowest first.
    pub layers: Vec<LayerSpec>,
}

/// Bitrate of the default `q` layer (320×180): 150 kb/s.
pub const DEFAULT_Q_BPS: u32 = 150_000;
/// Bitrate of the default `h` layer (640×360): 500 kb/s.
pub const DEFAULT_H_BPS: u32 = 500_000;
/// Bitrate of the default `f` layer (1280×720): 1.3 Mb/s.
pub const DEFAULT_F_BPS: u32 = 1_300_000;
/// What Meet accepts from a gateway in all: 2 Mb/s.
pub const MAX_UPLINK_BPS: u32 = 2_000_000;

impl Default for LayerTable {
    /// q = 320×180 at 150 kb/s, h = 640×360 at 500 kb/s, f = 1280×720 at 1.3 Mb/s: 1.95 Mb/s
    /// in all, under [`MAX_UPLINK_BPS`] with 50 kb/s of headroom for CBR overshoot. The
    /// split follows libwebrtc's VP8 table (about 1 : 3.3 : 8.7, each layer four times the
    /// pixels of the one below), the one Chrome sends to Meet.
    fn default() -> Self {
        Self {
            layers: vec![
                LayerSpec::new("q", 320, 180, DEFAULT_Q_BPS, 0x7C1_0001),
                LayerSpec::new("h", 640, 360, DEFAULT_H_BPS, 0x7C1_0002),
                LayerSpec::new("f", 1280, 720, DEFAULT_F_BPS, 0x7C1_0003),
            ],
        }
    }
}

impl LayerTable {
    /// The sum of the layers' bitrates.
    pub fn total_bps(&self) -> u32 {
        self.layers.iter().map(|l| l.bitrate_bps).sum()
    }

    /// The layer sending on `ssrc`.
    pub fn by_ssrc(&self, ssrc: u32) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.ssrc == ssrc)
    }

    /// The layer with RID `rid`.
    pub fn by_rid(&self, rid: &str) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.rid == rid)
    }
}

/// The UDP ports the leg's ICE agent may bind (inclusive), a slice of the node's media range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port.
    pub min: u16,
    /// Highest port.
    pub max: u16,
}

/// The Meet leg: webrtcbin toward Meet, and the streams it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct MeetLegSpec {
    /// The VP8 simulcast ladder.
    pub layers: LayerTable,
    /// Payload type of VP8 (send and receive): 96.
    pub vp8_payload_type: u8,
    /// Payload type of Opus (send and receive): 111.
    pub opus_payload_type: u8,
    /// SSRC of the Opus stream sent.
    pub opus_ssrc: u32,
    /// Opus bitrate in bit/s: 32 kb/s.
    pub opus_bitrate_bps: u32,
    /// Ports for ICE host candidates.
    pub ice_ports: PortRange,
    /// When not empty, ICE gathers only on these local addresses (tests: `127.0.0.1`).
    pub local_addresses: Vec<IpAddr>,
    /// webrtcbin's jitter-buffer `latency` for what Meet sends: 50 ms by default (webrtcbin's
    /// own default is 200 ms, media.md §1.2). On loopback and on a good network 50 ms absorbs
    /// the jitter; it is set explicitly so the latency budget never depends on a default.
    pub jitter_latency: Duration,
    /// Recvonly audio m-lines (Meet's virtual audio streams): 3.
    pub recv_audio: usize,
    /// Recvonly video m-lines (virtual video streams): 8 for a 1+7 layout.
    pub recv_video: usize,
    /// The data channels the leg opens, in order (meet-side.md §5.a step 3).
    pub data_channels: Vec<String>,
    /// Minimum spacing of forced keyframes on one layer: 300 ms.
    pub keyframe_min_interval: Duration,
}

/// The data channels a gateway opens, in order.
pub const DATA_CHANNELS: [&str; 7] = [
    "session-control",
    "media-stats",
    "participants",
    "media-entries",
    "video-assignment",
    "x-conference",
    "x-chat",
];

impl MeetLegSpec {
    /// The defaults with ICE confined to `ice_ports`.
    pub fn new(ice_ports: PortRange) -> Self {
        Self {
            layers: LayerTable::default(),
            vp8_payload_type: 96,
            opus_payload_type: 111,
            opus_ssrc: 0x7C1_0010,
            opus_bitrate_bps: 32_000,
            ice_ports,
            local_addresses: Vec::new(),
            jitter_latency: Duration::from_millis(50),
            recv_audio: 3,
            recv_video: 8,
            data_channels: DATA_CHANNELS.iter().map(|l| (*l).to_owned()).collect(),
            keyframe_min_interval: Duration::from_millis(300),
        }
    }
}

/// The payload type RFC 3551 gives H.263 (RFC 2190 packetization).
pub const STATIC_PT_H263: u8 = 34;
/// The payload type RFC 3551 gives H.261 (RFC 4587).
pub const STATIC_PT_H261: u8 = 31;
/// The payload type RFC 3551 gives PCMU.
pub const STATIC_PT_PCMU: u8 = 0;
/// The payload type RFC 3551 gives PCMA.
pub const STATIC_PT_PCMA: u8 = 8;
/// The payload type RFC 3551 gives G.722.
pub const STATIC_PT_G722: u8 = 9;

/// The room system's video as negotiated: the codec, its RTP packetization and its payload
/// type. Every variant runs at the 90 kHz RTP clock its RFC fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoIn {
    /// H.264 (RFC 6184), packetization mode 0 or 1 (the depayloader takes both).
    H264 {
        /// The dynamic payload type (the default is 96).
        payload_type: u8,
        /// The SDP's `sprop-parameter-sets` (base64 SPS and PPS, comma-separated), for a
        /// room system that sends its parameter sets only there and never in band.
        sprop_parameter_sets: Option<String>,
    },
    /// H.263 in the RFC 2190 packetization (`H263`, static payload type 34).
    H263 {
        /// Its payload type: [`STATIC_PT_H263`] unless negotiated otherwise.
        payload_type: u8,
    },
    /// H.263 in the RFC 4629 packetization (`H263-1998` / `H263-2000`, dynamic payload type).
    H263Plus {
        /// Its dynamic payload type.
        payload_type: u8,
    },
    /// H.261 (RFC 4587, static payload type 31).
    H261 {
        /// Its payload type: [`STATIC_PT_H261`] unless negotiated otherwise.
        payload_type: u8,
    },
}

impl VideoIn {
    /// H.264 on `payload_type`, parameter sets in band.
    pub fn h264(payload_type: u8) -> Self {
        Self::H264 {
            payload_type,
            sprop_parameter_sets: None,
        }
    }

    /// The payload type the uplink accepts; packets with another are dropped and counted.
    pub fn payload_type(&self) -> u8 {
        match self {
            Self::H264 { payload_type, .. }
            | Self::H263 { payload_type }
            | Self::H263Plus { payload_type }
            | Self::H261 { payload_type } => *payload_type,
        }
    }
}

impl Default for VideoIn {
    /// H.264 on payload type 96, parameter sets in band.
    fn default() -> Self {
        Self::h264(96)
    }
}

/// The room system's audio as negotiated: the codec and its payload type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioIn {
    /// G.711 µ-law (PCMU, 8 kHz).
    Pcmu {
        /// Its payload type: [`STATIC_PT_PCMU`] unless negotiated otherwise.
        payload_type: u8,
    },
    /// G.711 A-law (PCMA, 8 kHz).
    Pcma {
        /// Its payload type: [`STATIC_PT_PCMA`] unless negotiated otherwise.
        payload_type: u8,
    },
    /// G.722 (16 kHz audio; its RTP clock is 8000 by RFC 3551's historical error).
    G722 {
        /// Its payload type: [`STATIC_PT_G722`] unless negotiated otherwise.
        payload_type: u8,
    },
    /// Opus (RFC 7587, RTP clock 48000, dynamic payload type).
    Opus {
        /// Its dynamic payload type.
        payload_type: u8,
    },
}

impl AudioIn {
    /// The payload type the uplink accepts; packets with another (RFC 4733 telephone events,
    /// RFC 3389 comfort noise, ...) are dropped and counted.
    pub fn payload_type(&self) -> u8 {
        match self {
            Self::Pcmu { payload_type }
            | Self::Pcma { payload_type }
            | Self::G722 { payload_type }
            | Self::Opus { payload_type } => *payload_type,
        }
    }
}

impl Default for AudioIn {
    /// PCMU on its static payload type 0.
    fn default() -> Self {
        Self::Pcmu {
            payload_type: STATIC_PT_PCMU,
        }
    }
}

/// What the VTC sends the node, as the uplink receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct UplinkSpec {
    /// The video codec, its packetization and payload type: H.264 on 96 by default.
    pub video: VideoIn,
    /// The audio codec and its payload type: PCMU on 0 by default.
    pub audio: AudioIn,
    /// Jitter-buffer latency of the VTC's RTP: 50 ms.
    pub jitter_latency: Duration,
}

impl Default for UplinkSpec {
    /// H.264 on payload type 96 (parameter sets in band), PCMU on 0, 50 ms jitter buffer.
    fn default() -> Self {
        Self {
            video: VideoIn::default(),
            audio: AudioIn::default(),
            jitter_latency: Duration::from_millis(50),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ladder_fits_meets_cap() {
        let table = LayerTable::default();
        let sizes: Vec<_> = table
            .layers
            .iter()
            .map(|l| (l.rid.as_str(), l.width, l.height))
            .collect();
        assert_eq!(sizes, [("q", 320, 180), ("h", 640, 360), ("f", 1280, 720)]);
        assert!(table.total_bps() <= MAX_UPLINK_BPS);
        assert_eq!(table.by_ssrc(0x7C1_0003).map(|l| l.rid.as_str()), Some("f"));
        assert_eq!(table.by_rid("h").map(|l| l.width), Some(640));
    }
}
