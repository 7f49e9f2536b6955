//! `tcn demo`: one whole gateway call on this machine. A node with its embedded meet-sim runs
//! as a child process (so that its CPU time can be read from `/proc`); in this process,
//! synthetic Meet participants join the demo meeting, each with a colour of its own, and a
//! synthetic room system calls the meeting's long ID with bars and a 1 kHz tone. After the
//! media has run for a while, [`run`] returns a [`DemoSummary`] (setup time, frames and
//! bitrates each way, the tones heard, RTP loss, the node's CPU) and leaves two pictures: what
//! the room system decoded (`vtc-view.png`, the 1+7 composite) and what a participant decoded
//! of the gateway's 720p layer (`meet-view.png`).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kernels::frame::{I420Frame, Yuv};
use kernels::layout::Layout;
use pipelines::peers::{PROBE_RATE, Pattern, dominant_frequency};
use pipelines::{LayerSpec, LayerTable, PortRange};
use serde_json::{Value, json};

use super::http::{get_json, post_json};
use super::participant::{JoinSpec, Participant};
use super::vtc::{RtpCount, Vtc};

/// The participants' colours (`0xRRGGBB`), far apart in chroma so that each tile is told
/// apart after two encodes.
pub const COLOURS: [(&str, u32); 7] = [
    ("Red", 0xdd_2222),
    ("Green", 0x22_bb22),
    ("Blue", 0x22_22dd),
    ("Yellow", 0xdd_dd22),
    ("Magenta", 0xdd_22dd),
    ("Cyan", 0x22_dddd),
    ("Orange", 0xee_8811),
];

/// The participants' tone.
pub const PARTICIPANT_TONE_HZ: f64 = 440.0;
/// The room system's tone.
pub const VTC_TONE_HZ: f64 = 1000.0;

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The `tcn` binary to start the node with.
    pub node_binary: PathBuf,
    /// How long to measure the media for, once the picture has settled.
    pub seconds: u64,
    /// Where the pictures (and the node's configuration and log) go.
    pub out: PathBuf,
    /// How many Meet participants (1 to 7).
    pub participants: usize,
    /// The node's media port range (the gateway's RTP and its Meet leg's ICE).
    pub media_ports: PortRange,
    /// The participants' ICE ports: 10 each from here, outside `media_ports`.
    pub ice_base: u16,
    /// Print progress on stderr.
    pub verbose: bool,
}

impl DemoOptions {
    /// `seconds` of media with `participants` participants, the pictures in `out`.
    pub fn new(node_binary: PathBuf, seconds: u64, out: PathBuf, participants: usize) -> Self {
        Self {
            node_binary,
            seconds,
            out,
            participants,
            media_ports: PortRange {
                min: 41_000,
                max: 41_099,
            },
            ice_base: 41_200,
            verbose: true,
        }
    }
}

/// The demo participants' ladder: 160×90, 320×180 and 640×360 (meet-sim wants three layers;
/// small ones keep seven senders light). The gateway's own ladder is not changed.
pub fn participant_ladder() -> LayerTable {
    LayerTable {
        layers: vec![
            LayerSpec::new("q", 160, 90, 60_000, 0x7C2_0001),
            LayerSpec::new("h", 320, 180, 150_000, 0x7C2_0002),
            LayerSpec::new("f", 640, 360, 400_000, 0x7C2_0003),
        ],
    }
}

/// One participant, as the summary shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParticipantReport {
    /// Its name (its colour's).
    pub name: String,
    /// Its colour, `0xRRGGBB`.
    pub colour: u32,
    /// Its participant id in the sim.
    pub participant_id: i64,
    /// The tile of the room system's composite the gateway's video assignment gives it.
    pub tile: Option<usize>,
    /// The colour found at that tile's centre in `vtc-view.png`.
    pub seen: Option<Yuv>,
    /// Whether that is its colour.
    pub in_place: bool,
    /// Video packets it received from the conference in the window.
    pub video_packets: u64,
}

/// One simulcast layer the gateway sent, from the sim's media report.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// The RID.
    pub rid: String,
    /// Its size.
    pub width: u64,
    /// See `width`.
    pub height: u64,
    /// Frames in the window.
    pub frames: u64,
    /// Keyframes in the window.
    pub keyframes: u64,
    /// Frames per second in the window.
    pub fps: f64,
    /// Bit/s in the window.
    pub bitrate_bps: f64,
}

/// What one demo call did.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoSummary {
    /// The demo meeting's long ID (what the room system dialled).
    pub long_id: String,
    /// From the INVITE to the 200.
    pub setup_time: Duration,
    /// From the last participant's join to a composite with every participant in place and
    /// the bars at Meet.
    pub settle_time: Option<Duration>,
    /// The measured window.
    pub window: Duration,
    /// The participants.
    pub participants: Vec<ParticipantReport>,
    /// The composite's size as the room system decodes it.
    pub vtc_size: (u32, u32),
    /// Composite frames the room system decoded in the window.
    pub vtc_frames: u64,
    /// The node's H.264 RTP in the window.
    pub vtc_video_rtp: RtpCount,
    /// The node's G.711 RTP in the window.
    pub vtc_audio_rtp: RtpCount,
    /// What the room system hears: the dominant frequency (Hz) and its share.
    pub vtc_hears: (f64, f64),
    /// The layers the gateway sent to Meet, smallest first.
    pub meet_layers: Vec<LayerReport>,
    /// The picture the viewing participant decoded of the gateway (its size).
    pub meet_size: (u32, u32),
    /// Frames of the gateway that the viewing participant decoded in the window.
    pub meet_frames: u64,
    /// Distinct bar colours along a row of `meet-view.png`.
    pub meet_bars: usize,
    /// What the viewing participant hears of the gateway: frequency and share.
    pub meet_hears: (f64, f64),
    /// The node process's CPU time in the window (it includes the embedded meet-sim).
    pub node_cpu: Duration,
    /// `vtc-view.png`, if written.
    pub vtc_view: Option<PathBuf>,
    /// `meet-view.png`, if written.
    pub meet_view: Option<PathBuf>,
}

impl DemoSummary {
    /// The node's CPU per second of call, in cores.
    pub fn node_cores(&self) -> f64 {
        self.node_cpu.as_secs_f64() / self.window.as_secs_f64().max(0.001)
    }

    /// Every participant in its tile.
    pub fn tiles_ok(&self) -> bool {
        !self.participants.is_empty() && self.participants.iter().all(|p| p.in_place)
    }

    /// Meet sees the bars at 1280×720.
    pub fn bars_ok(&self) -> bool {
        self.meet_size == (1280, 720) && self.meet_bars >= 5
    }

    /// The room system hears the participants' tone, and Meet the room system's.
    pub fn audio_ok(&self) -> bool {
        let heard =
            |(freq, share): (f64, f64), want: f64| (freq - want).abs() <= 10.0 && share > 0.5;
        heard(self.vtc_hears, PARTICIPANT_TONE_HZ) && heard(self.meet_hears, VTC_TONE_HZ)
    }

    /// The call worked both ways and both pictures were written.
    pub fn ok(&self) -> bool {
        self.vtc_frames > 0
            && self.meet_frames > 0
            && self.vtc_view.is_some()
            && self.meet_view.is_some()
            && self.tiles_ok()
            && self.bars_ok()
            && self.audio_ok()
    }

    /// The summary as a plain-text table.
    pub fn render(&self) -> String {
        let secs = self.window.as_secs_f64().max(0.001);
        let rate = |count: u64| count as f64 / secs;
        let kbps = |bytes: u64| bytes as f64 * 8.0 / secs / 1000.0;
        let loss = |rtp: &RtpCount| {
            format!(
                "{} lost of {} ({:.2} %)",
                rtp.lost(),
                rtp.expected,
                100.0 * rtp.lost() as f64 / rtp.expected.max(1) as f64
            )
        };
        let yes = |ok: bool| if ok { "ok" } else { "WRONG" };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "tcn demo: one gateway call, {} participants, {:.1} s measured",
            self.participants.len(),
            secs
        );
        let _ = writeln!(
            s,
            "  call          sip:{} (the demo meeting's long ID)",
            self.long_id
        );
        let _ = writeln!(
            s,
            "  setup         {} ms INVITE -> 200 OK; picture in place {}",
            self.setup_time.as_millis(),
            self.settle_time.map_or_else(
                || "never".to_owned(),
                |t| format!("{:.1} s after the last participant joined", t.as_secs_f64())
            )
        );
        let _ = writeln!(s, "  Meet -> room system (1+7 composite, H.264 + G.711)");
        let _ = writeln!(
            s,
            "    video       {}x{}  {} frames decoded  {:.1} fps  {:.0} kb/s  loss {}",
            self.vtc_size.0,
            self.vtc_size.1,
            self.vtc_frames,
            rate(self.vtc_frames),
            kbps(self.vtc_video_rtp.bytes),
            loss(&self.vtc_video_rtp)
        );
        let _ = writeln!(
            s,
            "    audio       hears {:.0} Hz (share {:.2}, want {PARTICIPANT_TONE_HZ:.0})  {:.0} kb/s  loss {}  {}",
            self.vtc_hears.0,
            self.vtc_hears.1,
            kbps(self.vtc_audio_rtp.bytes),
            loss(&self.vtc_audio_rtp),
            yes((self.vtc_hears.0 - PARTICIPANT_TONE_HZ).abs() <= 10.0)
        );
        let _ = writeln!(
            s,
            "    tiles       participant   pid  tile  colour at the tile centre"
        );
        for p in &self.participants {
            let _ = writeln!(
                s,
                "                {:<12}{:>5}  {:>4}  {}  {}",
                p.name,
                p.participant_id,
                p.tile.map_or_else(|| "-".to_owned(), |t| t.to_string()),
                p.seen.map_or_else(
                    || "-".to_owned(),
                    |c| {
                        let [r, g, b] = c.to_rgb();
                        format!("#{r:02x}{g:02x}{b:02x} (want #{:06x})", p.colour)
                    }
                ),
                yes(p.in_place)
            );
        }
        let _ = writeln!(
            s,
            "  room system -> Meet (3 VP8 layers + Opus, the sim's report)"
        );
        for l in &self.meet_layers {
            let _ = writeln!(
                s,
                "    layer {:<6}{}x{}  {} frames ({} key)  {:.1} fps  {:.0} kb/s",
                l.rid,
                l.width,
                l.height,
                l.frames,
                l.keyframes,
                l.fps,
                l.bitrate_bps / 1000.0
            );
        }
        let _ = writeln!(
            s,
            "    a participant decodes {}x{}  {} frames  {:.1} fps  {} bar colours  {}",
            self.meet_size.0,
            self.meet_size.1,
            self.meet_frames,
            rate(self.meet_frames),
            self.meet_bars,
            yes(self.bars_ok())
        );
        let _ = writeln!(
            s,
            "    audio       hears {:.0} Hz (share {:.2}, want {VTC_TONE_HZ:.0})  {}",
            self.meet_hears.0,
            self.meet_hears.1,
            yes((self.meet_hears.0 - VTC_TONE_HZ).abs() <= 10.0)
        );
        let _ = writeln!(
            s,
            "  node CPU      {:.0} ms per second of call = {:.2} cores per call (the tcn process, \
             embedded meet-sim included)",
            self.node_cores() * 1000.0,
            self.node_cores()
        );
        let show = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or_else(|| "NOT WRITTEN".to_owned(), |p| p.display().to_string())
        };
        let _ = writeln!(
            s,
            "  pictures      {}  (the composite the room system decoded)",
            show(&self.vtc_view)
        );
        let _ = writeln!(
            s,
            "                {}  (the 720p layer Meet received)",
            show(&self.meet_view)
        );
        let _ = writeln!(
            s,
            "  result        {}",
            if self.ok() { "ok" } else { "FAILED" }
        );
        s
    }
}

/// The node, as a child process; killed when dropped.
struct NodeProcess {
    child: Child,
    admin: SocketAddr,
    sip: SocketAddr,
}

impl NodeProcess {
    /// Starts `binary run --config config`, its log in `log`, and reads where it listens from
    /// its banner.
    fn start(binary: &Path, config: &Path, log: &Path) -> Result<Self, String> {
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(binary)
            .arg("run")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut node = Self {
            child,
            admin: SocketAddr::from(([0, 0, 0, 0], 0)),
            sip: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut admin, mut sip) = (None, None);
        while admin.is_none() || sip.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .map_err(|_| "the node did not print its banner (see node.log)".to_owned())?;
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["admin", "API", url, ..] => {
                    admin = url
                        .trim_start_matches("http://")
                        .trim_end_matches("/status")
                        .parse()
                        .ok();
                }
                ["SIP", "udp", addr, ..] => sip = addr.parse().ok(),
                _ => {}
            }
        }
        (node.admin, node.sip) = (admin.unwrap_or(node.admin), sip.unwrap_or(node.sip));
        Ok(node)
    }

    /// User plus system CPU time so far, from `/proc/<pid>/stat` (in clock ticks of 10 ms).
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .map(|f| f.parse().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        // After the command name: state (3), ..., utime (14), stime (15).
        let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }

    /// SIGTERM (the node drains and exits), then SIGKILL if it has not exited in 10 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The demo meeting, as the node's `/status` shows it.
struct Meeting {
    sim: SocketAddr,
    space: String,
    long_id: String,
    code: String,
}

impl Meeting {
    fn of(admin: SocketAddr) -> Result<Self, String> {
        let (_, status) = get_json(admin, "/status")?;
        let backend = &status["meet"]["backend"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let sim = text(&backend["url"])
            .and_then(|u| u.trim_start_matches("http://").parse().ok())
            .ok_or_else(|| format!("no embedded meet-sim in /status: {backend}"))?;
        Ok(Self {
            sim,
            space: text(&backend["demo"]["space"])
                .ok_or("no demo meeting in /status")?
                .trim_start_matches("spaces/")
                .to_owned(),
            long_id: text(&backend["demo"]["long_id"]).ok_or("no long ID")?,
            code: text(&backend["demo"]["meeting_code"]).ok_or("no meeting code")?,
        })
    }

    /// The gateway's participant id, once it has joined.
    fn gateway(&self) -> Option<i64> {
        let (_, list) = get_json(
            self.sim,
            &format!("/sim/spaces/{}/participants", self.space),
        )
        .ok()?;
        list["participants"]
            .as_array()?
            .iter()
            .find(|p| p["kind"] == "gateway" && p["state"] == "STATE_JOINED")
            .and_then(|p| p["participantId"].as_i64())
    }

    fn speak(&self, pid: i64) -> Result<(), String> {
        let (status, body) = post_json(
            self.sim,
            &format!("/sim/spaces/{}:setActiveSpeaker", self.space),
            &json!({"participantId": pid}),
        )?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("setActiveSpeaker: {status} {body}"))
        }
    }

    /// The tiles of `gateway`'s composite, from its latest video assignment:
    /// `(tile, source participant)`.
    fn tiles(&self, gateway: i64) -> Vec<(usize, i64)> {
        let Ok((_, events)) = get_json(self.sim, "/sim/events") else {
            return Vec::new();
        };
        events["events"]
            .as_array()
            .and_then(|events| {
                events.iter().rev().find(|e| {
                    e["type"] == "video_assigned" && e["participantId"].as_i64() == Some(gateway)
                })
            })
            .and_then(|e| e["canvases"].as_array())
            .map(|canvases| {
                canvases
                    .iter()
                    .filter_map(|c| {
                        let canvas = usize::try_from(c[0].as_i64()?).ok()?;
                        let source = c[1].as_i64().filter(|&s| s != 0)?;
                        Some((canvas.checked_sub(1)?, source))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sim's media report of `pid`.
    fn media(&self, pid: i64) -> Value {
        get_json(
            self.sim,
            &format!("/sim/spaces/{}/participants/{pid}/media", self.space),
        )
        .map(|(_, v)| v["media"].clone())
        .unwrap_or(Value::Null)
    }
}

/// Whether two colours are within `tolerance` on each of Y, U and V.
pub fn close(a: Yuv, b: Yuv, tolerance: i16) -> bool {
    let d = |x: u8, y: u8| (i16::from(x) - i16::from(y)).abs() <= tolerance;
    d(a.y, b.y) && d(a.u, b.u) && d(a.v, b.v)
}

/// The colour `0xRRGGBB` as YUV.
pub fn yuv(colour: u32) -> Yuv {
    let [_, r, g, b] = colour.to_be_bytes();
    Yuv::from_rgb([r, g, b])
}

/// The colour at the centre of tile `tile` of a 1+7 composite.
pub fn tile_centre(frame: &I420Frame, tile: usize) -> Option<Yuv> {
    let layout = Layout::one_plus_seven(frame.width(), frame.height()).ok()?;
    let (x, y) = layout.tile(tile)?.center();
    Some(frame.pixel(x, y))
}

/// Distinct colours (by chroma, ±24) along the row at a third of the height: 7 for the bars.
pub fn distinct_colours(frame: &I420Frame) -> usize {
    let mut seen: Vec<Yuv> = Vec::new();
    let y = frame.height() / 3;
    for x in (0..frame.width()).step_by(16) {
        let p = frame.pixel(x, y);
        if !seen.iter().any(|s| close(*s, p, 24)) {
            seen.push(p);
        }
    }
    seen.len()
}

/// For each `(pid, colour)`, the tile `tiles` gives it, the colour at that tile's centre in
/// `frame`, and whether it is the participant's colour (±16).
pub fn check_tiles(
    frame: &I420Frame,
    tiles: &[(usize, i64)],
    colours: &[(i64, u32)],
) -> Vec<(Option<usize>, Option<Yuv>, bool)> {
    colours
        .iter()
        .map(|&(pid, colour)| {
            let tile = tiles.iter().find(|(_, s)| *s == pid).map(|(t, _)| *t);
            let seen = tile.and_then(|t| tile_centre(frame, t));
            (tile, seen, seen.is_some_and(|c| close(c, yuv(colour), 16)))
        })
        .collect()
}

fn config_toml(media: PortRange) -> String {
    format!(
        "# Written by `tcn demo`: loopback only, ephemeral admin and SIP ports, the embedded\n\
         # meet-sim (no [meet] backend).\n\
         [node]\nname = \"tcn-demo\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n\
         [log]\nlevel = \"warn\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [{}, {}]\n",
        media.min, media.max
    )
}

/// Runs the demo call and returns what it did; `Err` when it could not be placed at all.
pub fn run(options: &DemoOptions) -> Result<DemoSummary, String> {
    let say = |text: &str| {
        if options.verbose {
            eprintln!("demo: {text}");
        }
    };
    let count = options.participants.clamp(1, COLOURS.len());
    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let config = options.out.join("node.toml");
    std::fs::write(&config, config_toml(options.media_ports))
        .map_err(|e| format!("{}: {e}", config.display()))?;
    for old in ["vtc-view.png", "meet-view.png"] {
        let _ = std::fs::remove_file(options.out.join(old));
    }
    say("starting the node (with meet-sim inside it)");
    let mut node =
        NodeProcess::start(&options.node_binary, &config, &options.out.join("node.log"))?;
    let meeting = Meeting::of(node.admin)?;
    say(&format!(
        "the node is up: SIP {}, meeting {} (long ID {})",
        node.sip, meeting.code, meeting.long_id
    ));

    // The room system calls first: meet-sim forwards each participant the audio of the
    // three others that joined first (the demo's peers send no audio levels), so the gateway
    // joins before them to be heard.
    say("the room system calls the meeting's long ID");
    let vtc = Vtc::call(
        node.sip,
        &meeting.long_id,
        Pattern::Bars,
        VTC_TONE_HZ,
        Duration::from_secs(60),
    )?;
    let mut gateway = None;
    wait(Duration::from_secs(30), || {
        gateway = meeting.gateway();
        gateway.is_some()
    });
    let gateway = gateway.ok_or("the gateway did not join the meeting")?;
    say(&format!(
        "answered in {} ms; the gateway is participant {gateway}; {count} participants join",
        vtc.setup_time.as_millis()
    ));

    // The participants: the first decodes what it gets (meet-view.png); the others only send.
    let mut participants = Vec::new();
    for (i, &(name, colour)) in COLOURS.iter().take(count).enumerate() {
        let base = options.ice_base + 10 * i as u16;
        let spec = JoinSpec {
            name: name.to_owned(),
            pattern: Pattern::Solid(colour),
            size: (640, 360),
            tone_hz: PARTICIPANT_TONE_HZ,
            ice: PortRange {
                min: base,
                max: base + 9,
            },
            canvases: 1,
            layers: participant_ladder(),
            decode: i == 0,
        };
        participants.push(Participant::join_with(meeting.sim, &meeting.code, &spec)?);
    }
    let joined = wait(Duration::from_secs(60), || {
        participants.iter().all(Participant::is_joined)
    });
    if !joined {
        return Err("the participants did not all join within 60 s".to_owned());
    }
    let all_joined = Instant::now();

    // The last participant speaks, then the gateway: the room system's main tile shows the
    // participant (the gateway never sees itself), and the participants see the gateway.
    let speaker = participants.last().map_or(0, |p| p.participant_id);
    meeting.speak(speaker)?;
    meeting.speak(gateway)?;
    let colours: Vec<(i64, u32)> = participants
        .iter()
        .zip(COLOURS)
        .map(|(p, (_, colour))| (p.participant_id, colour))
        .collect();
    let viewer = &participants[0];
    let settled = |tiles: &[(usize, i64)]| {
        let composite = vtc.video().latest().is_some_and(|f| {
            check_tiles(&f, tiles, &colours)
                .iter()
                .all(|(_, _, ok)| *ok)
        });
        let bars = viewer
            .video()
            .latest()
            .is_some_and(|f| f.width() == 1280 && distinct_colours(&f) >= 5);
        composite && bars
    };
    let settle = wait(Duration::from_secs(60), || settled(&meeting.tiles(gateway)));
    let settle_time = settle.then(|| all_joined.elapsed());
    say(&if settle {
        format!(
            "the picture settled {:.1} s after the last join; measuring {} s",
            all_joined.elapsed().as_secs_f64(),
            options.seconds
        )
    } else {
        format!(
            "the picture did not settle in 60 s; measuring {} s anyway",
            options.seconds
        )
    });

    // The measured window.
    let layer_frames = |media: &Value| -> Vec<(String, [u64; 3])> {
        media["layers"]
            .as_array()
            .map(|layers| {
                layers
                    .iter()
                    .map(|l| {
                        let n = |key: &str| l[key].as_u64().unwrap_or(0);
                        (
                            l["rid"].as_str().unwrap_or("?").to_owned(),
                            [n("frames"), n("keyframes"), n("bytes")],
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let start = Instant::now();
    let cpu_before = node.cpu();
    let (vtc_frames_before, video_before, audio_before) =
        (vtc.video().frames(), vtc.video_rtp(), vtc.audio_rtp());
    let meet_frames_before = viewer.video().frames();
    let layers_before = layer_frames(&meeting.media(gateway));
    let packets_before: Vec<u64> = participants
        .iter()
        .map(Participant::video_packets)
        .collect();
    std::thread::sleep(Duration::from_secs(options.seconds));
    let cpu = node.cpu().saturating_sub(cpu_before);
    let window = start.elapsed();
    let secs = window.as_secs_f64();
    let media = meeting.media(gateway);
    let layers_after = layer_frames(&media);
    let vtc_frames = vtc.video().frames() - vtc_frames_before;
    let meet_frames = viewer.video().frames() - meet_frames_before;
    let (vtc_video_rtp, vtc_audio_rtp) = (
        vtc.video_rtp().since(&video_before),
        vtc.audio_rtp().since(&audio_before),
    );
    let mut meet_layers: Vec<LayerReport> = media["layers"]
        .as_array()
        .map(|layers| {
            layers
                .iter()
                .map(|l| {
                    let rid = l["rid"].as_str().unwrap_or("?").to_owned();
                    let count = |list: &[(String, [u64; 3])]| {
                        list.iter()
                            .find(|(r, _)| *r == rid)
                            .map_or([0; 3], |(_, c)| *c)
                    };
                    let (after, before) = (count(&layers_after), count(&layers_before));
                    let [frames, keyframes, bytes] =
                        [0, 1, 2].map(|i| after[i].saturating_sub(before[i]));
                    LayerReport {
                        width: l["width"].as_u64().unwrap_or(0),
                        height: l["height"].as_u64().unwrap_or(0),
                        frames,
                        keyframes,
                        fps: frames as f64 / secs,
                        bitrate_bps: bytes as f64 * 8.0 / secs,
                        rid,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    meet_layers.sort_by_key(|l| l.height);

    // The pictures: the latest frame each way, checked; a few tries if a frame in between
    // was caught.
    let tiles = meeting.tiles(gateway);
    wait(Duration::from_secs(5), || settled(&tiles));
    let composite = vtc.video().latest();
    let seen = viewer.video().latest();
    let write = |frame: &Option<I420Frame>, name: &str| {
        let path = options.out.join(name);
        frame
            .as_ref()
            .and_then(|f| f.write_png(&path).ok())
            .map(|()| path)
    };
    let vtc_view = write(&composite, "vtc-view.png");
    let meet_view = write(&seen, "meet-view.png");
    let checks = composite
        .as_ref()
        .map(|f| check_tiles(f, &tiles, &colours))
        .unwrap_or_else(|| vec![(None, None, false); colours.len()]);
    let vtc_hears = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
    let meet_hears = viewer
        .audio_samples()
        .iter()
        .map(|s| dominant_frequency(s, PROBE_RATE))
        .max_by(|a, b| {
            let score =
                |(f, s): &(f64, f64)| f64::from(u8::from((f - VTC_TONE_HZ).abs() <= 10.0)) + s;
            score(a).total_cmp(&score(b))
        })
        .unwrap_or((0.0, 0.0));
    let summary = DemoSummary {
        long_id: meeting.long_id,
        setup_time: vtc.setup_time,
        settle_time,
        window,
        participants: participants
            .iter()
            .zip(COLOURS)
            .zip(checks)
            .zip(packets_before)
            .map(
                |(((p, (name, colour)), (tile, seen, in_place)), before)| ParticipantReport {
                    name: name.to_owned(),
                    colour,
                    participant_id: p.participant_id,
                    tile,
                    seen,
                    in_place,
                    video_packets: p.video_packets() - before,
                },
            )
            .collect(),
        vtc_size: composite
            .as_ref()
            .map_or((0, 0), |f| (f.width(), f.height())),
        vtc_frames,
        vtc_video_rtp,
        vtc_audio_rtp,
        vtc_hears,
        meet_layers,
        meet_size: seen.as_ref().map_or((0, 0), |f| (f.width(), f.height())),
        meet_frames,
        meet_bars: seen.as_ref().map_or(0, distinct_colours),
        meet_hears,
        node_cpu: cpu,
        vtc_view,
        meet_view,
    };

    say("hanging up");
    let mut vtc = vtc;
    let _ = vtc.hang_up();
    drop(vtc);
    drop(participants);
    node.stop();
    Ok(summary)
}

/// Polls `check` every 100 ms until it is true (→ true) or `limit` passes (→ false).
fn wait(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
