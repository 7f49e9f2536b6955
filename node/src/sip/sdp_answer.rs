//! Answering a caller's SDP offer on the node's ports, written once for every far end (the
//! test service, the Meet gateway call): our endpoints, the SRTP policy from
//! `sip.media_encryption`, fresh SDES keys, and the codecs the far end can take.

use std::net::IpAddr;

use signaling::sdp::{
    self as sdp, AnswerParams, CryptoPolicy, Endpoint, LocalCapabilities, NegotiatedMedia,
    SessionDescription,
};

use crate::config::MediaEncryption;
use crate::media_ports::PortPair;

/// Our endpoint on `pair` at `address`.
pub(crate) fn endpoint(address: IpAddr, pair: &PortPair) -> Endpoint {
    Endpoint {
        address,
        rtp_port: pair.rtp(),
        rtcp_port: pair.rtcp(),
    }
}

/// `sip.media_encryption` as the SDP layer's policy.
pub(crate) fn crypto_policy(setting: MediaEncryption) -> CryptoPolicy {
    match setting {
        MediaEncryption::On => CryptoPolicy::On,
        MediaEncryption::BestEffort => CryptoPolicy::BestEffort,
        MediaEncryption::Off => CryptoPolicy::Off,
    }
}

/// The answer to `offer` (its `o=` version `version`) with `caps`, on our `(audio, video)`
/// endpoints; `Err` is the SIP status of the refusal (488 when nothing fits).
pub(crate) fn negotiate(
    offer: &SessionDescription,
    (audio, video): (Endpoint, Endpoint),
    session_id: u64,
    version: u64,
    crypto: CryptoPolicy,
    caps: &LocalCapabilities,
) -> Result<(SessionDescription, NegotiatedMedia), u16> {
    let mut keys = [0u8; 60];
    rand::fill(&mut keys);
    let params = AnswerParams {
        caps,
        audio,
        video,
        crypto,
        srtp_key_material: keys,
        session_id,
        session_version: version,
        username: "tcn",
    };
    sdp::answer(offer, &params).map_err(|e| e.sip_status())
}
