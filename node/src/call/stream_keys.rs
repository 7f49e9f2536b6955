//! The SDES-SRTP keys of one room-system stream, which a re-INVITE may replace mid-call
//! (RFC 4568 §7.1.4: new keys in the offer, new keys in the answer, both directions re-keyed).
//!
//! The keys live in one [`StreamKeys`] per stream, shared by everything that protects or
//! unprotects that stream's packets (the RTP receive task, the RTCP task, the sender on the
//! GStreamer threads). Each of those holds a [`KeyedSrtp`]: its own SRTP session (its own
//! replay window and rollover counter), rebuilt at its next packet when the keys' generation
//! has moved on. What arrives protected with the previous keys (packets in flight while the
//! re-INVITE crossed) is still accepted by the previous session, so a re-key loses nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use signaling::sdp::SrtpContext;

use crate::srtp::{SrtpError, SrtpSession};

/// One stream's current keys; `None` for plain RTP.
#[derive(Debug)]
pub(crate) struct StreamKeys {
    keys: Mutex<Option<SrtpContext>>,
    generation: AtomicU64,
}

impl StreamKeys {
    /// The keys agreed in the first answer.
    pub(crate) fn new(keys: Option<SrtpContext>) -> Self {
        Self {
            keys: Mutex::new(keys),
            generation: AtomicU64::new(0),
        }
    }

    /// New keys (a re-INVITE); every session built from these keys follows at its next packet.
    pub(crate) fn replace(&self, keys: Option<SrtpContext>) {
        *lock(&self.keys) = keys;
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether SRTP is in use now.
    pub(crate) fn is_srtp(&self) -> bool {
        lock(&self.keys).is_some()
    }

    /// The peer's key now (to tell whether a new offer changes it).
    pub(crate) fn remote_key(&self) -> Option<[u8; signaling::sdp::SRTP_KEY_SALT_LEN]> {
        lock(&self.keys).as_ref().map(|k| k.remote_key)
    }

    fn current(&self) -> (u64, Option<SrtpSession>) {
        let keys = lock(&self.keys);
        // read under the lock: a replace() in between shows as a newer generation next time
        let generation = self.generation.load(Ordering::SeqCst);
        (generation, keys.as_ref().map(SrtpSession::new))
    }
}

/// An SRTP session that follows its stream's keys. `Ok(None)` from a method means plain RTP:
/// use the packet as it is.
#[derive(Debug)]
pub(crate) struct KeyedSrtp {
    keys: std::sync::Arc<StreamKeys>,
    generation: u64,
    session: Option<SrtpSession>,
    /// The session of the keys before the last re-key: it unprotects what was in flight.
    previous: Option<SrtpSession>,
    /// Packets only the previous keys unprotected.
    previous_hits: u64,
}

impl KeyedSrtp {
    /// A session on `keys` as they are now.
    pub(crate) fn new(keys: std::sync::Arc<StreamKeys>) -> Self {
        let (generation, session) = keys.current();
        Self {
            keys,
            generation,
            session,
            previous: None,
            previous_hits: 0,
        }
    }

    /// How many received packets only the keys before the last re-key could unprotect (they
    /// stop once the peer has switched).
    pub(crate) fn previous_hits(&self) -> u64 {
        self.previous_hits
    }

    fn refresh(&mut self) {
        if self.keys.generation.load(Ordering::SeqCst) != self.generation {
            let (generation, session) = self.keys.current();
            self.generation = generation;
            self.previous = std::mem::replace(&mut self.session, session);
        }
    }

    /// Protects an RTP packet we send.
    pub(crate) fn protect_rtp(&mut self, packet: &[u8]) -> Result<Option<Vec<u8>>, SrtpError> {
        self.refresh();
        self.session
            .as_mut()
            .map(|s| s.protect_rtp(packet))
            .transpose()
    }

    /// Protects an RTCP packet we send.
    pub(crate) fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Option<Vec<u8>>, SrtpError> {
        self.refresh();
        self.session
            .as_mut()
            .map(|s| s.protect_rtcp(packet))
            .transpose()
    }

    /// Unprotects an RTP packet received (with the previous keys if the current refuse it).
    pub(crate) fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Option<Vec<u8>>, SrtpError> {
        self.refresh();
        let Some(session) = self.session.as_mut() else {
            return Ok(None);
        };
        match session.unprotect_rtp(packet) {
            Ok(clear) => Ok(Some(clear)),
            Err(error) => match self.previous.as_mut().map(|p| p.unprotect_rtp(packet)) {
                Some(Ok(clear)) => {
                    self.previous_hits += 1;
                    Ok(Some(clear))
                }
                _ => Err(error),
            },
        }
    }

    /// Unprotects an RTCP packet received (with the previous keys if the current refuse it).
    pub(crate) fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Option<Vec<u8>>, SrtpError> {
        self.refresh();
        let Some(session) = self.session.as_mut() else {
            return Ok(None);
        };
        match session.unprotect_rtcp(packet) {
            Ok(clear) => Ok(Some(clear)),
            Err(error) => match self.previous.as_mut().map(|p| p.unprotect_rtcp(packet)) {
                Some(Ok(clear)) => {
                    self.previous_hits += 1;
                    Ok(Some(clear))
                }
                _ => Err(error),
            },
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use signaling::sdp::CryptoSuite;

    use super::*;

    fn keys(local: u8, remote: u8) -> SrtpContext {
        SrtpContext {
            suite: CryptoSuite::AesCm128HmacSha1_80,
            local_key: [local; 30],
            remote_key: [remote; 30],
            tag: 1,
        }
    }

    fn rtp(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 96, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[1, 2, 3, 4]);
        p
    }

    #[test]
    fn a_re_key_moves_both_directions_and_what_was_in_flight_still_passes() {
        // We are one side; the peer is a plain SrtpSession with the keys mirrored.
        let shared = Arc::new(StreamKeys::new(Some(keys(1, 2))));
        let mut ours = KeyedSrtp::new(Arc::clone(&shared));
        let mut peer_old = SrtpSession::new(&keys(2, 1));
        let mut peer_new = SrtpSession::new(&keys(4, 3));

        let in_flight = peer_old.protect_rtp(&rtp(1)).unwrap();
        assert_eq!(
            ours.unprotect_rtp(&peer_old.protect_rtp(&rtp(2)).unwrap())
                .unwrap(),
            Some(rtp(2))
        );
        shared.replace(Some(keys(3, 4)));
        // the peer's new key is taken, and the old one still for a packet in flight
        assert_eq!(
            ours.unprotect_rtp(&peer_new.protect_rtp(&rtp(3)).unwrap())
                .unwrap(),
            Some(rtp(3))
        );
        assert_eq!(ours.unprotect_rtp(&in_flight).unwrap(), Some(rtp(1)));
        assert_eq!(ours.previous_hits(), 1);
        // what we send now is protected with our new key
        let sent = ours.protect_rtp(&rtp(9)).unwrap().unwrap();
        assert_eq!(peer_new.unprotect_rtp(&sent).unwrap(), rtp(9));
        assert!(peer_old.unprotect_rtp(&sent).is_err());
        // a stranger's key passes neither
        let mut stranger = SrtpSession::new(&keys(9, 9));
        assert!(
            ours.unprotect_rtp(&stranger.protect_rtp(&rtp(5)).unwrap())
                .is_err()
        );
    }

    #[test]
    fn plain_rtp_passes_as_it_is() {
        let mut plain = KeyedSrtp::new(Arc::new(StreamKeys::new(None)));
        assert_eq!(plain.protect_rtp(&rtp(1)).unwrap(), None);
        assert_eq!(plain.unprotect_rtcp(&rtp(1)).unwrap(), None);
    }
}
