//! What our side brings to an offer or answer: codecs, endpoints, SRTP policy and keys, and
//! the `o=` identity; and the parts of our SDP that follow from them alone.

use std::fmt;

use super::caps::{CryptoPolicy, Endpoint, LocalCapabilities};
use super::crypto::SRTP_KEY_SALT_LEN;
use super::parse::is_token;
use super::session::{
    Attribute, Connection, MediaDescription, MediaKind, Origin, SessionDescription, addr_type_of,
};

/// What we bring to an answer (and, as [`OfferParams`], to an offer).
/// `Debug` hides the key material.
#[derive(Clone, Copy)]
pub struct AnswerParams<'a> {
    /// Our codecs and feedback.
    pub caps: &'a LocalCapabilities,
    /// Our audio endpoint.
    pub audio: Endpoint,
    /// Our video endpoint.
    pub video: Endpoint,
    /// Our SRTP policy.
    pub crypto: CryptoPolicy,
    /// Fresh random SRTP master keys and salts from the caller: bytes 0..30 for audio, 30..60
    /// for video.
    pub srtp_key_material: [u8; 60],
    /// `o=` session id (RFC 8866 §5.2), random and kept for the dialog.
    pub session_id: u64,
    /// `o=` version, increased for every new description in the dialog (RFC 3264 §8).
    pub session_version: u64,
    /// `o=` user name, e.g. `tcn`; `-` is used instead of anything that is not an RFC 8866
    /// token.
    pub username: &'a str,
}

impl fmt::Debug for AnswerParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnswerParams")
            .field("caps", &self.caps)
            .field("audio", &self.audio)
            .field("video", &self.video)
            .field("crypto", &self.crypto)
            .field("srtp_key_material", &"<redacted>")
            .field("session_id", &self.session_id)
            .field("session_version", &self.session_version)
            .field("username", &self.username)
            .finish()
    }
}

impl AnswerParams<'_> {
    /// Our SRTP master key and salt for a media kind.
    pub(crate) fn key(&self, kind: StreamKind) -> [u8; SRTP_KEY_SALT_LEN] {
        let mut key = [0; SRTP_KEY_SALT_LEN];
        let offset = match kind {
            StreamKind::Audio => 0,
            StreamKind::Video => SRTP_KEY_SALT_LEN,
        };
        // offset + i < 60: offset is 0 or 30 and i < 30.
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = self.srtp_key_material[offset + i];
        }
        key
    }

    /// Our endpoint for a media kind.
    pub(crate) fn endpoint(&self, kind: StreamKind) -> Endpoint {
        match kind {
            StreamKind::Audio => self.audio,
            StreamKind::Video => self.video,
        }
    }

    /// A description with our `o=` line, `c=` the audio address and no media.
    pub(crate) fn empty_description(&self) -> SessionDescription {
        let address = self.audio.address;
        let mut description = SessionDescription::new(Origin {
            username: if !is_token(self.username) {
                "-".to_owned()
            } else {
                self.username.to_owned()
            },
            session_id: self.session_id,
            session_version: self.session_version,
            net_type: "IN".to_owned(),
            addr_type: addr_type_of(address).to_owned(),
            address: address.to_string(),
        });
        description.connection = Some(Connection::from_ip(address));
        description
    }

    /// The `m=` line for one of our streams: port, our `c=` when it differs from the session's,
    /// `a=rtcp` when RTCP is not on the next port up (RFC 3605 §2.1).
    pub(crate) fn media_line(
        &self,
        kind: StreamKind,
        protocol: &str,
        mux: bool,
    ) -> MediaDescription {
        let endpoint = self.endpoint(kind);
        let mut media = MediaDescription::new(kind.media_kind(), endpoint.rtp_port, protocol);
        if endpoint.address != self.audio.address {
            media.connection = Some(Connection::from_ip(endpoint.address));
        }
        if !mux && Some(endpoint.rtcp_port) != endpoint.rtp_port.checked_add(1) {
            media
                .attributes
                .push(Attribute::new("rtcp", endpoint.rtcp_port.to_string()));
        }
        media
    }
}

/// Audio or video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Audio,
    Video,
}

impl StreamKind {
    pub(crate) fn media_kind(self) -> MediaKind {
        match self {
            Self::Audio => MediaKind::Audio,
            Self::Video => MediaKind::Video,
        }
    }
}

/// What we bring to an offer: the same as to an answer.
pub type OfferParams<'a> = AnswerParams<'a>;
