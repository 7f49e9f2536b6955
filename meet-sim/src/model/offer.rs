//! The shape of an SDP offer, and the rules each kind of client's offer must follow
//! (meet-side.md §1.3 for Media API clients, §5.b "Media rules" for gateways).
//!
//! Sans-IO and independent of the WebRTC stack: [`OfferShape::parse`] reads only what the
//! rules need (media kind, direction, mid, codecs, RIDs, simulcast, header extensions), and
//! the `check_*` functions say what the media plane must set up ([`MediaShape`]) or why the
//! offer is refused (`INVALID_OFFER`, which the node maps to SIP 488). The WebRTC stack then
//! parses the offer again for ICE, DTLS and SCTP.

use std::fmt;

/// The `a=extmap` URI of the MID header extension (RFC 8843).
pub const EXT_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// The `a=extmap` URI of the RID header extension (RFC 8852).
pub const EXT_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";

/// Media kind of an m-line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
    /// `m=application` (data channels).
    Application,
    /// Anything else (`m=text`, ...).
    Other,
}

/// Direction of an m-line, from the offerer's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`: the client sends.
    SendOnly,
    /// `a=recvonly`: the client receives.
    RecvOnly,
    /// `a=inactive`, or port 0 (unless bundle-only: see [`OfferSection::bundle_only`]).
    Inactive,
}

/// One m-line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferSection {
    /// Media kind.
    pub kind: SectionKind,
    /// Direction (`Inactive` for a rejected port-0 line).
    pub direction: Direction,
    /// `a=bundle-only` (RFC 8843 §6): a port-0 m-line that carries it and whose mid is in
    /// the offer's BUNDLE group is active, on the transport of the group's first m-line. An
    /// offerer with `bundle-policy=max-bundle` (webrtcbin) writes every m-line after the
    /// first this way.
    pub bundle_only: bool,
    /// `a=mid`.
    pub mid: Option<String>,
    /// Codec names from `a=rtpmap`, upper case (`VP8`, `OPUS`, `H264`, ...).
    pub codecs: Vec<String>,
    /// RIDs of `a=rid:<id> send`.
    pub send_rids: Vec<String>,
    /// The RIDs of `a=simulcast:send` (alternatives flattened), if present.
    pub simulcast_send: Option<Vec<String>>,
    /// URIs of `a=extmap`.
    pub extmaps: Vec<String>,
    /// `b=TIAS` in bit/s, if present.
    pub tias: Option<u64>,
}

impl OfferSection {
    fn new(kind: SectionKind) -> Self {
        Self {
            kind,
            direction: Direction::SendRecv,
            bundle_only: false,
            mid: None,
            codecs: Vec::new(),
            send_rids: Vec::new(),
            simulcast_send: None,
            extmaps: Vec::new(),
            tias: None,
        }
    }

    fn has_codec(&self, name: &str) -> bool {
        self.codecs.iter().any(|c| c == name)
    }

    fn has_ext(&self, uri: &str) -> bool {
        self.extmaps.iter().any(|e| e == uri)
    }

    fn label(&self, index: usize) -> String {
        match &self.mid {
            Some(mid) => format!("m-line {index} (mid {mid})"),
            None => format!("m-line {index}"),
        }
    }
}

/// The parts of an offer the rules look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferShape {
    /// The m-lines, in order.
    pub sections: Vec<OfferSection>,
}

/// Why an offer is refused: a sentence for the `INVALID_OFFER` error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferError(pub String);

impl fmt::Display for OfferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, OfferError> {
    Err(OfferError(message.into()))
}

/// What the media plane sets up for an accepted offer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaShape {
    /// Audio m-lines the client receives on (virtual audio streams): 3 or 0.
    pub recv_audio: usize,
    /// Video m-lines the client receives on (virtual video streams).
    pub recv_video: usize,
    /// Whether the client sends audio.
    pub send_audio: bool,
    /// The simulcast RIDs the client sends video on, in offer order (empty: no video sent).
    pub send_rids: Vec<String>,
    /// The `b=TIAS` of the send video m-line, if any.
    pub send_tias: Option<u64>,
}

impl OfferShape {
    /// Reads the m-lines of `sdp`. Refuses text that is not an SDP offer (`v=0` first) or
    /// has no m-line.
    pub fn parse(sdp: &str) -> Result<Self, OfferError> {
        let mut lines = sdp.lines().map(|l| l.trim_end_matches('\r'));
        if lines.next() != Some("v=0") {
            return refuse("offer is not an SDP offer (must start with v=0)");
        }
        let mut shape = Self::default();
        let mut session_direction = Direction::SendRecv;
        // Per m-line: whether its port is 0, and the direction it declares (what it would
        // have if it is not rejected).
        let mut port_zero = Vec::new();
        let mut declared = Vec::new();
        let mut bundle: Vec<String> = Vec::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("m=") {
                let mut fields = rest.split(' ');
                let kind = match fields.next() {
                    Some("audio") => SectionKind::Audio,
                    Some("video") => SectionKind::Video,
                    Some("application") => SectionKind::Application,
                    _ => SectionKind::Other,
                };
                port_zero.push(fields.next() == Some("0"));
                declared.push(session_direction);
                shape.sections.push(OfferSection::new(kind));
                continue;
            }
            let Some(section) = shape.sections.last_mut() else {
                if let Some(direction) = direction_attribute(line) {
                    session_direction = direction;
                } else if let Some(mids) = line.strip_prefix("a=group:BUNDLE") {
                    bundle.extend(mids.split_whitespace().map(str::to_owned));
                }
                continue;
            };
            if line == "a=bundle-only" {
                section.bundle_only = true;
            } else if let Some(direction) = direction_attribute(line) {
                // `a=inactive` wins over any other direction attribute of the same m-line.
                let last = declared.last_mut().expect("one per section");
                if *last != Direction::Inactive || direction == Direction::Inactive {
                    *last = direction;
                }
            } else {
                read_attribute(section, line);
            }
        }
        if shape.sections.is_empty() {
            return refuse("offer has no m-line");
        }
        for ((section, zero), direction) in shape.sections.iter_mut().zip(port_zero).zip(declared) {
            let bundled =
                section.bundle_only && section.mid.as_ref().is_some_and(|mid| bundle.contains(mid));
            section.direction = if zero && !bundled {
                Direction::Inactive
            } else {
                direction
            };
        }
        Ok(shape)
    }

    fn count(&self, kind: SectionKind, direction: Direction) -> usize {
        self.sections
            .iter()
            .filter(|s| s.kind == kind && s.direction == direction)
            .count()
    }

    fn active(&self) -> impl Iterator<Item = (usize, &OfferSection)> {
        self.sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.direction != Direction::Inactive)
    }

    fn applications(&self) -> usize {
        self.active()
            .filter(|(_, s)| s.kind == SectionKind::Application)
            .count()
    }

    /// The rules for a gateway, and for the browser participant page, which sends and
    /// receives like one (§5.b "Media rules"): exactly 3 recvonly audio m-lines; at most
    /// `max_recv_video` recvonly video m-lines; exactly one sendonly video m-line offering
    /// VP8 with `a=simulcast:send` of exactly `send_layers` RIDs, each with `a=rid:… send`,
    /// and the MID and RID header extensions; exactly one sendonly audio m-line offering
    /// Opus; exactly one application m-line. No sendrecv or other media.
    pub fn check_sender(
        &self,
        max_recv_video: usize,
        send_layers: usize,
    ) -> Result<MediaShape, OfferError> {
        self.no_sendrecv_or_other()?;
        let recv_audio = self.count(SectionKind::Audio, Direction::RecvOnly);
        if recv_audio != 3 {
            return refuse(format!(
                "{recv_audio} recvonly audio m-lines; exactly 3 are required"
            ));
        }
        let recv_video = self.count(SectionKind::Video, Direction::RecvOnly);
        if recv_video > max_recv_video {
            return refuse(format!(
                "{recv_video} recvonly video m-lines; at most {max_recv_video} are allowed"
            ));
        }
        self.recv_codecs(SectionKind::Video, "VP8")?;
        self.recv_codecs(SectionKind::Audio, "OPUS")?;
        let send_video: Vec<_> = self
            .active()
            .filter(|(_, s)| s.kind == SectionKind::Video && s.direction == Direction::SendOnly)
            .collect();
        let [(index, video)] = send_video[..] else {
            return refuse(format!(
                "{} sendonly video m-lines; exactly 1 (VP8 simulcast) is required",
                send_video.len()
            ));
        };
        let at = video.label(index);
        if !video.has_codec("VP8") {
            return refuse(format!(
                "{at}: the send video m-line does not offer VP8 (offers {})",
                video.codecs.join(", ")
            ));
        }
        let Some(simulcast) = &video.simulcast_send else {
            return refuse(format!("{at}: no a=simulcast:send line"));
        };
        if simulcast.len() != send_layers {
            return refuse(format!(
                "{at}: a=simulcast:send has {} layers; exactly {send_layers} are required",
                simulcast.len()
            ));
        }
        if let Some(missing) = simulcast.iter().find(|r| !video.send_rids.contains(r)) {
            return refuse(format!(
                "{at}: simulcast RID {missing} has no a=rid:{missing} send"
            ));
        }
        for uri in [EXT_MID, EXT_RID] {
            if !video.has_ext(uri) {
                return refuse(format!("{at}: the header extension {uri} is not offered"));
            }
        }
        let send_audio: Vec<_> = self
            .active()
            .filter(|(_, s)| s.kind == SectionKind::Audio && s.direction == Direction::SendOnly)
            .collect();
        let [(audio_index, audio)] = send_audio[..] else {
            return refuse(format!(
                "{} sendonly audio m-lines; exactly 1 (Opus) is required",
                send_audio.len()
            ));
        };
        if !audio.has_codec("OPUS") {
            return refuse(format!(
                "{}: the send audio m-line does not offer Opus",
                audio.label(audio_index)
            ));
        }
        if self.applications() != 1 {
            return refuse(format!(
                "{} application m-lines; exactly 1 (data channels) is required",
                self.applications()
            ));
        }
        Ok(MediaShape {
            recv_audio,
            recv_video,
            send_audio: true,
            send_rids: simulcast.clone(),
            send_tias: video.tias,
        })
    }

    /// The rules of a Media API client (§1.3): receive only; exactly 3 or 0 audio m-lines,
    /// at most `max_video` (3) video m-lines offering VP8, exactly one application m-line.
    /// Without an audio scope no audio m-line, without a video scope no video m-line.
    pub fn check_media_client(
        &self,
        max_video: usize,
        audio_allowed: bool,
        video_allowed: bool,
    ) -> Result<MediaShape, OfferError> {
        self.no_sendrecv_or_other()?;
        if let Some((index, s)) = self
            .active()
            .find(|(_, s)| s.direction == Direction::SendOnly)
        {
            return refuse(format!(
                "{}: Media API clients receive only; all media must be recvonly",
                s.label(index)
            ));
        }
        let audio = self.count(SectionKind::Audio, Direction::RecvOnly);
        let video = self.count(SectionKind::Video, Direction::RecvOnly);
        if audio != 0 && audio != 3 {
            return refuse(format!("{audio} audio m-lines; exactly 3 or none"));
        }
        if video > max_video {
            return refuse(format!("{video} video m-lines; at most {max_video}"));
        }
        if audio > 0 && !audio_allowed {
            return refuse("audio m-lines, but the OAuth token has no audio scope");
        }
        if video > 0 && !video_allowed {
            return refuse("video m-lines, but the OAuth token has no video scope");
        }
        if audio + video == 0 {
            return refuse("no audio or video m-line");
        }
        self.recv_codecs(SectionKind::Video, "VP8")?;
        self.recv_codecs(SectionKind::Audio, "OPUS")?;
        if self.applications() != 1 {
            return refuse(format!(
                "{} application m-lines; exactly 1 (data channels) is required",
                self.applications()
            ));
        }
        Ok(MediaShape {
            recv_audio: audio,
            recv_video: video,
            ..MediaShape::default()
        })
    }

    fn no_sendrecv_or_other(&self) -> Result<(), OfferError> {
        for (index, s) in self.active() {
            if s.kind == SectionKind::Other {
                return refuse(format!("{}: unsupported media kind", s.label(index)));
            }
            if s.kind != SectionKind::Application && s.direction == Direction::SendRecv {
                return refuse(format!(
                    "{}: sendrecv; each media m-line must be sendonly or recvonly",
                    s.label(index)
                ));
            }
        }
        Ok(())
    }

    fn recv_codecs(&self, kind: SectionKind, codec: &str) -> Result<(), OfferError> {
        match self.active().find(|(_, s)| {
            s.kind == kind && s.direction == Direction::RecvOnly && !s.has_codec(codec)
        }) {
            Some((index, _)) => refuse(format!(
                "{}: a recvonly m-line that does not offer {codec}",
                self.sections[index].label(index)
            )),
            None => Ok(()),
        }
    }
}

fn direction_attribute(line: &str) -> Option<Direction> {
    match line {
        "a=sendrecv" => Some(Direction::SendRecv),
        "a=sendonly" => Some(Direction::SendOnly),
        "a=recvonly" => Some(Direction::RecvOnly),
        "a=inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

fn read_attribute(section: &mut OfferSection, line: &str) {
    if let Some(mid) = line.strip_prefix("a=mid:") {
        section.mid = Some(mid.trim().to_owned());
    } else if let Some(rtpmap) = line.strip_prefix("a=rtpmap:") {
        // a=rtpmap:96 VP8/90000
        if let Some(name) = rtpmap
            .split_once(' ')
            .and_then(|(_, enc)| enc.split('/').next())
        {
            section.codecs.push(name.to_ascii_uppercase());
        }
    } else if let Some(rid) = line.strip_prefix("a=rid:") {
        // a=rid:q send [params]
        let mut fields = rid.split(' ');
        if let (Some(id), Some("send")) = (fields.next(), fields.next()) {
            section.send_rids.push(id.to_owned());
        }
    } else if let Some(simulcast) = line.strip_prefix("a=simulcast:") {
        // a=simulcast:send q;h;f [recv ...]; alternatives "a,b" and paused "~a" flattened
        let mut fields = simulcast.split(' ');
        while let (Some(dir), Some(list)) = (fields.next(), fields.next()) {
            if dir == "send" {
                let rids = list
                    .split([';', ','])
                    .map(|r| r.trim_start_matches('~').to_owned())
                    .filter(|r| !r.is_empty())
                    .collect();
                section.simulcast_send = Some(rids);
            }
        }
    } else if let Some(extmap) = line.strip_prefix("a=extmap:") {
        // a=extmap:4 urn:... or a=extmap:4/sendonly urn:...
        if let Some(uri) = extmap.split(' ').nth(1) {
            section.extmaps.push(uri.to_owned());
        }
    } else if let Some(tias) = line.strip_prefix("b=TIAS:") {
        section.tias = tias.trim().parse().ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: &str, dir: &str, extra: &str) -> String {
        let codec = match kind {
            "audio" => "a=rtpmap:111 opus/48000/2\r\n",
            "video" => "a=rtpmap:96 VP8/90000\r\n",
            _ => "",
        };
        let proto = if kind == "application" {
            "UDP/DTLS/SCTP webrtc-datachannel"
        } else {
            "UDP/TLS/RTP/SAVPF 96"
        };
        format!("m={kind} 9 {proto}\r\na={dir}\r\n{codec}{extra}")
    }

    fn simulcast(rids: &[&str]) -> String {
        let mut s = format!("a=extmap:4 {EXT_MID}\r\na=extmap:10 {EXT_RID}\r\n");
        for r in rids {
            s += &format!("a=rid:{r} send\r\n");
        }
        s + &format!("a=simulcast:send {}\r\n", rids.join(";"))
    }

    fn gateway_offer(recv_video: usize, rids: &[&str]) -> String {
        let mut sdp = String::from("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        for _ in 0..3 {
            sdp += &m("audio", "recvonly", "");
        }
        for _ in 0..recv_video {
            sdp += &m("video", "recvonly", "");
        }
        sdp += &m("audio", "sendonly", "");
        sdp += &m("video", "sendonly", &simulcast(rids));
        sdp += &m("application", "sendrecv", "");
        sdp
    }

    #[test]
    fn a_gateway_offer_with_8_videos_and_3_layers_is_accepted() {
        let shape = OfferShape::parse(&gateway_offer(8, &["q", "h", "f"])).unwrap();
        let media = shape.check_sender(8, 3).unwrap();
        assert_eq!(media.recv_audio, 3);
        assert_eq!(media.recv_video, 8);
        assert_eq!(media.send_rids, ["q", "h", "f"]);
    }

    #[test]
    fn nine_videos_two_or_four_layers_are_refused() {
        let nine = OfferShape::parse(&gateway_offer(9, &["q", "h", "f"])).unwrap();
        assert!(
            nine.check_sender(8, 3)
                .unwrap_err()
                .0
                .contains("9 recvonly video")
        );
        for rids in [&["q", "h"][..], &["a", "b", "c", "d"]] {
            let shape = OfferShape::parse(&gateway_offer(8, rids)).unwrap();
            let err = shape.check_sender(8, 3).unwrap_err();
            assert!(err.0.contains("exactly 3 are required"), "{err}");
        }
    }

    #[test]
    fn h264_only_send_video_is_refused() {
        let sdp = gateway_offer(2, &["q", "h", "f"]).replace(
            "a=sendonly\r\na=rtpmap:96 VP8/90000",
            "a=sendonly\r\na=rtpmap:96 H264/90000",
        );
        let err = OfferShape::parse(&sdp)
            .unwrap()
            .check_sender(8, 3)
            .unwrap_err();
        assert!(err.0.contains("does not offer VP8"), "{err}");
    }

    #[test]
    fn media_client_rules() {
        let mut sdp = String::from("v=0\r\n");
        for _ in 0..3 {
            sdp += &m("audio", "recvonly", "");
        }
        sdp += &m("application", "sendrecv", "");
        for _ in 0..3 {
            sdp += &m("video", "recvonly", "");
        }
        let shape = OfferShape::parse(&sdp).unwrap();
        assert_eq!(
            shape.check_media_client(3, true, true).unwrap().recv_video,
            3
        );
        assert!(shape.check_media_client(3, true, false).is_err());
        assert!(shape.check_media_client(2, true, true).is_err());
        let two_audio = sdp.replacen("m=audio", "m=text", 1);
        let shape = OfferShape::parse(&two_audio).unwrap();
        assert!(shape.check_media_client(3, true, true).is_err());
    }

    /// `gateway_offer` as webrtcbin writes it with `bundle-policy=max-bundle`: mids, a BUNDLE
    /// group, and every m-line after the first on port 0 with `a=bundle-only`.
    fn max_bundle(sdp: &str, bundle_only: bool) -> String {
        let (head, body) = sdp.split_once("m=").unwrap();
        let mut out = String::new();
        let mut mids = Vec::new();
        for (index, section) in body.split("m=").enumerate() {
            let mut section = format!("m={section}");
            if index > 0 {
                section = section.replacen(" 9 ", " 0 ", 1);
                if bundle_only {
                    section += "a=bundle-only\r\n";
                }
            }
            out += &format!("{section}a=mid:{index}\r\n");
            mids.push(index.to_string());
        }
        format!("{head}a=group:BUNDLE {}\r\n{out}", mids.join(" "))
    }

    #[test]
    fn bundle_only_port_zero_m_lines_are_active() {
        let sdp = max_bundle(&gateway_offer(8, &["q", "h", "f"]), true);
        assert_eq!(sdp.matches(" 0 UDP/").count(), 13, "{sdp}");
        let shape = OfferShape::parse(&sdp).unwrap();
        assert!(shape.sections[1..].iter().all(|s| s.bundle_only));
        let media = shape.check_sender(8, 3).unwrap();
        assert_eq!((media.recv_audio, media.recv_video), (3, 8));
        assert_eq!(media.send_rids, ["q", "h", "f"]);
    }

    #[test]
    fn a_plain_port_zero_m_line_is_still_rejected() {
        // Port 0 without a=bundle-only: rejected lines, so 0 recvonly audio m-lines remain.
        let sdp = max_bundle(&gateway_offer(8, &["q", "h", "f"]), false);
        let shape = OfferShape::parse(&sdp).unwrap();
        assert!(
            shape.sections[1..]
                .iter()
                .all(|s| s.direction == Direction::Inactive)
        );
        let err = shape.check_sender(8, 3).unwrap_err();
        assert!(err.0.contains("recvonly audio m-lines"), "{err}");
        // a=bundle-only on a line whose mid is not in the BUNDLE group: rejected too.
        let sdp = max_bundle(&gateway_offer(8, &["q", "h", "f"]), true)
            .replace("a=group:BUNDLE 0 1 2 ", "a=group:BUNDLE 0 2 ");
        let shape = OfferShape::parse(&sdp).unwrap();
        assert_eq!(shape.sections[1].direction, Direction::Inactive);
        assert_eq!(shape.sections[2].direction, Direction::RecvOnly);
        let err = shape.check_sender(8, 3).unwrap_err();
        assert!(err.0.contains("2 recvonly audio m-lines"), "{err}");
    }

    #[test]
    fn not_sdp_is_refused() {
        assert!(OfferShape::parse("hello").is_err());
        assert!(OfferShape::parse("v=0\r\ns=-\r\n").is_err());
    }
}
