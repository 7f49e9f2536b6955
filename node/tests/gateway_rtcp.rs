//! RTCP on the room system's leg of a gateway call, seen from the room system: a SIP caller
//! on loopback sockets that sends real H.264 (x264) and G.711 RTP, with RTCP sockets of its
//! own, and reads everything the node sends back.
//!
//! - One video packet left out gets exactly one PLI (one FIR when the offer had only
//!   `ccm fir`), within 2 s.
//! - The room system gets periodic RR/SR + SDES on both streams, whose report blocks name its
//!   SSRCs; `/status` shows the per-stream figures, loss included.
//! - A PLI storm (100 PLIs in under a second) gives at most 2 IDRs in the node's H.264.
//!
//! The tests share a lock: each runs a node, meet-sim and three x264 encoders, which is as
//! much as a loaded 2-core machine takes at once.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::demo::Demo;
use common::sip_udp::next_response;
use common::{eventually, get, metric};
use node::rtp::{RtcpPacket, RtpHeader, parse_compound};
use pipelines::peers::{Pattern, RtpSource};
use serde_json::Value;
use signaling::sdp::{MediaKind, SessionDescription};

/// One test at a time (see the module documentation).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const H264_PT: u8 = 96;

/// Binds an RTP socket and the RTCP socket on the port above it.
fn socket_pair() -> (UdpSocket, UdpSocket) {
    loop {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port();
        if port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
            return (rtp, rtcp);
        }
    }
}

/// What one of the room system's RTCP sockets received.
type RtcpLog = Arc<Mutex<Vec<(Instant, Vec<RtcpPacket>)>>>;

/// The node's H.264, as the room system sees it.
#[derive(Default)]
struct VideoIn {
    packets: u64,
    ssrc: Option<u32>,
    first: Option<Instant>,
    /// Arrival and RTP timestamp of each access unit carrying an IDR slice.
    idrs: Vec<(Instant, u32)>,
}

/// The NAL unit types of an H.264 RTP payload (RFC 6184: single NAL, STAP-A, FU-A start).
fn nal_types(payload: &[u8]) -> Vec<u8> {
    let Some(&first) = payload.first() else {
        return Vec::new();
    };
    match first & 0x1f {
        24 => {
            let mut types = Vec::new();
            let mut rest = &payload[1..];
            while let [high, low, tail @ ..] = rest {
                let len = usize::from(u16::from_be_bytes([*high, *low]));
                let Some(nal) = tail.get(..len) else { break };
                if let Some(&h) = nal.first() {
                    types.push(h & 0x1f);
                }
                rest = &tail[len..];
            }
            types
        }
        28 => match payload.get(1) {
            Some(&fu) if fu & 0x80 != 0 => vec![fu & 0x1f],
            _ => Vec::new(),
        },
        t => vec![t],
    }
}

/// A room system: SIP from a tokio socket, media on std sockets and threads.
struct RoomSystem {
    sip: tokio::net::UdpSocket,
    node_sip: SocketAddr,
    user: String,
    call_id: String,
    to_tag: String,
    /// The node's RTCP addresses, video and audio.
    node_video_rtcp: SocketAddr,
    video_rtcp: Arc<UdpSocket>,
    /// Our SSRCs as the encoders chose them (0 until the first packet).
    video_ssrc: Arc<AtomicU32>,
    audio_ssrc: Arc<AtomicU32>,
    /// Set to leave out the next video packet; the time it was left out.
    skip_next: Arc<AtomicBool>,
    skipped_at: Arc<Mutex<Option<Instant>>>,
    video_sent: Arc<AtomicU64>,
    video_rtcp_log: RtcpLog,
    audio_rtcp_log: RtcpLog,
    video_in: Arc<Mutex<VideoIn>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _sources: Vec<RtpSource>,
}

impl RoomSystem {
    /// Calls the demo meeting offering H.264 with `feedback` (`a=rtcp-fb` lines) and PCMU,
    /// and starts sending once answered.
    async fn call(demo: &Demo, feedback: &str) -> Self {
        let sip = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (video_rtp, video_rtcp) = socket_pair();
        let (audio_rtp, audio_rtcp) = socket_pair();
        let port = |s: &UdpSocket| s.local_addr().unwrap().port();
        let call_id = format!("{:016x}@rtcp-test", rand::random::<u64>());
        let body = format!(
            "v=0\r\no=vtc 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n\
             m=video {} RTP/AVP {H264_PT}\r\na=rtpmap:{H264_PT} H264/90000\r\n\
             a=fmtp:{H264_PT} profile-level-id=42e01f;packetization-mode=1\r\n{feedback}",
            port(&audio_rtp),
            port(&video_rtp),
        );
        let sip_port = sip.local_addr().unwrap().port();
        let user = demo.long_id.clone();
        let invite = format!(
            "INVITE sip:{user}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{sip_port};branch=z9hG4bK-inv{:08x}\r\n\
             Max-Forwards: 70\r\nFrom: \"Room 9\" <sip:room@127.0.0.1>;tag=vtc9\r\n\
             To: <sip:{user}@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:room@127.0.0.1:{sip_port}>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{body}",
            rand::random::<u32>(),
            body.len()
        );
        sip.send_to(invite.as_bytes(), demo.sip).await.unwrap();
        let ok = loop {
            let response = next_response(&sip).await;
            if response.status.code() >= 200 {
                break response;
            }
        };
        assert_eq!(ok.status.code(), 200, "{ok:?}");
        let to_tag = ok.to().unwrap().tag().unwrap().to_owned();
        let answer = SessionDescription::parse(&String::from_utf8_lossy(&ok.body)).unwrap();
        let addresses = |kind: MediaKind| {
            let m = answer.media.iter().find(|m| m.media == kind).unwrap();
            let rtcp = m.rtcp().map_or(m.port + 1, |a| a.port);
            (
                SocketAddr::from(([127, 0, 0, 1], m.port)),
                SocketAddr::from(([127, 0, 0, 1], rtcp)),
            )
        };
        let (node_video, node_video_rtcp) = addresses(MediaKind::Video);
        let (node_audio, _) = addresses(MediaKind::Audio);

        let video_rtcp = Arc::new(video_rtcp);
        let mut room = Self {
            sip,
            node_sip: demo.sip,
            user,
            call_id,
            to_tag,
            node_video_rtcp,
            video_rtcp: Arc::clone(&video_rtcp),
            video_ssrc: Arc::default(),
            audio_ssrc: Arc::default(),
            skip_next: Arc::default(),
            skipped_at: Arc::default(),
            video_sent: Arc::default(),
            video_rtcp_log: Arc::default(),
            audio_rtcp_log: Arc::default(),
            video_in: Arc::default(),
            stop: Arc::default(),
            threads: Vec::new(),
            _sources: Vec::new(),
        };
        room.in_dialog("ACK", 1).await;

        let video_out = video_rtp.try_clone().unwrap();
        let (ssrc, skip, skipped_at, sent) = (
            Arc::clone(&room.video_ssrc),
            Arc::clone(&room.skip_next),
            Arc::clone(&room.skipped_at),
            Arc::clone(&room.video_sent),
        );
        let video_sink = Box::new(move |packet: &[u8]| {
            if let Ok(h) = RtpHeader::parse(packet) {
                ssrc.store(h.ssrc, Ordering::Relaxed);
            }
            if skip.swap(false, Ordering::Relaxed) {
                *skipped_at.lock().unwrap() = Some(Instant::now());
                return;
            }
            sent.fetch_add(1, Ordering::Relaxed);
            let _ = video_out.send_to(packet, node_video);
        });
        let audio_out = audio_rtp.try_clone().unwrap();
        let audio_ssrc = Arc::clone(&room.audio_ssrc);
        let audio_sink = Box::new(move |packet: &[u8]| {
            if let Ok(h) = RtpHeader::parse(packet) {
                audio_ssrc.store(h.ssrc, Ordering::Relaxed);
            }
            let _ = audio_out.send_to(packet, node_audio);
        });
        room._sources = vec![
            RtpSource::h264(Pattern::Bars, (640, 360, 30), H264_PT, video_sink).unwrap(),
            RtpSource::g711_tone(1000.0, false, 0, audio_sink).unwrap(),
        ];
        let stop = Arc::clone(&room.stop);
        let video_in = Arc::clone(&room.video_in);
        room.threads.push(read(video_rtp, stop, move |packet| {
            let Ok(h) = RtpHeader::parse(packet) else {
                return;
            };
            let mut v = video_in.lock().unwrap();
            v.packets += 1;
            v.ssrc = Some(h.ssrc);
            let now = Instant::now();
            v.first.get_or_insert(now);
            let payload = &packet[h.header_len..h.header_len + h.payload_len];
            if nal_types(payload).contains(&5) && v.idrs.last().is_none_or(|i| i.1 != h.timestamp) {
                v.idrs.push((now, h.timestamp));
            }
        }));
        for (socket, log) in [
            (
                video_rtcp.try_clone().unwrap(),
                Arc::clone(&room.video_rtcp_log),
            ),
            (audio_rtcp, Arc::clone(&room.audio_rtcp_log)),
        ] {
            let stop = Arc::clone(&room.stop);
            room.threads.push(read(socket, stop, move |packet| {
                let packets = parse_compound(packet).expect("the node's RTCP parses");
                log.lock().unwrap().push((Instant::now(), packets));
            }));
        }
        // Nothing comes back on the audio RTP socket that the test looks at.
        drop(audio_rtp);
        room
    }

    async fn in_dialog(&self, method: &str, cseq: u32) {
        let port = self.sip.local_addr().unwrap().port();
        let request = format!(
            "{method} sip:{user}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{method}{cseq}{:08x}\r\n\
             Max-Forwards: 70\r\nFrom: \"Room 9\" <sip:room@127.0.0.1>;tag=vtc9\r\n\
             To: <sip:{user}@127.0.0.1>;tag={tag}\r\nCall-ID: {id}\r\n\
             CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            rand::random::<u32>(),
            user = self.user,
            tag = self.to_tag,
            id = self.call_id,
        );
        self.sip
            .send_to(request.as_bytes(), self.node_sip)
            .await
            .unwrap();
    }

    /// Every PLI and FIR the node sent on video, with when it arrived.
    fn video_feedback(&self) -> Vec<(Instant, RtcpPacket)> {
        self.video_rtcp_log
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(at, packets)| {
                packets
                    .iter()
                    .filter(|p| matches!(p, RtcpPacket::Pli { .. } | RtcpPacket::Fir { .. }))
                    .map(|p| (*at, p.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The report blocks (about `ssrc`) of the reports in `log`, and whether an SR was seen.
    fn reports_about(log: &RtcpLog, ssrc: u32) -> (usize, bool) {
        let log = log.lock().unwrap();
        let mut blocks = 0;
        let mut sender_report = false;
        for (_, packets) in log.iter() {
            for packet in packets {
                let reports = match packet {
                    RtcpPacket::SenderReport { reports, info, .. } => {
                        sender_report |= info.packets > 0;
                        reports
                    }
                    RtcpPacket::ReceiverReport { reports, .. } => reports,
                    _ => continue,
                };
                blocks += reports.iter().filter(|b| b.ssrc == ssrc).count();
            }
        }
        (blocks, sender_report)
    }

    /// Leaves out the next video packet; returns when it was left out.
    async fn skip_one_video_packet(&self) -> Instant {
        self.skip_next.store(true, Ordering::Relaxed);
        let skipped = eventually(Duration::from_secs(2), || async {
            self.skipped_at.lock().unwrap().is_some()
        })
        .await;
        assert!(skipped, "the video source kept sending");
        self.skipped_at.lock().unwrap().unwrap()
    }
}

impl Drop for RoomSystem {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Reads datagrams from `socket` into `sink` until `stop`.
fn read(
    socket: UdpSocket,
    stop: Arc<AtomicBool>,
    mut sink: impl FnMut(&[u8]) + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = vec![0; 2048];
        while !stop.load(Ordering::Relaxed) {
            if let Ok(len) = socket.recv(&mut buf) {
                sink(&buf[..len]);
            }
        }
    })
}

/// The `/status` entry of the one call's stream `media`.
async fn stream_status(demo: &Demo, media: &str) -> Value {
    let status: Value =
        serde_json::from_str(&get(demo.admin, "/status").await.unwrap().body).unwrap();
    status["calls"][0]["streams"]
        .as_array()
        .and_then(|streams| streams.iter().find(|s| s["media"] == media).cloned())
        .unwrap_or(Value::Null)
}

/// Waits until the room system has been sending video for a while and gets the node's.
async fn media_flowing(demo: &Demo, room: &RoomSystem) {
    let flowing = eventually(Duration::from_secs(20), || async {
        let video = stream_status(demo, "video").await;
        video["rtp"]["packets_in"].as_u64().unwrap_or(0) >= 60
            && room.video_in.lock().unwrap().packets >= 30
    })
    .await;
    assert!(
        flowing,
        "video both ways: {:#}",
        stream_status(demo, "video").await
    );
}

/// The keyframe requests the node sent before any loss, once none came for a second: at call
/// start the room system's first packets reach a decoder that has no keyframe yet (they were
/// sent before the media plane existed), and the node rightly asks for one. Returns how many.
async fn settled_feedback(room: &RoomSystem) -> usize {
    let mut seen = room.video_feedback().len();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = room.video_feedback().len();
        if now == seen {
            println!("keyframe requests at call start: {now}");
            assert!(now <= 3, "{:?}", room.video_feedback());
            return now;
        }
        seen = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_video_packet_gets_one_pli_reports_flow_and_a_pli_storm_gives_two_idrs_at_most() {
    let _serial = SERIAL.lock().await;
    let demo = Demo::start(29_400, "").await;
    let room = RoomSystem::call(&demo, &format!("a=rtcp-fb:{H264_PT} nack pli\r\n")).await;
    media_flowing(&demo, &room).await;
    let at_start = settled_feedback(&room).await;

    // One video packet left out: one PLI within 2 s, and no other in the next 1.5 s.
    let skipped = room.skip_one_video_packet().await;
    let got = eventually(Duration::from_secs(2), || async {
        room.video_feedback().len() > at_start
    })
    .await;
    assert!(got, "no PLI within 2 s of the lost packet");
    let first = room.video_feedback()[at_start].0;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let feedback = room.video_feedback().split_off(at_start);
    let node_ssrc = room.video_in.lock().unwrap().ssrc.unwrap();
    let ours = room.video_ssrc.load(Ordering::Relaxed);
    assert_eq!(
        feedback.iter().map(|f| f.1.clone()).collect::<Vec<_>>(),
        [RtcpPacket::Pli {
            sender: node_ssrc,
            media: ours
        }]
    );
    println!(
        "PLI {} ms after the packet was left out",
        first.duration_since(skipped).as_millis()
    );

    // Periodic reports on both streams name our SSRCs; on video (the node sends) they are SRs.
    let audio_ours = room.audio_ssrc.load(Ordering::Relaxed);
    let reported = eventually(Duration::from_secs(10), || async {
        let (video_blocks, video_sr) = RoomSystem::reports_about(&room.video_rtcp_log, ours);
        let (audio_blocks, audio_sr) = RoomSystem::reports_about(&room.audio_rtcp_log, audio_ours);
        video_blocks >= 3 && video_sr && audio_blocks >= 1 && audio_sr
    })
    .await;
    let video_reports = RoomSystem::reports_about(&room.video_rtcp_log, ours);
    let audio_reports = RoomSystem::reports_about(&room.audio_rtcp_log, audio_ours);
    println!("report blocks about us: video {video_reports:?}, audio {audio_reports:?}");
    assert!(reported, "video {video_reports:?}, audio {audio_reports:?}");

    // /status: both ways counted, the loss seen, the PLI counted.
    let video = stream_status(&demo, "video").await;
    let audio = stream_status(&demo, "audio").await;
    println!("{video:#}\n{audio:#}");
    for (stream, name) in [(&video, "video"), (&audio, "audio")] {
        let rtp = &stream["rtp"];
        for key in [
            "packets_in",
            "bytes_in",
            "packets_out",
            "bytes_out",
            "bitrate_in_bps",
            "bitrate_out_bps",
        ] {
            assert!(rtp[key].as_u64().unwrap_or(0) > 0, "{name} {key}: {rtp:#}");
        }
    }
    let rtp = &video["rtp"];
    assert!(rtp["lost"].as_i64().unwrap() >= 1, "{rtp:#}");
    assert_eq!(
        rtp["keyframe_requests"]["sent_pli"],
        at_start as u64 + 1,
        "{rtp:#}"
    );
    assert_eq!(rtp["ssrc_in"], ours, "{rtp:#}");
    assert_eq!(rtp["ssrc_out"], node_ssrc, "{rtp:#}");
    let metrics = demo.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            "tcn_vtc_keyframe_requests_total{direction=\"sent\",message=\"pli\"}"
        ),
        Some(at_start as f64 + 1.0)
    );
    assert!(
        metric(
            &metrics,
            "tcn_vtc_rtp_packets_total{direction=\"out\",media=\"video\"}"
        )
        .unwrap_or(0.0)
            > 0.0,
        "{metrics}"
    );

    // A PLI storm: 100 PLIs in under a second, past the downlink's start-of-call IDRs (at 0,
    // 1 and 2 s of its output).
    let first_video = room.video_in.lock().unwrap().first.unwrap();
    let quiet_from = first_video + Duration::from_millis(3500);
    tokio::time::sleep_until(tokio::time::Instant::from_std(
        quiet_from.max(Instant::now()),
    ))
    .await;
    let pli = node::rtp::rtcp::write_compound(&[RtcpPacket::Pli {
        sender: ours,
        media: node_ssrc,
    }]);
    let storm_start = Instant::now();
    for i in 0..100u32 {
        let at = storm_start + Duration::from_micros(9_500 * u64::from(i));
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        room.video_rtcp.send_to(&pli, room.node_video_rtcp).unwrap();
    }
    let storm_end = Instant::now();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let idrs: Vec<u128> = room
        .video_in
        .lock()
        .unwrap()
        .idrs
        .iter()
        .filter(|(at, _)| *at >= storm_start)
        .map(|(at, _)| at.duration_since(storm_start).as_millis())
        .collect();
    println!(
        "storm of {} ms: IDRs at {idrs:?} ms from its start",
        storm_end.duration_since(storm_start).as_millis()
    );
    assert!(
        storm_end.duration_since(storm_start) < Duration::from_secs(1),
        "the storm took {:?}",
        storm_end.duration_since(storm_start)
    );
    assert!(
        (1..=2).contains(&idrs.len()),
        "IDRs at {idrs:?} ms after the storm started"
    );
    let received = eventually(Duration::from_secs(2), || async {
        stream_status(&demo, "video").await["rtp"]["keyframe_requests"]["received_pli"] == 100
    })
    .await;
    assert!(received, "{:#}", stream_status(&demo, "video").await);
    room.in_dialog("BYE", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_with_only_ccm_fir_gets_a_fir_for_a_lost_packet() {
    let _serial = SERIAL.lock().await;
    let demo = Demo::start(29_500, "").await;
    let room = RoomSystem::call(&demo, "a=rtcp-fb:* ccm fir\r\n").await;
    media_flowing(&demo, &room).await;
    let at_start = settled_feedback(&room).await;
    room.skip_one_video_packet().await;
    let got = eventually(Duration::from_secs(2), || async {
        room.video_feedback().len() > at_start
    })
    .await;
    assert!(got, "no FIR within 2 s of the lost packet");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let node_ssrc = room.video_in.lock().unwrap().ssrc.unwrap();
    let ours = room.video_ssrc.load(Ordering::Relaxed);
    // RFC 5104 §4.3.1.2: the sequence number goes up by one per new request.
    let sequence = u8::try_from(at_start).unwrap();
    assert_eq!(
        room.video_feedback()
            .split_off(at_start)
            .into_iter()
            .map(|f| f.1)
            .collect::<Vec<_>>(),
        [RtcpPacket::Fir {
            sender: node_ssrc,
            entries: vec![node::rtp::rtcp::FirEntry {
                ssrc: ours,
                sequence
            }]
        }]
    );
    let video = stream_status(&demo, "video").await;
    assert_eq!(
        video["rtp"]["keyframe_requests"]["sent_fir"],
        at_start as u64 + 1,
        "{video:#}"
    );
    room.in_dialog("BYE", 2).await;
}
