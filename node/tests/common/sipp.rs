//! SIPp harness for end-to-end SIP tests: runs one scenario from `node/tests/sipp/` against a
//! node on loopback and collects what SIPp reports, and makes the media the scenarios send.
//!
//! SIPp (Debian package `sip-tester`) is a required test tool: when it is missing, the tests
//! fail with an install hint instead of passing silently.
//!
//! Media (made once per target directory, under `CARGO_TARGET_TMPDIR`, never committed):
//! * `h264_rtp.pcap`: H.264 RTP (PT 96, 352x288, 25 fps, 10 s, ~570 packets) for
//!   `play_pcap_video`. GStreamer encodes it (the `docs/test-peers.md` §2.1 recipe, not live)
//!   and frames the RTP packets with `rtpstreampay` (RFC 4571) into a file; this module then
//!   writes a libpcap file (Ethernet/IPv4/UDP, as `tcpdump -i lo` would) timed from the RTP
//!   timestamps. No tcpdump, no root, no 10 s wait.
//! * `tone8k.ulaw`: 1 s of a 440 Hz tone as raw 8 kHz G.711 μ-law for `rtp_stream`.
//!
//! Each run gets its own folder holding a copy of the scenario, the media it names, and
//! SIPp's logs; the folder is kept for inspection (its path is in every failure message).

use std::collections::{HashMap, HashSet};
use std::f64::consts::PI;
use std::fmt;
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// What to tell someone who lacks SIPp.
pub const SIPP_MISSING: &str = "sipp is not installed: install sip-tester (make deps, or \
                                apt-get install sip-tester); the SIPp end-to-end tests need it";

/// File name of the H.264 RTP pcap, as scenarios name it in `play_pcap_video`.
pub const VIDEO_PCAP: &str = "h264_rtp.pcap";

/// File name of the raw G.711 μ-law tone, as scenarios name it in `rtp_stream`.
pub const AUDIO_ULAW: &str = "tone8k.ulaw";

/// Ports this harness never hands to SIPp: the node's default media range, which holds the
/// ranges the tests configure. A SIPp socket there could take a port the node wants.
const AVOID_PORTS: std::ops::RangeInclusive<u16> = 40_000..=49_999;

/// The SIP transport SIPp uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `-t u1`: UDP, one socket.
    Udp,
    /// `-t t1`: TCP, one connection.
    Tcp,
}

impl Transport {
    /// SIPp's `-t` value.
    pub fn sipp_mode(self) -> &'static str {
        match self {
            Self::Udp => "u1",
            Self::Tcp => "t1",
        }
    }

    /// The node's metric label for the transport (`tcn_sip_requests_total{transport}`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What one SIPp run left behind.
#[derive(Debug)]
pub struct SippRun {
    /// SIPp's exit status: 0 all calls succeeded, 1 at least one failed, 97 internal exit,
    /// 99 no call processed, 255/254 fatal. `None` when it was killed (it overran).
    pub exit_code: Option<i32>,
    /// True when the harness had to kill SIPp because it ran past its time.
    pub killed: bool,
    /// Standard output (SIPp's screens).
    pub stdout: String,
    /// Standard error (warnings, pcap loading).
    pub stderr: String,
    /// The last row of the `-trace_stat` CSV, by column name (e.g. `SuccessfulCall(C)`), if
    /// SIPp wrote one.
    pub stats: Option<HashMap<String, String>>,
    /// The `-trace_err` log: unexpected messages and failed checks.
    pub error_log: String,
    /// The `-trace_msg` log: every SIP message sent and received.
    pub messages: String,
    /// The run's folder (scenario copy, media, logs).
    pub dir: PathBuf,
    /// The command line, for failure messages.
    pub command: String,
}

impl SippRun {
    /// True when SIPp exited 0: every call reached the end of the scenario.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// One column of the final statistics row.
    pub fn stat(&self, column: &str) -> Option<&str> {
        self.stats.as_ref()?.get(column).map(String::as_str)
    }

    /// Panics with everything SIPp reported unless it exited 0.
    #[track_caller]
    pub fn assert_success(&self, what: &str) {
        assert!(self.success(), "{what}: SIPp failed\n{self}");
    }

    /// The SIP messages SIPp received, in order (from the message log, whose entries are a
    /// dashed line with a time stamp, `UDP message received [N] bytes :`, an empty line, and
    /// the message).
    pub fn received(&self) -> Vec<&str> {
        self.messages
            .split("----------------------------------------------- ")
            .filter_map(|entry| {
                let (_time, rest) = entry.split_once('\n')?;
                let (kind, message) = rest.split_once('\n')?;
                kind.contains("message received")
                    .then(|| message.trim_start_matches(['\r', '\n']).trim_end())
            })
            .collect()
    }

    /// The first received response with status `code`, if any.
    pub fn response(&self, code: u16) -> Option<&str> {
        let prefix = format!("SIP/2.0 {code} ");
        self.received()
            .into_iter()
            .find(|message| message.starts_with(&prefix))
    }
}

impl fmt::Display for SippRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = |text: &str, lines: usize| {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        };
        writeln!(f, "command: {}", self.command)?;
        writeln!(
            f,
            "exit code: {:?}{}",
            self.exit_code,
            if self.killed {
                " (killed: overran)"
            } else {
                ""
            }
        )?;
        writeln!(f, "run folder: {}", self.dir.display())?;
        if let Some(stats) = &self.stats {
            let pick = |k: &str| stats.get(k).map_or("?", String::as_str);
            let mut reasons: Vec<String> = stats
                .iter()
                .filter(|(k, v)| {
                    k.starts_with("Failed") && *k != "FailedCall(C)" && k.ends_with("(C)") && {
                        v.parse::<u64>().is_ok_and(|n| n > 0)
                    }
                })
                .map(|(k, v)| format!("{} {v}", k.trim_end_matches("(C)")))
                .collect();
            reasons.sort();
            writeln!(
                f,
                "stats: successful {} failed {} [{}]",
                pick("SuccessfulCall(C)"),
                pick("FailedCall(C)"),
                reasons.join(", "),
            )?;
        }
        writeln!(f, "--- error log ---\n{}", tail(&self.error_log, 60))?;
        writeln!(f, "--- messages (tail) ---\n{}", tail(&self.messages, 80))?;
        writeln!(f, "--- stderr (tail) ---\n{}", tail(&self.stderr, 30))?;
        write!(f, "--- stdout (tail) ---\n{}", tail(&self.stdout, 30))
    }
}

/// True when a `sipp` binary runs.
pub fn sipp_available() -> bool {
    Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Panics with [`SIPP_MISSING`] unless SIPp is installed.
pub fn require_sipp() {
    assert!(sipp_available(), "{SIPP_MISSING}");
}

/// Runs `scenario` once (`-m 1`) against `target` and waits for it:
///
/// `sipp -sf <copy> -i 127.0.0.1 -p <free> -mi 127.0.0.1 -mp <free, even> -cp <free> -m 1
/// -nostdin -timeout <s>s -timeout_error -trace_err -trace_msg -trace_stat -fd 1 -t u1|t1
/// <extra_args> <target>`
///
/// in a fresh folder under `CARGO_TARGET_TMPDIR`, which also receives a copy of the scenario
/// and of the media files it names ([`VIDEO_PCAP`], [`AUDIO_ULAW`]): SIPp looks for pcaps next
/// to the scenario and for `rtp_stream` files in its working directory. Pass the
/// Request-URI user as `extra_args` `["-s", "test"]`.
///
/// `timeout` is SIPp's global timeout (rounded up to whole seconds; reaching it is a failure);
/// the harness kills SIPp if it is still running 5 s later. Blocking: from async code call it
/// in `tokio::task::spawn_blocking`.
///
/// Panics (with the install hint) when SIPp is missing, and when the media cannot be made.
pub fn run_scenario(
    scenario: &Path,
    target: SocketAddr,
    transport: Transport,
    extra_args: &[&str],
    timeout: Duration,
) -> SippRun {
    require_sipp();
    let text = fs::read_to_string(scenario)
        .unwrap_or_else(|e| panic!("cannot read scenario {}: {e}", scenario.display()));
    let stem = scenario
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    let dir = run_dir(stem, transport);
    let local_scenario = dir.join(format!("{stem}.xml"));
    fs::write(&local_scenario, &text).expect("copy the scenario into the run folder");
    if text.contains(VIDEO_PCAP) {
        fs::copy(h264_pcap(), dir.join(VIDEO_PCAP)).expect("copy the H.264 pcap");
    }
    if text.contains(AUDIO_ULAW) {
        fs::copy(ulaw_tone(), dir.join(AUDIO_ULAW)).expect("copy the G.711 tone");
    }

    let sip_port = free_port(true);
    let media_port = free_media_port();
    let control_port = free_port(false);
    let timeout_s = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let mut args: Vec<String> = [
        "-sf",
        local_scenario.to_str().expect("UTF-8 path"),
        "-i",
        "127.0.0.1",
        "-p",
        &sip_port.to_string(),
        "-mi",
        "127.0.0.1",
        "-mp",
        &media_port.to_string(),
        "-ci",
        "127.0.0.1",
        "-cp",
        &control_port.to_string(),
        "-m",
        "1",
        "-nostdin",
        "-timeout",
        &format!("{timeout_s}s"),
        "-timeout_error",
        "-trace_err",
        "-error_file",
        "errors.log",
        "-trace_msg",
        "-message_file",
        "messages.log",
        "-trace_stat",
        "-stf",
        "stats.csv",
        "-fd",
        "1",
        "-t",
        transport.sipp_mode(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra_args.iter().map(|s| (*s).to_owned()));
    args.push(target.to_string());
    let command = format!("(cd {} && sipp {})", dir.display(), args.join(" "));

    let mut child = Command::new("sipp")
        .args(&args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sipp ({e}); {SIPP_MISSING}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));

    let deadline = Instant::now() + Duration::from_secs(timeout_s + 5);
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for sipp") {
            break status;
        }
        if Instant::now() >= deadline {
            killed = true;
            let _ = child.kill();
            break child.wait().expect("reap sipp");
        }
        thread::sleep(Duration::from_millis(20));
    };

    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
    SippRun {
        exit_code: status.code(),
        killed,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        stats: last_csv_row(&read("stats.csv")),
        error_log: read("errors.log"),
        messages: read("messages.log"),
        dir,
        command,
    }
}

/// Reads a pipe to its end on a thread (so SIPp never blocks on a full pipe).
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The last data row of a `;`-separated SIPp statistics file, keyed by the header row.
fn last_csv_row(text: &str) -> Option<HashMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last = lines.next_back()?;
    Some(
        header
            .iter()
            .zip(last.split(';'))
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
            .collect(),
    )
}

/// A fresh, empty folder for one run.
fn run_dir(stem: &str, transport: Transport) -> PathBuf {
    static RUN: AtomicU32 = AtomicU32::new(0);
    let n = RUN.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sipp-runs")
        .join(format!("{stem}-{transport}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the SIPp run folder");
    dir
}

/// Ports already handed out by this process: a port is released between the check and
/// SIPp's bind, so never hand the same one out twice.
fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(Mutex::default)
}

fn claim(ports: &[u16]) -> bool {
    let mut taken = handed_out().lock().unwrap_or_else(|e| e.into_inner());
    if ports.iter().any(|p| taken.contains(p)) {
        return false;
    }
    taken.extend(ports);
    true
}

fn udp_free(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// A loopback port free for UDP (and for TCP when `tcp`), found by binding port 0, outside
/// [`AVOID_PORTS`].
pub fn free_port(tcp: bool) -> u16 {
    for _ in 0..1000 {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on loopback");
        let port = socket.local_addr().expect("local address").port();
        if AVOID_PORTS.contains(&port) {
            continue;
        }
        if tcp && TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        drop(socket);
        if claim(&[port]) {
            return port;
        }
    }
    panic!("no free loopback port found");
}

/// An even loopback port `p` with `p..=p + 3` free for UDP (SIPp binds audio `p`, video
/// `p + 2`, and their RTCP neighbours), outside [`AVOID_PORTS`].
pub fn free_media_port() -> u16 {
    for _ in 0..1000 {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on loopback");
        let base = probe.local_addr().expect("local address").port() & !1;
        drop(probe);
        let Some(last) = base.checked_add(3) else {
            continue;
        };
        if AVOID_PORTS.contains(&base) || AVOID_PORTS.contains(&last) {
            continue;
        }
        let ports = [base, base + 1, base + 2, base + 3];
        if ports.iter().all(|&p| udp_free(p)) && claim(&ports) {
            return base;
        }
    }
    panic!("no free loopback media ports found");
}

// ---------------------------------------------------------------------------------------
// Media
// ---------------------------------------------------------------------------------------

/// The H.264 RTP pcap (made on first use, then cached under `CARGO_TARGET_TMPDIR`).
///
/// Panics with an install hint when GStreamer cannot make it.
pub fn h264_pcap() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = media_dir().join(VIDEO_PCAP);
        if !path.exists() {
            let packets = encode_h264_rtp();
            write_atomically(&path, &pcap_from_rtp(&packets, 90_000));
        }
        path
    })
    .clone()
}

/// The raw G.711 μ-law tone for `rtp_stream` (made on first use, then cached).
pub fn ulaw_tone() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = media_dir().join(AUDIO_ULAW);
        if !path.exists() {
            write_atomically(&path, &ulaw_sine(440.0, 8_000, 0.3));
        }
        path
    })
    .clone()
}

fn media_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sipp-media");
    fs::create_dir_all(&dir).expect("create the SIPp media folder");
    dir
}

/// Writes to a temporary name and renames, so that a concurrent reader (another test
/// binary) never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, bytes).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}

/// The RTP packets of 10 s of H.264 (the `docs/test-peers.md` §2.1 pipeline without
/// `is-live`, so it takes well under a second), framed with `rtpstreampay` into a file.
fn encode_h264_rtp() -> Vec<Vec<u8>> {
    let out = media_dir().join(format!("h264.rtpstream.{}", std::process::id()));
    let location = format!("location={}", out.display());
    let pipeline = [
        "-q",
        "videotestsrc",
        "num-buffers=250",
        "pattern=ball",
        "!",
        "video/x-raw,width=352,height=288,framerate=25/1",
        "!",
        "x264enc",
        "tune=zerolatency",
        "speed-preset=ultrafast",
        "bitrate=400",
        "key-int-max=25",
        "aud=false",
        "!",
        "video/x-h264,profile=constrained-baseline",
        "!",
        "rtph264pay",
        "pt=96",
        "config-interval=-1",
        "mtu=1200",
        "ssrc=3405643776",
        "seqnum-offset=1000",
        "timestamp-offset=0",
        "!",
        "rtpstreampay",
        "!",
        "filesink",
        &location,
    ];
    let output = Command::new("gst-launch-1.0")
        .args(pipeline)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run gst-launch-1.0 ({e}): install gstreamer1.0-tools and the good and \
                 ugly plugins (make deps)"
            )
        });
    assert!(
        output.status.success(),
        "gst-launch-1.0 failed to make the H.264 RTP stream ({}); x264enc is in \
         gstreamer1.0-plugins-ugly, rtph264pay and rtpstreampay in gstreamer1.0-plugins-good \
         (make deps)\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let framed = fs::read(&out).expect("read the RTP stream file");
    let _ = fs::remove_file(&out);
    let packets = split_rfc4571(&framed);
    assert!(
        packets.len() >= 500 && packets.iter().all(|p| p.len() >= 12 && p[1] & 0x7f == 96),
        "unexpected H.264 RTP stream from GStreamer: {} packets",
        packets.len()
    );
    packets
}

/// Splits RFC 4571 framing (a 16-bit big-endian length before each packet).
fn split_rfc4571(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    while let [hi, lo, rest @ ..] = bytes {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some((packet, tail)) = rest.split_at_checked(len) else {
            break;
        };
        packets.push(packet.to_vec());
        bytes = tail;
    }
    packets
}

/// A libpcap file (link type Ethernet) holding each RTP packet as a UDP datagram from
/// 127.0.0.1:30000 to 127.0.0.1:40000. Capture times follow the RTP timestamps (`clock_rate`
/// Hz), with packets of one frame 100 µs apart, so SIPp replays the stream in real time.
pub fn pcap_from_rtp(packets: &[Vec<u8>], clock_rate: u32) -> Vec<u8> {
    const START_S: u64 = 1_700_000_000;
    let mut out = Vec::with_capacity(24 + packets.iter().map(|p| p.len() + 58).sum::<usize>());
    // Global header: magic, version 2.4, GMT offset, accuracy, snap length, Ethernet.
    out.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    out.extend_from_slice(&4_u16.to_le_bytes());
    for word in [0_u32, 0, 65_535, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }

    let Some(first) = packets.first() else {
        return out;
    };
    let rtp_ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    let base_ts = rtp_ts(first);
    let mut last_ts = base_ts;
    let mut in_frame = 0_u64;
    for (index, rtp) in packets.iter().enumerate() {
        let ts = rtp_ts(rtp);
        in_frame = if ts == last_ts { in_frame + 1 } else { 0 };
        last_ts = ts;
        let elapsed_us = u64::from(ts.wrapping_sub(base_ts)) * 1_000_000 / u64::from(clock_rate)
            + in_frame * 100;
        let frame = udp_frame(rtp, index as u16);
        let frame_len = u32::try_from(frame.len()).expect("small frame");
        let sec = u32::try_from(START_S + elapsed_us / 1_000_000).expect("32-bit seconds");
        let usec = u32::try_from(elapsed_us % 1_000_000).expect("< 10^6");
        for word in [sec, usec, frame_len, frame_len] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    out
}

/// Ethernet + IPv4 + UDP around `payload`, loopback to loopback.
fn udp_frame(payload: &[u8], ip_id: u16) -> Vec<u8> {
    let udp_len = u16::try_from(8 + payload.len()).expect("datagram fits");
    let ip_len = udp_len + 20;
    let mut frame = Vec::with_capacity(14 + usize::from(ip_len));
    // Ethernet: destination, source (all zero, as on lo), EtherType IPv4.
    frame.extend_from_slice(&[0; 12]);
    frame.extend_from_slice(&0x0800_u16.to_be_bytes());
    // IPv4: version 4 / IHL 5, DSCP 0, length, id, don't fragment, TTL 64, UDP, checksum.
    let mut ip = [0_u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
    ip[6..8].copy_from_slice(&0x4000_u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
    let checksum = internet_checksum(&ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    // UDP: ports, length, checksum 0 (none; SIPp computes its own when replaying).
    frame.extend_from_slice(&30_000_u16.to_be_bytes());
    frame.extend_from_slice(&40_000_u16.to_be_bytes());
    frame.extend_from_slice(&udp_len.to_be_bytes());
    frame.extend_from_slice(&0_u16.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// RFC 1071 checksum.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `samples` samples of a sine at `hz`, 8 kHz, peak `amplitude` (0..1 of full scale), as
/// G.711 μ-law bytes.
pub fn ulaw_sine(hz: f64, samples: usize, amplitude: f64) -> Vec<u8> {
    (0..samples)
        .map(|n| {
            let x = amplitude * (2.0 * PI * hz * n as f64 / 8_000.0).sin();
            linear_to_ulaw((x * 32_767.0).round() as i16)
        })
        .collect()
}

/// ITU-T G.711 μ-law encoding of one 16-bit linear sample.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    magnitude = magnitude.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && magnitude & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}
