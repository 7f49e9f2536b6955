//! SRTP interop with a third-party implementation: GStreamer's `srtpenc` (gst-plugins-bad, over
//! libsrtp2) protects a short H.264 RTP stream and its RTCP with a known SDES key, and our
//! [`SrtpSession`] must unprotect every packet back to the exact RTP that `srtpenc` was given,
//! for both suites. Under a wrong key, not one packet may pass.
//!
//! The pipeline sends three flows to sockets this test bound on loopback: SRTP, the same RTP in
//! clear (a `tee` before `srtpenc`), and SRTCP made from one RTCP sender report that this test
//! wrote to a file. (Not `rtpbin`'s own RTCP: its RTCP branch sometimes never reaches EOS, and
//! `gst-launch-1.0` then never exits.)
//!
//! GStreamer is a required test tool (`deploy/install-deps.sh` installs it): when `gst-launch-1.0`
//! or an element is missing the tests fail under CI (`CI` set) and are skipped with a message
//! otherwise.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use node::srtp::{SrtpError, SrtpSession};
use signaling::sdp::{CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};

/// The elements the pipeline uses.
const ELEMENTS: [&str; 9] = [
    "videotestsrc",
    "x264enc",
    "rtph264pay",
    "tee",
    "queue",
    "srtpenc",
    "udpsink",
    "filesrc",
    "capsfilter",
];

/// The SSRC of the RTP stream and of the sender report.
const SSRC: u32 = 0x2bad_f00d;

/// The master key and salt both sides use (a test key; never a real one).
const KEY: [u8; SRTP_KEY_SALT_LEN] = [
    0x3c, 0x9a, 0x41, 0x07, 0xee, 0x52, 0x18, 0xb3, 0x6d, 0x90, 0x2f, 0xc4, 0x75, 0x0a, 0xd1, 0x68,
    0x9e, 0x23, 0x4b, 0xf0, 0x11, 0xa7, 0x5c, 0x86, 0x3e, 0xd9, 0x02, 0x6b, 0xb8, 0x47,
];

/// Media ports of the node's tests (the default range holds them): never bind there.
const AVOID_PORTS: std::ops::RangeInclusive<u16> = 40_000..=49_999;

/// What one `srtpenc` run sent.
struct Capture {
    srtp: Vec<Vec<u8>>,
    plain: Vec<Vec<u8>>,
    srtcp: Vec<Vec<u8>>,
}

/// True when GStreamer and every element are there; otherwise fails under CI, or says why the
/// test is skipped.
fn gstreamer_available() -> bool {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing: Vec<&str> = if runs("gst-launch-1.0", &["--version"]) {
        ELEMENTS
            .into_iter()
            .filter(|e| !runs("gst-inspect-1.0", &["--exists", e]))
            .collect()
    } else {
        vec!["gst-launch-1.0"]
    };
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "GStreamer is missing {missing:?}: install gstreamer1.0-tools and the base, good, bad \
         and ugly plugins (deploy/install-deps.sh)"
    );
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// A loopback socket outside the node's media ports.
fn bind() -> UdpSocket {
    for _ in 0..50 {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        if !AVOID_PORTS.contains(&socket.local_addr().unwrap().port()) {
            return socket;
        }
    }
    panic!("no ephemeral port outside {AVOID_PORTS:?}");
}

/// Reads datagrams until `done` is set and the socket has been quiet for 200 ms.
fn collect(socket: UdpSocket, done: Arc<AtomicBool>) -> JoinHandle<Vec<Vec<u8>>> {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    thread::spawn(move || {
        let mut received = Vec::new();
        let mut buf = vec![0; 65_536];
        loop {
            match socket.recv(&mut buf) {
                Ok(len) => received.push(buf[..len].to_vec()),
                Err(_) if done.load(Ordering::SeqCst) => return received,
                Err(_) => {}
            }
        }
    })
}

/// `srtpenc`'s name for a suite's RTP authentication (SRTCP has an 80-bit tag in both,
/// RFC 4568 §6.2).
fn rtp_auth(suite: CryptoSuite) -> &'static str {
    match suite {
        CryptoSuite::AesCm128HmacSha1_80 => "hmac-sha1-80",
        CryptoSuite::AesCm128HmacSha1_32 => "hmac-sha1-32",
    }
}

/// An RTCP sender report without report blocks (RFC 3550 §6.4.1).
fn sender_report() -> Vec<u8> {
    let mut packet = vec![0x80, 200, 0, 6];
    packet.extend_from_slice(&SSRC.to_be_bytes());
    packet.extend((0..20).map(|i| 0x30 + i));
    packet
}

/// Runs 30 frames of H.264 through `rtph264pay ! srtpenc`, paced in real time, and one sender
/// report from a file through the same `srtpenc`.
fn run_srtpenc(suite: CryptoSuite) -> Capture {
    let (srtp, plain, srtcp) = (bind(), bind(), bind());
    let port = |s: &UdpSocket| s.local_addr().unwrap().port().to_string();
    let key: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    let report = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("srtp_interop_sr_{}.bin", rtp_auth(suite)));
    std::fs::write(&report, sender_report()).unwrap();
    let pipeline = format!(
        "videotestsrc num-buffers=30 ! video/x-raw,width=160,height=120,framerate=30/1 \
           ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 \
           ! rtph264pay pt=96 mtu=1000 ssrc={SSRC} ! tee name=t \
         t. ! queue ! enc.rtp_sink_0 \
         srtpenc name=enc key={key} rtp-cipher=aes-128-icm rtp-auth={auth} \
           rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80 \
         enc.rtp_src_0 ! udpsink host=127.0.0.1 port={srtp_port} \
         t. ! queue ! udpsink host=127.0.0.1 port={plain_port} \
         filesrc location={report} ! application/x-rtcp ! enc.rtcp_sink_0 \
         enc.rtcp_src_0 ! udpsink host=127.0.0.1 port={srtcp_port} sync=false",
        auth = rtp_auth(suite),
        srtp_port = port(&srtp),
        plain_port = port(&plain),
        srtcp_port = port(&srtcp),
        report = report.display(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let readers = [srtp, plain, srtcp].map(|s| collect(s, Arc::clone(&done)));
    let mut child = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gst-launch-1.0 starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gst-launch-1.0 ran past 60 s: {pipeline}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "gst-launch-1.0 failed ({status}): {pipeline}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    done.store(true, Ordering::SeqCst);
    let [srtp, plain, srtcp] = readers.map(|r| r.join().unwrap());
    Capture { srtp, plain, srtcp }
}

/// A session that receives with `remote_key`.
fn receiver(suite: CryptoSuite, remote_key: [u8; SRTP_KEY_SALT_LEN]) -> SrtpSession {
    SrtpSession::new(&SrtpContext {
        suite,
        local_key: [0; SRTP_KEY_SALT_LEN],
        remote_key,
        tag: 1,
    })
}

fn sequence(rtp: &[u8]) -> u16 {
    u16::from_be_bytes([rtp[2], rtp[3]])
}

fn interop(suite: CryptoSuite, tag_len: usize) {
    if !gstreamer_available() {
        return;
    }
    let capture = run_srtpenc(suite);
    assert!(
        capture.srtp.len() >= 30,
        "{suite}: at least one packet per frame, got {}",
        capture.srtp.len()
    );
    assert_eq!(capture.srtp.len(), capture.plain.len(), "{suite}");
    let plain: HashMap<u16, &Vec<u8>> = capture.plain.iter().map(|p| (sequence(p), p)).collect();

    let mut session = receiver(suite, KEY);
    for (i, protected) in capture.srtp.iter().enumerate() {
        let rtp = session
            .unprotect_rtp(protected)
            .unwrap_or_else(|e| panic!("{suite}: packet {i} refused: {e}"));
        assert_eq!(rtp[0] >> 6, 2, "{suite}: RTP version");
        assert_eq!(rtp[1] & 0x7f, 96, "{suite}: payload type");
        assert_eq!(rtp[8..12], SSRC.to_be_bytes(), "{suite}: SSRC");
        assert_eq!(
            Some(&&rtp),
            plain.get(&sequence(&rtp)),
            "{suite}: packet {i} is the RTP srtpenc was given"
        );
        assert_eq!(protected.len(), rtp.len() + tag_len, "{suite}: tag length");
    }
    // RFC 3711 §3.4: E flag and SRTCP index, then an 80-bit tag in both suites.
    let [protected] = &capture.srtcp[..] else {
        panic!("{suite}: {} SRTCP packets, not 1", capture.srtcp.len());
    };
    assert_eq!(protected.len(), sender_report().len() + 4 + 10, "{suite}");
    assert_eq!(
        session.unprotect_rtcp(protected),
        Ok(sender_report()),
        "{suite}: SRTCP"
    );

    // Under a wrong key (one bit of the salt) nothing passes.
    let mut wrong = KEY;
    wrong[SRTP_KEY_SALT_LEN - 1] ^= 0x01;
    let mut stranger = receiver(suite, wrong);
    for protected in &capture.srtp {
        assert_eq!(
            stranger.unprotect_rtp(protected),
            Err(SrtpError::Authentication),
            "{suite}"
        );
    }
    for protected in &capture.srtcp {
        assert_eq!(
            stranger.unprotect_rtcp(protected),
            Err(SrtpError::Authentication),
            "{suite}"
        );
    }
}

#[test]
fn srtpenc_aes_cm_128_hmac_sha1_80_unprotects() {
    interop(CryptoSuite::AesCm128HmacSha1_80, 10);
}

#[test]
fn srtpenc_aes_cm_128_hmac_sha1_32_unprotects() {
    interop(CryptoSuite::AesCm128HmacSha1_32, 4);
}
