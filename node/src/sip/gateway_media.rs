//! What a gateway call takes from a room system, and what the negotiated SDP makes of the media
//! plane: the uplink's input ([`UplinkSpec`]) and the downlink's output ([`DownlinkSpec`]).
//!
//! **Offered and taken** (our answer picks the first of ours the room system has):
//! - video: H.264 Constrained Baseline (Baseline counts as one with it), High and Main, each up
//!   to level 4.1 (1080p30 in) in packetization modes 1 and 0; then H.263-1998, H.263 (RFC
//!   2190) and H.261. Constrained Baseline goes first: every room system decodes it, and it is
//!   the cheapest for the node to encode.
//! - audio: Opus, G.722, G.711 µ-law, G.711 A-law (wideband first: it is what Meet carries);
//!   RFC 4733 telephone events beside them (DTMF), kept out of the audio path.
//!
//! **What the room system receives** (the 1+7 composite): in H.264, the agreed profile at the
//! largest of 1280×720, 960×540, 640×360, 352×288 and 176×144 at 30 fps that its level (or its
//! `max-fs` / `max-mbps`) allows, in the agreed packetization mode; in H.263 4CIF, CIF or QCIF,
//! the largest it listed (QCIF when it listed none), at its `MPI`'s frame rate; in H.261 CIF
//! or QCIF likewise. Audio in the agreed codec with its `a=ptime` (the nearest the codec can
//! packetize). A room system's `b=AS`/`b=TIAS` caps the video bitrate.

use std::time::Duration;

use pipelines::downlink::{
    AudioCodecOut, AudioOut, DownlinkSpec, H264Level, H264Profile, Packetization, PictureFormat,
    VideoCodecOut, VideoOut,
};
use pipelines::{AudioIn, UplinkSpec, VideoIn};
use signaling::sdp::{
    AudioCodec, H263Format, H264Profile as SdpProfile, LocalCapabilities, NegotiatedStream,
    ProfileLevelId, VideoCodec, VideoFormat,
};

/// The level the node decodes up to: 4.1 (1920×1080 at 30 fps in).
const RECEIVE_LEVEL_IDC: u8 = 41;

/// The codecs a gateway call offers to take, best first (module docs).
pub(crate) fn gateway_caps() -> LocalCapabilities {
    let h264 = |profile_idc: u8, profile_iop: u8| VideoCodec::H264 {
        profile_level_id: ProfileLevelId {
            profile_idc,
            profile_iop,
            level_idc: RECEIVE_LEVEL_IDC,
        },
        packetization_modes: vec![1, 0],
    };
    LocalCapabilities {
        audio: vec![
            AudioCodec::Opus,
            AudioCodec::G722,
            AudioCodec::Pcmu,
            AudioCodec::Pcma,
        ],
        video: vec![
            // Constrained Baseline (42e0xx), High (6400xx), Main (4d00xx)
            h264(0x42, 0xe0),
            h264(0x64, 0x00),
            h264(0x4d, 0x00),
            VideoCodec::H263Plus,
            VideoCodec::H263,
            VideoCodec::H261,
        ],
        ..LocalCapabilities::default()
    }
}

/// The uplink's input: the agreed codecs and payload types.
pub(crate) fn uplink_spec(
    audio: &NegotiatedStream<signaling::sdp::AudioFormat>,
    video: &NegotiatedStream<VideoFormat>,
) -> UplinkSpec {
    let payload_type = video.payload_type;
    let video_in = match &video.format.codec {
        VideoCodec::H264 { .. } => VideoIn::H264 {
            payload_type,
            sprop_parameter_sets: video.format.sprop_parameter_sets.clone(),
        },
        VideoCodec::H263 => VideoIn::H263 { payload_type },
        VideoCodec::H263Plus => VideoIn::H263Plus { payload_type },
        VideoCodec::H261 => VideoIn::H261 { payload_type },
        // never offered to a room system (gateway_caps)
        VideoCodec::Vp8 => VideoIn::h264(payload_type),
    };
    let payload_type = audio.payload_type;
    let audio_in = match audio.format.codec {
        AudioCodec::Pcmu => AudioIn::Pcmu { payload_type },
        AudioCodec::Pcma => AudioIn::Pcma { payload_type },
        AudioCodec::G722 => AudioIn::G722 { payload_type },
        AudioCodec::Opus => AudioIn::Opus { payload_type },
    };
    UplinkSpec {
        video: video_in,
        audio: audio_in,
        ..UplinkSpec::default()
    }
}

/// The H.264 sizes the composite is sent at, largest first (each 16:9 but the ITU ones).
const H264_SIZES: [(u32, u32); 5] = [(1280, 720), (960, 540), (640, 360), (352, 288), (176, 144)];

/// The largest of [`H264_SIZES`] at 30 fps that a decoder of `level` (and of the peer's
/// `max-fs` / `max-mbps`, which can only raise the level's) takes.
fn h264_size(format: &VideoFormat, level: signaling::sdp::H264Level) -> (u32, u32) {
    let (level_fs, level_mbps) = level.limits();
    let max_fs = format.max_fs.unwrap_or(0).max(level_fs);
    let max_mbps = format.max_mbps.unwrap_or(0).max(level_mbps);
    H264_SIZES
        .into_iter()
        .find(|(w, h)| {
            let mbs = w.div_ceil(16) * h.div_ceil(16);
            mbs <= max_fs && mbs * 30 <= max_mbps
        })
        .unwrap_or((176, 144))
}

/// The ITU picture format to send: the largest the peer listed that the codec has, QCIF when
/// it listed none (RFC 4629 §8.1.1), and its frame rate from the `MPI`.
fn itu_format(format: &VideoFormat, codec: VideoCodecOut) -> (PictureFormat, u32) {
    let ours = |f: H263Format| match f {
        H263Format::Qcif => Some(PictureFormat::Qcif),
        H263Format::Cif => Some(PictureFormat::Cif),
        H263Format::Cif4 => Some(PictureFormat::FourCif),
        H263Format::Sqcif | H263Format::Cif16 => None,
    };
    let allowed = codec.formats().unwrap_or_default();
    format
        .h263_sizes
        .iter()
        .filter_map(|s| Some((ours(s.format)?, s.mpi)))
        .filter(|(f, _)| allowed.contains(f))
        .max_by_key(|(f, _)| f.size().0)
        .map(|(f, mpi)| (f, (30 / u32::from(mpi.max(1))).max(1)))
        .unwrap_or((PictureFormat::Qcif, 30))
}

/// The downlink's output: the 1+7 composite in the agreed video codec, the mix in the agreed
/// audio codec (module docs).
pub(crate) fn downlink_spec(
    audio: &NegotiatedStream<signaling::sdp::AudioFormat>,
    video: &NegotiatedStream<VideoFormat>,
) -> DownlinkSpec {
    let mut out = match &video.format.codec {
        VideoCodec::H264 {
            profile_level_id,
            packetization_modes,
        } => {
            let level = video
                .format
                .h264_send_level
                .unwrap_or(signaling::sdp::H264Level::L3_1);
            let (width, height) = h264_size(&video.format, level);
            VideoOut {
                codec: VideoCodecOut::H264,
                width,
                height,
                profile: match profile_level_id.profile() {
                    SdpProfile::Baseline => H264Profile::Baseline,
                    SdpProfile::Main => H264Profile::Main,
                    SdpProfile::High | SdpProfile::ConstrainedHigh => H264Profile::High,
                    SdpProfile::ConstrainedBaseline
                    | SdpProfile::Extended
                    | SdpProfile::Other(_) => H264Profile::ConstrainedBaseline,
                },
                level: H264Level::from_idc(level.level_idc()).unwrap_or_default(),
                packetization: if packetization_modes.first() == Some(&0) {
                    Packetization::SingleNal
                } else {
                    Packetization::NonInterleaved
                },
                ..VideoOut::default()
            }
        }
        itu => {
            let codec = match itu {
                VideoCodec::H263 => VideoCodecOut::H263,
                VideoCodec::H261 => VideoCodecOut::H261,
                _ => VideoCodecOut::H263Plus,
            };
            let (format, fps) = itu_format(&video.format, codec);
            VideoOut {
                fps,
                ..VideoOut::itu(codec, format)
            }
        }
    };
    out.payload_type = video.payload_type;
    out.ssrc = rand::random();
    if let Some(kbps) = video.bandwidth_kbps {
        out.bitrate_kbps = out.bitrate_kbps.min(kbps.max(64));
    }
    let codec = match audio.format.codec {
        AudioCodec::Pcmu => AudioCodecOut::Pcmu,
        AudioCodec::Pcma => AudioCodecOut::Pcma,
        AudioCodec::G722 => AudioCodecOut::G722,
        AudioCodec::Opus => AudioCodecOut::Opus,
    };
    DownlinkSpec {
        video: out,
        audio: AudioOut {
            codec,
            payload_type: audio.payload_type,
            ptime_ms: codec.ptime_for(audio.format.ptime_ms.unwrap_or(20)),
            ssrc: rand::random(),
        },
        // webrtcbin's jitter buffer has already ordered Meet's packets.
        jitter_latency: Duration::from_millis(20),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use signaling::sdp::{CryptoPolicy, Endpoint, SessionDescription};

    use super::*;
    use crate::sip::sdp_answer::negotiate;

    /// The node's answer to a room system offering `video` lines (one m=video) and PCMU.
    fn specs(video: &str) -> (UplinkSpec, DownlinkSpec) {
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:30\r\n{video}"
        );
        let offer = SessionDescription::parse(&offer).unwrap();
        let ep = |port| Endpoint {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rtp_port: port,
            rtcp_port: port + 1,
        };
        let (_, media) = negotiate(
            &offer,
            (ep(40_000), ep(40_002)),
            1,
            1,
            CryptoPolicy::Off,
            &gateway_caps(),
        )
        .unwrap();
        let (audio, video) = (media.audio.unwrap(), media.video.unwrap());
        (uplink_spec(&audio, &video), downlink_spec(&audio, &video))
    }

    #[test]
    fn high_profile_1080p_in_and_720p_out_at_the_room_systems_level() {
        let (up, down) = specs(
            "m=video 5002 RTP/AVP 100\r\na=rtpmap:100 H264/90000\r\n\
             a=fmtp:100 profile-level-id=640028;packetization-mode=1;level-asymmetry-allowed=1\r\n",
        );
        assert!(matches!(
            up.video,
            VideoIn::H264 {
                payload_type: 100,
                ..
            }
        ));
        assert_eq!(down.video.profile, H264Profile::High);
        assert_eq!(down.video.level.idc(), 40);
        assert_eq!((down.video.width, down.video.height), (1280, 720));
        assert_eq!(down.audio.ptime_ms, 30);
    }

    #[test]
    fn a_lower_level_gets_a_smaller_composite_and_mode_0_is_kept() {
        // Level 3.0 (1620 macroblocks): 720p is too large, 960x540 (2040) too, 640x360 fits.
        let (_, down) = specs(
            "m=video 5002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n\
             a=fmtp:97 profile-level-id=42e01e;packetization-mode=0\r\n",
        );
        assert_eq!((down.video.width, down.video.height), (640, 360));
        assert_eq!(down.video.packetization, Packetization::SingleNal);
        // ... unless max-fs says more
        let (_, down) = specs(
            "m=video 5002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n\
             a=fmtp:97 profile-level-id=42e01e;packetization-mode=1;max-fs=3600;max-mbps=108000\r\n",
        );
        assert_eq!((down.video.width, down.video.height), (1280, 720));
    }

    #[test]
    fn itu_codecs_take_the_largest_size_listed_and_its_rate() {
        let (up, down) = specs(
            "m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H263-1998/90000\r\na=fmtp:96 CIF4=2;CIF=1\r\n",
        );
        assert_eq!(up.video, VideoIn::H263Plus { payload_type: 96 });
        assert_eq!(down.video.codec, VideoCodecOut::H263Plus);
        assert_eq!(
            (down.video.width, down.video.height, down.video.fps),
            (704, 576, 15)
        );
        let (up, down) = specs("m=video 5002 RTP/AVP 31\r\n");
        assert_eq!(up.video, VideoIn::H261 { payload_type: 31 });
        // no sizes listed: QCIF
        assert_eq!((down.video.width, down.video.height), (176, 144));
        assert_eq!(down.video.payload_type, 31);
    }
}
