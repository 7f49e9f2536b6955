//! SRTP and SRTCP (RFC 3711) for streams keyed through SDES (RFC 4568): the two AES counter
//! mode suites with HMAC-SHA1, over the `webrtc-srtp` crate.
//!
//! An [`SrtpSession`] is built from the [`SrtpContext`] that SDP negotiation agreed. It
//! unprotects what the peer sends (with the peer's key, `remote_key`) and protects what we send
//! (with ours, `local_key`). Keys never leave it: its `Debug` shows the suite only.
//!
//! What this wrapper adds to `webrtc-srtp` 0.17, and why:
//! * **Replay protection after authentication.** The crate's replay window takes its position
//!   from the first packet it checks, before the tag is verified, so one forged packet ahead of
//!   a new stream makes the genuine packets look stale (tested below). Here the crate's window
//!   is off; ours (RFC 3711 §3.3.2, 128 packets per SSRC) is checked before decryption and
//!   updated only after the tag verified.
//! * **SRTCP must be encrypted.** The crate returns an SRTCP packet whose E flag is clear without
//!   checking its tag. We never agree `UNENCRYPTED_SRTCP` (SDES session parameters are refused),
//!   so such a packet is refused here ([`SrtpError::UnencryptedRtcp`]).
//! * **Lengths first.** The crate indexes into an SRTCP packet before checking its length; we
//!   refuse packets too short to carry a header, an index and a tag before handing them over.
//!
//! Not here: MKIs, key lifetimes and re-keying (SDP negotiation refuses lines with them), and
//! the AEAD suites (not offered over SDES here). Known limit: the crate keeps a small state for
//! every SSRC it is handed, authenticated or not, for the life of the session.

use std::collections::HashMap;
use std::fmt;

use signaling::sdp::{CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_no_replay_protection, srtp_no_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

/// AES-128 master key length; the rest of the 30-byte key-salt is the 14-byte salt
/// (RFC 4568 §6.2.1).
const MASTER_KEY_LEN: usize = 16;

/// RTP fixed header (RFC 3550 §5.1).
const RTP_HEADER_LEN: usize = 12;

/// RTCP header up to and including the sender's SSRC (RFC 3550 §6.4.1): the part SRTCP leaves
/// unencrypted (RFC 3711 §3.4).
const RTCP_HEADER_LEN: usize = 8;

/// The E flag and 31-bit SRTCP index that follow the RTCP packet (RFC 3711 §3.4).
const SRTCP_INDEX_LEN: usize = 4;

/// The SRTCP authentication tag: 80 bits for both suites (RFC 4568 §6.2.1, §6.2.2).
const SRTCP_TAG_LEN: usize = 10;

/// Packets remembered behind the newest one, per SSRC (RFC 3711 §3.3.2 asks for at least 64;
/// libsrtp keeps 128).
const REPLAY_WINDOW: u64 = 128;

/// Why a packet could not be protected or unprotected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// Shorter than a header and an authentication tag (and, for SRTCP, the index).
    #[error("packet too short for SRTP: {len} bytes")]
    TooShort {
        /// The packet's length.
        len: usize,
    },
    /// Not an RTP or RTCP packet: wrong version, or a header that does not parse.
    #[error("not a valid RTP/RTCP packet")]
    Malformed,
    /// The authentication tag does not match: wrong key, or the packet was altered.
    #[error("SRTP authentication failed")]
    Authentication,
    /// Already received, or older than the replay window.
    #[error("SRTP replay: packet already received or too old")]
    Replay,
    /// An SRTCP packet with the E flag clear; unencrypted SRTCP was never agreed.
    #[error("unencrypted SRTCP packet")]
    UnencryptedRtcp,
    /// The key protected as many packets as it may (RFC 3711 §9.2); the stream needs new keys.
    #[error("SRTP key exhausted")]
    KeyExhausted,
    /// Anything else the SRTP library reported.
    #[error("SRTP failure")]
    Other,
}

impl SrtpError {
    /// Every label, for pre-creating metric series.
    pub const LABELS: [&'static str; 7] = [
        "too_short",
        "malformed",
        "auth",
        "replay",
        "unencrypted_rtcp",
        "key_exhausted",
        "other",
    ];

    /// The metric label (`tcn_srtp_errors_total{reason}`).
    pub fn label(self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::Malformed => "malformed",
            Self::Authentication => "auth",
            Self::Replay => "replay",
            Self::UnencryptedRtcp => "unencrypted_rtcp",
            Self::KeyExhausted => "key_exhausted",
            Self::Other => "other",
        }
    }

    /// Classifies an error of the `webrtc-srtp` crate about a packet of `len` bytes.
    fn from_library(error: &webrtc_srtp::Error, len: usize) -> Self {
        use webrtc_srtp::Error as E;
        match error {
            E::ErrTooShortRtp
            | E::ErrTooShortRtcp
            | E::SrtpTooSmall(..)
            | E::SrtcpTooSmall(..)
            | E::RtcpInvalidLengthAuthTag(..) => Self::TooShort { len },
            E::ErrFailedToVerifyAuthTag
            | E::RtpFailedToVerifyAuthTag
            | E::RtcpFailedToVerifyAuthTag => Self::Authentication,
            E::ErrDuplicated | E::SrtpSsrcDuplicated(..) | E::SrtcpSsrcDuplicated(..) => {
                Self::Replay
            }
            E::ErrExceededMaxPackets => Self::KeyExhausted,
            E::Util(_) | E::Rtcp(_) => Self::Malformed,
            _ => Self::Other,
        }
    }
}

/// The SRTP state of one stream: what we receive is unprotected with the peer's key, what we
/// send is protected with ours. One session per socket; it is not shared between tasks.
pub struct SrtpSession {
    suite: CryptoSuite,
    /// Keyed with the peer's master key and salt.
    inbound: Context,
    /// Keyed with ours.
    outbound: Context,
    /// Replay windows of authenticated SRTP, by SSRC, over the packet index (RFC 3711 §3.3.1).
    rtp_replay: HashMap<u32, ReplayWindow>,
    /// Replay windows of authenticated SRTCP, by SSRC, over the SRTCP index.
    rtcp_replay: HashMap<u32, ReplayWindow>,
}

/// Shows the suite only: never the keys.
impl fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpSession")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// A session for the keys SDP negotiation agreed.
    pub fn new(keys: &SrtpContext) -> Self {
        let profile = match keys.suite {
            CryptoSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            CryptoSuite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        };
        Self {
            suite: keys.suite,
            inbound: context(&keys.remote_key, profile),
            outbound: context(&keys.local_key, profile),
            rtp_replay: HashMap::new(),
            rtcp_replay: HashMap::new(),
        }
    }

    /// The suite in use.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// Authenticates and decrypts one SRTP packet from the peer, returning the RTP packet.
    ///
    /// # Errors
    ///
    /// [`SrtpError`] when the packet is too short, not RTP, fails authentication or is a replay;
    /// the session is unchanged then.
    pub fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let header = packet
            .first_chunk::<RTP_HEADER_LEN>()
            .ok_or(SrtpError::TooShort { len: packet.len() })?;
        if header[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        check_rtp_header(packet)?;
        let sequence = u16::from_be_bytes([header[2], header[3]]);
        let ssrc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        let highest = self.rtp_replay.get(&ssrc).and_then(|w| w.highest);
        let index = estimate_index(highest, sequence).ok_or(SrtpError::Replay)?;
        if self
            .rtp_replay
            .get(&ssrc)
            .is_some_and(|w| !w.is_fresh(index))
        {
            return Err(SrtpError::Replay);
        }
        let plain = self
            .inbound
            .decrypt_rtp(packet)
            .map_err(|e| SrtpError::from_library(&e, packet.len()))?;
        self.rtp_replay.entry(ssrc).or_default().accept(index);
        Ok(plain.into())
    }

    /// Authenticates and decrypts one SRTCP packet from the peer, returning the RTCP packet.
    ///
    /// # Errors
    ///
    /// [`SrtpError`] when the packet is too short, not RTCP, unencrypted, fails authentication
    /// or is a replay; the session is unchanged then.
    pub fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let len = packet.len();
        if len < RTCP_HEADER_LEN + SRTCP_INDEX_LEN + SRTCP_TAG_LEN {
            return Err(SrtpError::TooShort { len });
        }
        if packet[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let at = len - SRTCP_TAG_LEN - SRTCP_INDEX_LEN;
        let e_and_index =
            u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]]);
        // RFC 3711 §3.4: the E flag is the top bit; the library would return an E=0 packet
        // without verifying its tag.
        if e_and_index >> 31 == 0 {
            return Err(SrtpError::UnencryptedRtcp);
        }
        let index = u64::from(e_and_index & 0x7fff_ffff);
        if self
            .rtcp_replay
            .get(&ssrc)
            .is_some_and(|w| !w.is_fresh(index))
        {
            return Err(SrtpError::Replay);
        }
        let plain = self
            .inbound
            .decrypt_rtcp(packet)
            .map_err(|e| SrtpError::from_library(&e, packet.len()))?;
        self.rtcp_replay.entry(ssrc).or_default().accept(index);
        Ok(plain.into())
    }

    /// Encrypts and authenticates one RTP packet to send: the result is the packet with its
    /// payload encrypted and the tag appended (10 bytes for `_80`, 4 for `_32`).
    ///
    /// # Errors
    ///
    /// [`SrtpError::Malformed`] when `packet` is not RTP, [`SrtpError::KeyExhausted`] after
    /// 2^48 packets.
    pub fn protect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        if packet.len() < RTP_HEADER_LEN {
            return Err(SrtpError::TooShort { len: packet.len() });
        }
        check_rtp_header(packet)?;
        self.outbound
            .encrypt_rtp(packet)
            .map(Into::into)
            .map_err(|e| SrtpError::from_library(&e, packet.len()))
    }

    /// Encrypts and authenticates one RTCP packet to send: the result carries the SRTCP index
    /// with the E flag set and a 10-byte tag.
    ///
    /// # Errors
    ///
    /// [`SrtpError::TooShort`] or [`SrtpError::Malformed`] when `packet` is not RTCP.
    pub fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        if packet.len() < RTCP_HEADER_LEN {
            return Err(SrtpError::TooShort { len: packet.len() });
        }
        self.outbound
            .encrypt_rtcp(packet)
            .map(Into::into)
            .map_err(|e| SrtpError::from_library(&e, packet.len()))
    }
}

/// A one-way `webrtc-srtp` context for a 30-byte master key and salt, with the library's replay
/// protection off (ours runs after authentication).
fn context(key_salt: &[u8; SRTP_KEY_SALT_LEN], profile: ProtectionProfile) -> Context {
    let (key, salt) = key_salt.split_at(MASTER_KEY_LEN);
    Context::new(
        key,
        salt,
        profile,
        Some(srtp_no_replay_protection()),
        Some(srtcp_no_replay_protection()),
    )
    // Fails only for a key or salt of the wrong length or a profile it does not know: the
    // lengths are fixed by the type above and both AES-CM-128 profiles are known.
    .expect("16-byte key and 14-byte salt for an AES-CM-128 profile")
}

/// The packet index of a received sequence number, given the highest index accepted from its
/// SSRC (RFC 3711 §3.3.1 and Appendix A); the first packet starts with a rollover counter of 0
/// (SDES keys come without one). `None` for a packet from before index 0.
fn estimate_index(highest: Option<u64>, sequence: u16) -> Option<u64> {
    const HALF: u16 = 1 << 15;
    let Some(highest) = highest else {
        return Some(u64::from(sequence));
    };
    let roc = highest >> 16;
    let latest = highest as u16; // the low 16 bits: the highest sequence number seen
    let roc = if latest < HALF {
        if sequence > latest && sequence - latest > HALF {
            roc.checked_sub(1)?
        } else {
            roc
        }
    } else if latest - HALF > sequence {
        roc + 1
    } else {
        roc
    };
    Some(roc << 16 | u64::from(sequence))
}

/// RFC 3711 §3.3.2: the highest index accepted and which of the [`REPLAY_WINDOW`] indices
/// before it were (bit n set: `highest - n` was accepted).
#[derive(Debug, Default)]
struct ReplayWindow {
    highest: Option<u64>,
    seen: u128,
}

impl ReplayWindow {
    /// True when `index` is newer than every accepted one, or inside the window and not seen.
    fn is_fresh(&self, index: u64) -> bool {
        match self.highest {
            Some(highest) if index <= highest => {
                let behind = highest - index;
                behind < REPLAY_WINDOW && self.seen & (1 << behind) == 0
            }
            _ => true,
        }
    }

    /// Records an authenticated packet.
    fn accept(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => self.seen |= 1 << (highest - index),
            _ => {
                let ahead = self
                    .highest
                    .map_or(REPLAY_WINDOW, |highest| index - highest);
                self.seen = if ahead >= REPLAY_WINDOW {
                    0
                } else {
                    self.seen << ahead
                };
                self.seen |= 1;
                self.highest = Some(index);
            }
        }
    }
}

/// Checks that the RTP header (CSRCs and the RFC 8285 extension block with each of its
/// elements) lies inside the packet, before the packet reaches the `rtp` crate: its parser
/// panics on an extension element longer than the data (fuzz finding; one forged packet
/// would stop a call's receiver), and webrtc-srtp parses the header before it checks the tag.
fn check_rtp_header(packet: &[u8]) -> Result<(), SrtpError> {
    let first = *packet.first().ok_or(SrtpError::TooShort { len: 0 })?;
    let csrc_end = RTP_HEADER_LEN + 4 * usize::from(first & 0x0f);
    if packet.len() < csrc_end {
        return Err(SrtpError::Malformed);
    }
    if first & 0x10 == 0 {
        return Ok(());
    }
    let word = |at: usize| -> Result<u16, SrtpError> {
        packet
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(SrtpError::Malformed)
    };
    let profile = word(csrc_end)?;
    let start = csrc_end + 4;
    let end = start + 4 * usize::from(word(csrc_end + 2)?);
    if packet.len() < end {
        return Err(SrtpError::Malformed);
    }
    let block = &packet[start..end];
    let mut at = 0;
    if profile == 0xBEDE {
        // One-byte elements (RFC 8285 §4.2): ID 4 bits, length - 1 in 4 bits; 0 pads.
        while let Some(&byte) = block.get(at) {
            if byte == 0 {
                at += 1;
                continue;
            }
            if byte >> 4 == 15 {
                break;
            }
            at += 1 + usize::from(byte & 0x0f) + 1;
            if at > block.len() {
                return Err(SrtpError::Malformed);
            }
        }
    } else if profile & 0xfff0 == 0x1000 {
        // Two-byte elements (§4.3): ID byte, length byte; 0 pads.
        while let Some(&id) = block.get(at) {
            if id == 0 {
                at += 1;
                continue;
            }
            let len = usize::from(*block.get(at + 1).ok_or(SrtpError::Malformed)?);
            at += 2 + len;
            if at > block.len() {
                return Err(SrtpError::Malformed);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITES: [CryptoSuite; 2] = [
        CryptoSuite::AesCm128HmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32,
    ];

    /// Two ends of one stream: what `sender` protects, `receiver` unprotects.
    fn pair(suite: CryptoSuite) -> (SrtpSession, SrtpSession) {
        let (a, b) = ([0x11; SRTP_KEY_SALT_LEN], [0x22; SRTP_KEY_SALT_LEN]);
        let keys = |local_key, remote_key| SrtpContext {
            suite,
            local_key,
            remote_key,
            tag: 1,
        };
        (SrtpSession::new(&keys(a, b)), SrtpSession::new(&keys(b, a)))
    }

    fn rtp(sequence: u16, ssrc: u32, payload_len: usize) -> Vec<u8> {
        let mut packet = vec![0x80, 96];
        packet.extend_from_slice(&sequence.to_be_bytes());
        packet.extend_from_slice(&u32::from(sequence).wrapping_mul(3000).to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend((0..payload_len).map(|i| i as u8));
        packet
    }

    /// An RTCP receiver report with one report block (RFC 3550 §6.4.2).
    fn rtcp(ssrc: u32) -> Vec<u8> {
        let mut packet = vec![0x81, 201, 0, 7];
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(&[0x5a; 24]);
        packet
    }

    /// libsrtp's reference packets (`test/srtp_driver.c`, `srtp_validate`): the default policy
    /// (AES_CM_128_HMAC_SHA1_80), SSRC 0xcafebabe, the first SRTCP index 1.
    mod libsrtp {
        pub(super) const KEY: [u8; 30] = [
            0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde,
            0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a,
            0xab, 0xe6,
        ];
        pub(super) const RTP: [u8; 28] = [
            0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        ];
        /// The `_80` packet; the `_32` one is its first 32 bytes (the same keystream, the same
        /// HMAC truncated to 4 bytes).
        pub(super) const SRTP: [u8; 38] = [
            0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55,
            0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02,
            0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
        ];
        pub(super) const RTCP: [u8; 24] = [
            0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        ];
        pub(super) const SRTCP: [u8; 38] = [
            0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87,
            0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01,
            0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
        ];
    }

    #[test]
    fn libsrtp_reference_packets() {
        for (suite, srtp_len) in [
            (CryptoSuite::AesCm128HmacSha1_80, 38),
            (CryptoSuite::AesCm128HmacSha1_32, 32),
        ] {
            let keys = SrtpContext {
                suite,
                local_key: libsrtp::KEY,
                remote_key: libsrtp::KEY,
                tag: 1,
            };
            let mut session = SrtpSession::new(&keys);
            let srtp = &libsrtp::SRTP[..srtp_len];
            assert_eq!(session.protect_rtp(&libsrtp::RTP).unwrap(), srtp, "{suite}");
            assert_eq!(
                session.unprotect_rtp(srtp).unwrap(),
                libsrtp::RTP,
                "{suite}"
            );
            assert_eq!(
                session.protect_rtcp(&libsrtp::RTCP).unwrap(),
                libsrtp::SRTCP,
                "{suite}: SRTCP has an 80-bit tag in both suites"
            );
            assert_eq!(
                session.unprotect_rtcp(&libsrtp::SRTCP).unwrap(),
                libsrtp::RTCP,
                "{suite}"
            );
        }
    }

    #[test]
    fn rtp_round_trip_for_both_suites() {
        for suite in SUITES {
            let (mut sender, mut receiver) = pair(suite);
            for sequence in [0, 1, 2, 500, 501] {
                let plain = rtp(sequence, 0xdead_beef, 160);
                let protected = sender.protect_rtp(&plain).unwrap();
                assert_eq!(protected[..RTP_HEADER_LEN], plain[..RTP_HEADER_LEN]);
                assert_ne!(
                    protected[RTP_HEADER_LEN..plain.len()],
                    plain[RTP_HEADER_LEN..],
                    "{suite}: the payload is encrypted"
                );
                assert_eq!(
                    receiver.unprotect_rtp(&protected).unwrap(),
                    plain,
                    "{suite}"
                );
            }
        }
    }

    #[test]
    fn rtcp_round_trip_for_both_suites() {
        for suite in SUITES {
            let (mut sender, mut receiver) = pair(suite);
            for _ in 0..3 {
                let plain = rtcp(0x0102_0304);
                let protected = sender.protect_rtcp(&plain).unwrap();
                // RFC 3711 §3.4: E flag and index, then an 80-bit tag for both suites.
                assert_eq!(
                    protected.len(),
                    plain.len() + SRTCP_INDEX_LEN + SRTCP_TAG_LEN
                );
                assert_eq!(
                    receiver.unprotect_rtcp(&protected).unwrap(),
                    plain,
                    "{suite}"
                );
            }
        }
    }

    #[test]
    fn tag_is_10_bytes_for_80_and_4_bytes_for_32() {
        for (suite, tag) in [
            (CryptoSuite::AesCm128HmacSha1_80, 10),
            (CryptoSuite::AesCm128HmacSha1_32, 4),
        ] {
            let (mut sender, _) = pair(suite);
            let plain = rtp(7, 1, 100);
            assert_eq!(
                sender.protect_rtp(&plain).unwrap().len(),
                plain.len() + tag,
                "{suite}"
            );
        }
    }

    #[test]
    fn any_tampered_byte_fails_authentication() {
        for suite in SUITES {
            let (mut sender, mut receiver) = pair(suite);
            let protected = sender.protect_rtp(&rtp(1, 9, 40)).unwrap();
            // Header (but not the version bits), payload and tag are all covered by the tag.
            for at in 1..protected.len() {
                let mut tampered = protected.clone();
                tampered[at] ^= 0x01;
                assert_eq!(
                    receiver.unprotect_rtp(&tampered),
                    Err(SrtpError::Authentication),
                    "{suite}: byte {at}"
                );
            }
            assert!(receiver.unprotect_rtp(&protected).is_ok(), "{suite}");

            let protected = sender.protect_rtcp(&rtcp(9)).unwrap();
            let mut tampered = protected.clone();
            tampered[12] ^= 0x80;
            assert_eq!(
                receiver.unprotect_rtcp(&tampered),
                Err(SrtpError::Authentication)
            );
        }
    }

    #[test]
    fn a_wrong_key_fails_authentication() {
        let (mut sender, _) = pair(CryptoSuite::AesCm128HmacSha1_80);
        let mut stranger_keys = SrtpContext {
            suite: CryptoSuite::AesCm128HmacSha1_80,
            local_key: [0; SRTP_KEY_SALT_LEN],
            remote_key: [0x11; SRTP_KEY_SALT_LEN],
            tag: 1,
        };
        stranger_keys.remote_key[0] ^= 1;
        let mut receiver = SrtpSession::new(&stranger_keys);
        let protected = sender.protect_rtp(&rtp(1, 9, 40)).unwrap();
        assert_eq!(
            receiver.unprotect_rtp(&protected),
            Err(SrtpError::Authentication)
        );
        assert_eq!(
            sender.unprotect_rtp(&protected),
            Err(SrtpError::Authentication),
            "the sender's receiving key is not the one it sends with"
        );
    }

    #[test]
    fn a_replayed_packet_is_refused() {
        for suite in SUITES {
            let (mut sender, mut receiver) = pair(suite);
            let first = sender.protect_rtp(&rtp(10, 5, 20)).unwrap();
            let second = sender.protect_rtp(&rtp(11, 5, 20)).unwrap();
            assert!(receiver.unprotect_rtp(&first).is_ok());
            assert_eq!(receiver.unprotect_rtp(&first), Err(SrtpError::Replay));
            assert!(receiver.unprotect_rtp(&second).is_ok());
            assert_eq!(receiver.unprotect_rtp(&second), Err(SrtpError::Replay));
            assert_eq!(receiver.unprotect_rtp(&first), Err(SrtpError::Replay));

            let report = sender.protect_rtcp(&rtcp(5)).unwrap();
            assert!(receiver.unprotect_rtcp(&report).is_ok());
            assert_eq!(receiver.unprotect_rtcp(&report), Err(SrtpError::Replay));
        }
    }

    #[test]
    fn reordered_packets_inside_the_window_are_taken_and_older_ones_refused() {
        let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
        let packets: Vec<Vec<u8>> = (0..200)
            .map(|seq| sender.protect_rtp(&rtp(seq, 3, 10)).unwrap())
            .collect();
        assert!(receiver.unprotect_rtp(&packets[199]).is_ok());
        assert!(receiver.unprotect_rtp(&packets[150]).is_ok(), "49 behind");
        assert!(receiver.unprotect_rtp(&packets[72]).is_ok(), "127 behind");
        assert_eq!(
            receiver.unprotect_rtp(&packets[71]),
            Err(SrtpError::Replay),
            "128 behind: outside the window"
        );
    }

    #[test]
    fn a_forged_packet_does_not_poison_the_replay_window() {
        // One packet under a wrong key, far ahead, before the genuine stream starts.
        let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
        let (mut forger, _) = pair(CryptoSuite::AesCm128HmacSha1_32);
        let forged = forger.protect_rtp(&rtp(30_000, 4, 10)).unwrap();
        assert_eq!(
            receiver.unprotect_rtp(&forged),
            Err(SrtpError::Authentication)
        );
        for seq in 0..5 {
            let packet = sender.protect_rtp(&rtp(seq, 4, 10)).unwrap();
            assert!(receiver.unprotect_rtp(&packet).is_ok(), "seq {seq}");
        }
    }

    #[test]
    fn sequence_numbers_roll_over() {
        let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
        for step in 0u32..300 {
            let seq = (65_400 + step) as u16;
            let packet = sender.protect_rtp(&rtp(seq, 8, 10)).unwrap();
            assert!(receiver.unprotect_rtp(&packet).is_ok(), "seq {seq}");
        }
    }

    #[test]
    fn unencrypted_srtcp_is_refused() {
        let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
        let mut protected = sender.protect_rtcp(&rtcp(6)).unwrap();
        let e_flag = protected.len() - SRTCP_TAG_LEN - SRTCP_INDEX_LEN;
        protected[e_flag] &= 0x7f;
        assert_eq!(
            receiver.unprotect_rtcp(&protected),
            Err(SrtpError::UnencryptedRtcp)
        );
    }

    #[test]
    fn short_and_garbage_packets_are_errors_not_panics() {
        let (_, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
        for len in 0..64 {
            for fill in [0x00, 0x80, 0x81, 0x90, 0x9f, 0xbf, 0xff] {
                let mut packet = vec![fill; len];
                if let Some(first) = packet.first_mut() {
                    *first = 0x80 | (fill & 0x3f);
                }
                assert!(receiver.unprotect_rtp(&packet).is_err(), "rtp {len} {fill}");
                assert!(
                    receiver.unprotect_rtcp(&packet).is_err(),
                    "rtcp {len} {fill}"
                );
            }
        }
        assert_eq!(
            receiver.unprotect_rtp(&[0x80; 5]),
            Err(SrtpError::TooShort { len: 5 })
        );
        assert_eq!(
            receiver.unprotect_rtcp(&[0x80; 21]),
            Err(SrtpError::TooShort { len: 21 })
        );
        assert_eq!(
            receiver.unprotect_rtp(&[0x40; 40]),
            Err(SrtpError::Malformed)
        );
    }

    #[test]
    fn debug_shows_no_key() {
        let keys = SrtpContext {
            suite: CryptoSuite::AesCm128HmacSha1_80,
            local_key: [0xab; SRTP_KEY_SALT_LEN],
            remote_key: [0xcd; SRTP_KEY_SALT_LEN],
            tag: 1,
        };
        let text = format!("{:?}", SrtpSession::new(&keys));
        assert!(text.contains("AesCm128HmacSha1_80"), "{text}");
        for needle in ["ab", "AB", "171", "cd", "205"] {
            assert!(!text.contains(needle), "{text}");
        }
    }

    #[test]
    fn labels_are_listed() {
        let errors = [
            SrtpError::TooShort { len: 1 },
            SrtpError::Malformed,
            SrtpError::Authentication,
            SrtpError::Replay,
            SrtpError::UnencryptedRtcp,
            SrtpError::KeyExhausted,
            SrtpError::Other,
        ];
        let labels: Vec<&str> = errors.iter().map(|e| e.label()).collect();
        assert_eq!(labels, SrtpError::LABELS);
    }

    #[test]
    fn index_estimate_follows_rfc_3711_appendix_a() {
        assert_eq!(estimate_index(None, 5), Some(5));
        assert_eq!(estimate_index(Some(65_535), 2), Some(65_538), "rolled over");
        assert_eq!(estimate_index(Some(65_538), 65_534), Some(65_534), "late");
        assert_eq!(estimate_index(Some(10), 65_000), None, "before index 0");
        assert_eq!(estimate_index(Some(40_000), 100), Some(65_636));
    }

    #[test]
    fn forged_extension_elements_are_refused_not_a_panic() {
        // Fuzz findings: `rtp` 0.17 panics on extension elements longer than the data.
        let hex = |text: &str| -> Vec<u8> {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
        };
        let context = SrtpContext {
            suite: CryptoSuite::AesCm128HmacSha1_80,
            local_key: [7; SRTP_KEY_SALT_LEN],
            remote_key: [7; SRTP_KEY_SALT_LEN],
            tag: 1,
        };
        let mut session = SrtpSession::new(&context);
        for packet in [
            "9000000100000000123456781000000101ff000000000000000000000000",
            "900000010000000012345678bede00011f00000000000000000000000000",
        ] {
            assert_eq!(
                session.unprotect_rtp(&hex(packet)),
                Err(SrtpError::Malformed)
            );
        }
        assert_eq!(
            session.protect_rtp(&hex("900000010000000012345678bede000113aabbccdd")),
            Err(SrtpError::Malformed)
        );
        // A well-formed one-byte extension still goes through.
        let good = hex("900000010000000012345678bede000110aa0000c0ffee");
        let protected = session.protect_rtp(&good).unwrap();
        let mut peer = SrtpSession::new(&context);
        assert_eq!(peer.unprotect_rtp(&protected).unwrap(), good);
    }
}
