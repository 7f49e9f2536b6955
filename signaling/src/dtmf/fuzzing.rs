//! Fuzz bodies for the DTMF parsers and receiver, for cargo-fuzz targets and corpus replays on
//! stable Rust.

use std::time::{Duration, Instant};

use super::{DtmfReceiver, RTP_VERSION, parse_info, parse_rtp};

/// Bytes as RTP: [`parse_rtp`] answers `Ok` or an error and never panics, and a parsed packet
/// feeds a [`DtmfReceiver`] listening to its payload type.
///
/// The bytes are also read as a sequence of packets (`[len][len bytes]…`, the length's low bit
/// choosing whether time advances) fed to one receiver, to exercise its state across packets.
///
/// `start` is the base instant; pass any (the receiver only compares instants).
pub fn rtp_at(data: &[u8], start: Instant) {
    if let Ok((header, payload)) = parse_rtp(data) {
        assert_eq!(header.version, RTP_VERSION);
        assert!(payload.len() <= data.len());
        assert!(header.csrcs.len() <= 15);
        let mut receiver = DtmfReceiver::new(header.payload_type, 8000);
        let _ = receiver.handle_rtp(&header, payload, start);
        let _ = receiver.handle_timeout(start + Duration::from_secs(5));
        assert!(receiver.poll_timeout().is_none());
    }

    let mut receiver: Option<DtmfReceiver> = None;
    let mut now = start;
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let Some((packet, after)) = tail.split_at_checked(usize::from(len)) else {
            break;
        };
        rest = after;
        if len & 1 == 1 {
            now += Duration::from_millis(u64::from(len) * 10);
        }
        if let Ok((header, payload)) = parse_rtp(packet) {
            let receiver =
                receiver.get_or_insert_with(|| DtmfReceiver::new(header.payload_type, 8000));
            let _ = receiver.handle_rtp(&header, payload, now);
            if let Some(deadline) = receiver.poll_timeout()
                && deadline <= now
            {
                let _ = receiver.handle_timeout(now);
            }
        }
    }
    if let Some(receiver) = receiver.as_mut() {
        let later = now + Duration::from_secs(5);
        while receiver.handle_timeout(later).is_some() {}
        assert!(receiver.poll_timeout().is_none());
    }
}

/// [`rtp_at`] from a base instant of its own.
#[allow(clippy::disallowed_methods)] // a fuzz body needs some instant; only comparisons use it
pub fn rtp(data: &[u8]) {
    rtp_at(data, Instant::now());
}

/// Bytes as a SIP INFO body: the first byte picks the Content-Type, the rest is the body.
/// [`parse_info`] answers a digit or an error and never panics.
pub fn info(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = match selector % 4 {
        0 => "application/dtmf-relay",
        1 => "Application/DTMF; charset=utf-8",
        2 => "text/plain",
        _ => "application/dtmf",
    };
    match parse_info(content_type, body) {
        Ok(info) => assert!(super::digit_to_event(info.digit).is_some()),
        Err(error) => assert!(matches!(error.sip_status(), 400 | 415)),
    }
}
