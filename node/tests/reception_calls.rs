//! Virtual Reception end to end, with SIPp as the room system and the embedded meet-sim: the
//! call to the reception alias is answered at once (no 180), hears the spoken prompt (decoded
//! from the PCMU the node sends to the caller's audio port, captured by the test), types the
//! demo meeting's long ID as RFC 4733 events (a pcap SIPp plays) or as SIP INFO, and lands in
//! the conference in the same call: the simulator sees the gateway joined and its VP8 layers
//! made from SIPp's H.264. A wrong ID (or silence) is re-prompted, a wrong ID counted as a
//! failed lookup for break-in defence; too many failures end the call with a BYE carrying a
//! `Reason`.

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::demo::Demo;
use common::sipp::{self, SippRun, Transport};
use common::{eventually, metric};
use tokio::sync::Mutex as AsyncMutex;

/// One call at a time: each is a node, a conference and a SIPp run on a 2-core machine.
static SERIAL: AsyncMutex<()> = AsyncMutex::const_new(());

/// Two receptions: the default one, and a strict one that waits 3 s for the first digit.
const RECEPTIONS: &str = "\
[[routing.virtual_receptions]]
name = \"gmeet\"
alias = \"gmeet@127.0.0.1\"
lookup_domain = \"127.0.0.1\"

[[routing.virtual_receptions]]
name = \"strict\"
alias = \"strict@127.0.0.1\"
lookup_domain = \"127.0.0.1\"
entry_timeout = \"3s\"
";

/// The payload type SIPp's offer gives telephone-event.
const EVENT_PT: u8 = 101;

// ---------------------------------------------------------------------------------------
// What the caller hears
// ---------------------------------------------------------------------------------------

/// The UDP socket the offer names as the caller's audio port: it keeps every datagram the node
/// sends there.
struct Capture {
    port: u16,
    packets: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Capture {
    fn start() -> Self {
        let socket = UdpSocket::bind(("127.0.0.1", sipp::free_port(false))).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let packets = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::downgrade(&packets);
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            loop {
                let received = socket.recv(&mut buf);
                let Some(packets) = keep.upgrade() else {
                    return;
                };
                if let Ok(len) = received {
                    packets.lock().unwrap().push(buf[..len].to_vec());
                }
            }
        });
        Self { port, packets }
    }

    /// The RMS level of each PCMU packet (payload type 0) received so far, in order.
    fn levels(&self) -> Vec<f64> {
        self.packets
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.len() > 12 && p[0] >> 6 == 2 && p[1] & 0x7f == 0)
            .map(|p| {
                let samples: Vec<f64> = p[12..].iter().map(|&b| ulaw_to_linear(b)).collect();
                (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
            })
            .collect()
    }

    /// How many packets carried speech (RMS above 300 of 32767: the silence the mixer makes
    /// between prompts decodes to 0).
    fn loud_packets(&self) -> usize {
        self.levels().iter().filter(|&&rms| rms > 300.0).count()
    }
}

/// G.711 µ-law to a linear 16-bit sample (ITU-T G.711).
fn ulaw_to_linear(byte: u8) -> f64 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0f);
    let magnitude = ((mantissa << 3) + 0x84) << exponent;
    let value = magnitude - 0x84;
    f64::from(if u & 0x80 != 0 { -value } else { value })
}

// ---------------------------------------------------------------------------------------
// What the caller types
// ---------------------------------------------------------------------------------------

/// RFC 4733 telephone events for `digits`, one key press every 200 ms: three packets 20 ms
/// apart (the first with the marker bit) and the end packet three times (RFC 4733 §2.5.1.4),
/// all with the press's timestamp, at 8 kHz.
fn telephone_events(digits: &str) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut sequence: u16 = 4000;
    for (index, digit) in digits.chars().enumerate() {
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            other => panic!("not a key: {other}"),
        };
        let timestamp = 8_000 + 1_600 * index as u32;
        let mut packet = |marker: bool, end: bool, duration: u16| {
            let mut p = vec![0x80, EVENT_PT | if marker { 0x80 } else { 0 }];
            p.extend_from_slice(&sequence.to_be_bytes());
            p.extend_from_slice(&timestamp.to_be_bytes());
            p.extend_from_slice(&0x7e57_d7f0_u32.to_be_bytes());
            p.extend_from_slice(&[event, if end { 0x80 } else { 0 } | 10]);
            p.extend_from_slice(&duration.to_be_bytes());
            sequence = sequence.wrapping_add(1);
            p
        };
        packets.push(packet(true, false, 160));
        packets.push(packet(false, false, 320));
        packets.push(packet(false, false, 480));
        for _ in 0..3 {
            packets.push(packet(false, true, 640));
        }
    }
    packets
}

/// The key presses of `digits` as SIP INFO requests (application/dtmf-relay), one transaction
/// each from CSeq `first_cseq`, 150 ms apart (no pause after the last: what follows may be the
/// node's BYE).
fn info_presses(digits: &str, first_cseq: u32) -> String {
    digits
        .chars()
        .enumerate()
        .map(|(i, digit)| {
            let gap = if i == 0 { String::new() } else { pause(150) };
            format!(
                r#"{gap}
  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160

    ]]>
  </send>
  <recv response="200"/>
"#,
                cseq = first_cseq + i as u32
            )
        })
        .collect()
}

fn pause(ms: u32) -> String {
    format!("\n  <pause milliseconds=\"{ms}\"/>\n")
}

/// The conference's view of the room system: the H.264 pcap, 10 s, then time to watch it.
fn video() -> String {
    format!(
        "\n  <nop><action><exec play_pcap_video=\"{}\"/></action></nop>\n{}",
        sipp::VIDEO_PCAP,
        pause(11_000)
    )
}

/// Our BYE with CSeq `cseq`, answered 200.
fn our_bye(cseq: u32) -> String {
    format!(
        r#"
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} BYE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"#
    )
}

/// The node's BYE, which must carry a `Reason`, answered 200.
const THEIR_BYE: &str = r#"
  <recv request="BYE" timeout="30000">
    <action>
      <ereg regexp="Reason: SIP;cause=404" search_in="msg" check_it="true" assign_to="reason"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="reason"/>
"#;

/// Writes the reception scenario with `entry` and `hangup` filled in, and `pcap` (if any)
/// next to it; returns its path.
fn scenario(name: &str, entry: &str, hangup: &str, pcap: Option<&[u8]>) -> PathBuf {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/reception.xml");
    let text = std::fs::read_to_string(template).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reception-scenarios");
    std::fs::create_dir_all(&dir).unwrap();
    let mut entry = entry.to_owned();
    if let Some(pcap) = pcap {
        let path = dir.join(format!("{name}-dtmf.pcap"));
        std::fs::write(&path, pcap).unwrap();
        entry = entry.replace("DTMF_PCAP", path.to_str().unwrap());
    }
    let text = text
        .replace("<!-- ENTRY -->", &entry)
        .replace("<!-- HANGUP -->", hangup);
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `scenario` against the node, dialling `user`, with the capture as the audio port.
fn spawn_sipp(
    demo: &Demo,
    scenario: PathBuf,
    user: &'static str,
    capture_port: u16,
) -> tokio::task::JoinHandle<SippRun> {
    let target = demo.sip;
    tokio::task::spawn_blocking(move || {
        let port = capture_port.to_string();
        sipp::run_scenario(
            &scenario,
            target,
            Transport::Udp,
            &["-s", user, "-key", "capture_port", &port],
            Duration::from_secs(60),
        )
    })
}

async fn counter(demo: &Demo, series: &str) -> f64 {
    metric(&demo.metrics().await, series).unwrap_or(0.0)
}

/// The gateway joins the demo meeting and the simulator gets its VP8 layers (from SIPp's
/// H.264); returns the frames on the full layer.
async fn lands_in_the_conference(demo: &Demo, what: &str) -> u64 {
    let joined = eventually(Duration::from_secs(30), || async {
        !demo.gateways(Some("STATE_JOINED")).await.is_empty()
    })
    .await;
    assert!(joined, "{what}: the gateway never joined the conference");
    let pid = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let layers = eventually(Duration::from_secs(20), || async {
        for rid in ["f", "h", "q"] {
            if demo.layer_frames(pid, rid).await < 15 {
                return false;
            }
        }
        true
    })
    .await;
    assert!(layers, "{what}: layers {:#}", demo.media(pid).await);
    demo.layer_frames(pid, "f").await
}

/// The prompt is heard: at least 0.4 s of speech reached the caller's audio port.
async fn hears_the_prompt(capture: &Capture, what: &str) -> usize {
    let heard = eventually(Duration::from_secs(15), || async {
        capture.loud_packets() >= 20
    })
    .await;
    let levels = capture.levels();
    let loudest = levels.iter().copied().fold(0.0, f64::max);
    assert!(
        heard,
        "{what}: {} of {} packets loud (loudest RMS {loudest:.0})",
        capture.loud_packets(),
        levels.len()
    );
    capture.loud_packets()
}

/// Once the call is over everything it held is back: the licence, the ports, the media plane.
async fn freed(demo: &Demo, what: &str) {
    let series = [
        "tcn_calls_active",
        "tcn_media_ports_in_use",
        "tcn_media_graphs_active",
    ];
    // Each gauge summed over its label sets (whatever labels it has or gets; a labelled gauge
    // with no series yet holds nothing). The media ports gauge always exists.
    let total = |text: &str, name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(
        metric(&demo.metrics().await, "tcn_media_ports_total").is_some_and(|n| n > 0.0),
        "the node's metrics are read"
    );
    let all_zero = eventually(Duration::from_secs(10), || async {
        let text = demo.metrics().await;
        series.iter().all(|s| total(&text, s) == 0.0)
    })
    .await;
    let text = demo.metrics().await;
    let held: Vec<String> = series
        .iter()
        .map(|s| format!("{s} = {}", total(&text, s)))
        .collect();
    assert!(all_zero, "{what}: still held after the call: {held:?}");
}

/// The call's SIP: answered 200 without ringing first.
fn answered_at_once(run: &SippRun, what: &str) {
    assert!(run.response(200).is_some(), "{what}: no 200\n{run}");
    assert!(
        run.response(180).is_none(),
        "{what}: the reception rang\n{run}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc4733_meeting_id_lands_in_the_conference() {
    sipp::require_sipp();
    let _serial = SERIAL.lock().await;
    let demo = Demo::start(47_000, RECEPTIONS).await;
    let capture = Capture::start();
    let digits = format!("{}#", demo.long_id);
    let pcap = sipp::pcap_from_rtp(&telephone_events(&digits), 8_000);
    // The node's audio follows SIPp's RTP once it comes (symmetric RTP), so the capture hears
    // the prompt only until the DTMF pcap starts: 3 s.
    let entry = format!(
        "{}\n  <nop><action><exec play_pcap_audio=\"DTMF_PCAP\"/></action></nop>\n{}{}",
        pause(3_000),
        pause(200 * digits.len() as u32 + 1_500),
        video()
    );
    let path = scenario("rfc4733", &entry, &our_bye(2), Some(&pcap));
    let started = Instant::now();
    let sipp = spawn_sipp(&demo, path, "gmeet", capture.port);

    hears_the_prompt(&capture, "RFC 4733").await;
    let frames = lands_in_the_conference(&demo, "RFC 4733").await;
    let loud = capture.loud_packets();
    let joined_after = started.elapsed();
    let run = sipp.await.unwrap();
    run.assert_success("RFC 4733 entry");
    answered_at_once(&run, "RFC 4733");
    freed(&demo, "RFC 4733").await;
    assert_eq!(
        counter(&demo, "tcn_route_lookups_total{result=\"reception\"}").await,
        1.0
    );
    assert_eq!(
        counter(&demo, "tcn_route_lookups_total{result=\"routed\"}").await,
        1.0,
        "the entered ID was routed once"
    );
    assert_eq!(
        counter(
            &demo,
            "tcn_reception_prompts_total{prompt=\"enter_meeting_id\"}"
        )
        .await,
        1.0
    );
    assert_eq!(
        counter(
            &demo,
            "tcn_reception_prompts_total{prompt=\"invalid_meeting_id\"}"
        )
        .await,
        0.0
    );
    println!(
        "RFC 4733: {loud} loud prompt packets heard before the DTMF; joined with layers ({frames} full-layer \
         frames) {:.1} s after dialling",
        joined_after.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_meeting_id_after_a_wrong_one_lands_in_the_conference() {
    sipp::require_sipp();
    let _serial = SERIAL.lock().await;
    let demo = Demo::start(47_300, RECEPTIONS).await;
    let capture = Capture::start();
    let wrong = "999#";
    let right = format!("{}#", demo.long_id);
    let entry = format!(
        "{}{}{}{}{}",
        pause(1_500),
        info_presses(wrong, 2),
        pause(1_500),
        info_presses(&right, 2 + wrong.len() as u32),
        video()
    );
    let bye_cseq = 2 + (wrong.len() + right.len()) as u32;
    let path = scenario("info", &entry, &our_bye(bye_cseq), None);
    let sipp = spawn_sipp(&demo, path, "gmeet", capture.port);

    hears_the_prompt(&capture, "INFO").await;
    let reprompted = eventually(Duration::from_secs(20), || async {
        counter(
            &demo,
            "tcn_reception_prompts_total{prompt=\"invalid_meeting_id\"}",
        )
        .await
            == 1.0
    })
    .await;
    assert!(reprompted, "the wrong ID was not re-prompted");
    // The re-prompt is heard too: speech keeps coming after the wrong ID.
    let before = capture.loud_packets();
    let heard_again = eventually(Duration::from_secs(10), || async {
        capture.loud_packets() >= before + 25
    })
    .await;
    assert!(
        heard_again,
        "no speech after the re-prompt ({before} loud packets before)"
    );
    let frames = lands_in_the_conference(&demo, "INFO").await;
    let run = sipp.await.unwrap();
    run.assert_success("INFO entry");
    answered_at_once(&run, "INFO");
    freed(&demo, "INFO").await;
    // The wrong ID was a failed lookup (break-in defence counts those), the right one routed.
    assert_eq!(
        counter(&demo, "tcn_route_lookups_total{result=\"no_match\"}").await,
        1.0
    );
    assert_eq!(
        counter(&demo, "tcn_route_lookups_total{result=\"routed\"}").await,
        1.0
    );
    println!(
        "INFO: re-prompted after {wrong}, then joined with layers ({frames} full-layer frames); \
         {} loud prompt packets in all",
        capture.loud_packets()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_and_wrong_ids_end_the_call_with_a_reason() {
    sipp::require_sipp();
    let _serial = SERIAL.lock().await;
    // Break-in defence blocks a source after more than one failed lookup: the two wrong IDs
    // block 127.0.0.1.
    let config = format!("{RECEPTIONS}\n[routing.break_in]\nmax_failures = 1\n");
    let demo = Demo::start(47_600, &config).await;
    let capture = Capture::start();
    // Three failures (the default max_attempts): nothing for the entry timeout (3 s: the
    // no-input prompt), then two IDs no rule takes.
    let entry = format!(
        "{}{}{}{}",
        pause(4_500),
        info_presses("1#", 2),
        pause(1_000),
        info_presses("22#", 4)
    );
    let path = scenario("strict", &entry, THEIR_BYE, None);
    let run = spawn_sipp(&demo, path, "strict", capture.port)
        .await
        .unwrap();
    run.assert_success("three failures");
    answered_at_once(&run, "three failures");
    freed(&demo, "three failures").await;
    let bye = run
        .received()
        .into_iter()
        .find(|m| m.starts_with("BYE "))
        .expect("the node's BYE");
    let reason = bye
        .lines()
        .find(|l| l.starts_with("Reason:"))
        .expect("a Reason header");
    assert!(
        reason.contains("Too many failed meeting ID attempts"),
        "{reason}"
    );
    assert!(capture.loud_packets() > 0, "the prompt was heard");
    for (prompt, times) in [
        ("enter_meeting_id", 1.0),
        ("no_input", 1.0),
        ("invalid_meeting_id", 1.0),
    ] {
        assert_eq!(
            counter(
                &demo,
                &format!("tcn_reception_prompts_total{{prompt=\"{prompt}\"}}")
            )
            .await,
            times,
            "{prompt}"
        );
    }
    let counted = eventually(Duration::from_secs(5), || async {
        counter(
            &demo,
            "tcn_gateway_call_endings_total{ending=\"reception_too_many_attempts\"}",
        )
        .await
            == 1.0
    })
    .await;
    assert!(counted, "{}", demo.metrics().await);
    assert_eq!(
        counter(&demo, "tcn_route_lookups_total{result=\"no_match\"}").await,
        2.0,
        "both wrong IDs count toward break-in defence"
    );
    assert_eq!(
        counter(&demo, "tcn_break_in_blocks_total").await,
        1.0,
        "the second wrong ID blocked the source"
    );
    assert!(
        demo.gateways(None).await.is_empty(),
        "nothing joined the conference"
    );
    println!("silence and two wrong IDs: re-prompted twice, then BYE with `{reason}`");
}
