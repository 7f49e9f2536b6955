//! Helpers of the Meet-leg integration tests: meet-sim ([`sim`]), a fake room system
//! ([`source`]), an event log, and one call wired from all of them.

#![allow(dead_code, unreachable_pub, missing_docs)] // each test uses a different subset

pub mod sim;
pub mod source;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use pipelines::{ConnectionState, MediaEvent, MeetLeg, MeetLegSpec, PortRange, UplinkSpec};

use sim::SimHandle;
use source::Source;

/// One heavy media test at a time: two 720p encodes at once would starve a 2-core box.
static HEAVY: Mutex<()> = Mutex::new(());

pub fn heavy() -> MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every event of the leg, with when it arrived.
#[derive(Clone, Default)]
pub struct EventLog(Arc<Mutex<Vec<(Instant, MediaEvent)>>>);

impl EventLog {
    fn collect(receiver: mpsc::Receiver<MediaEvent>) -> Self {
        let log = Self::default();
        let sink = log.clone();
        std::thread::spawn(move || {
            for event in receiver {
                sink.0.lock().unwrap().push((Instant::now(), event));
            }
        });
        log
    }

    /// When the first event matching `f` arrived, if one did.
    pub fn first(&self, f: impl Fn(&MediaEvent) -> bool) -> Option<Instant> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|(_, e)| f(e))
            .map(|(t, _)| *t)
    }

    /// Every event matching `f`, with its time.
    pub fn all(&self, f: impl Fn(&MediaEvent) -> bool) -> Vec<(Instant, MediaEvent)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| f(e))
            .cloned()
            .collect()
    }

    /// Waits until an event matching `f` arrived; panics with the log after `within`.
    pub fn wait(&self, what: &str, within: Duration, f: impl Fn(&MediaEvent) -> bool) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            if let Some(at) = self.first(&f) {
                return at;
            }
            if let Some((_, e)) = self.all(|e| matches!(e, MediaEvent::Error(_))).first() {
                panic!("waiting for {what}: {e:?}");
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {within:?}; events: {:?}",
                self.all(|e| !matches!(e, MediaEvent::KeyframeSent { .. }))
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Polls `f` every 200 ms until it returns `Some`; panics with `what` after `within`.
pub fn poll<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One gateway call: meet-sim, the leg joined to it, a room system feeding the uplink.
pub struct Call {
    // drop order: the source, then the leg, then the sim
    pub source: Source,
    pub leg: MeetLeg,
    pub sim: SimHandle,
    pub events: EventLog,
    pub pid: i64,
    pub joined_at: Instant,
}

impl Call {
    /// Starts everything and waits until the leg is connected; the room system sends
    /// `width`×`height`. ICE binds only 127.0.0.1 ports in `ports`.
    pub fn start(width: u32, height: u32, ports: PortRange) -> Self {
        let sim = SimHandle::start();
        let joined = Joined::start(&sim, ports);
        let source = Source::start(width, height, &joined.leg.input());
        Self {
            source,
            leg: joined.leg,
            sim,
            events: joined.events,
            pid: joined.pid,
            joined_at: joined.joined_at,
        }
    }
}

/// A leg joined to a running sim and connected, with nothing fed to its uplink yet.
pub struct Joined {
    pub leg: MeetLeg,
    pub events: EventLog,
    pub pid: i64,
    pub joined_at: Instant,
}

impl Joined {
    /// Joins `sim` as a gateway; ICE binds only 127.0.0.1 ports in `ports`.
    pub fn start(sim: &SimHandle, ports: PortRange) -> Self {
        let mut spec = MeetLegSpec::new(ports);
        spec.local_addresses = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        let (leg, receiver) = MeetLeg::new(&spec, &UplinkSpec::default()).expect("the leg builds");
        let events = EventLog::collect(receiver);
        let offer = leg.create_offer().expect("an offer");
        check_candidates(&offer, ports);
        let (pid, answer) = sim.join(&offer);
        let joined_at = Instant::now();
        leg.apply_answer(&answer).expect("the answer applies");
        events.wait("connected", Duration::from_secs(30), |e| {
            *e == MediaEvent::ConnectionState(ConnectionState::Connected)
        });
        Self {
            leg,
            events,
            pid,
            joined_at,
        }
    }
}

/// Every host candidate of the offer is on 127.0.0.1 inside `ports`.
fn check_candidates(offer: &str, ports: PortRange) {
    let candidates: Vec<&str> = offer
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect();
    assert!(
        !candidates.is_empty(),
        "no candidate in the offer:\n{offer}"
    );
    for c in candidates {
        let fields: Vec<&str> = c.split_whitespace().collect();
        let port: u16 = fields[5].parse().unwrap();
        assert_eq!(fields[4], "127.0.0.1", "{c}");
        assert!(
            (ports.min..=ports.max).contains(&port),
            "{c} outside {ports:?}"
        );
    }
}

/// BT.601 limited-range I420 → RGB8.
pub fn i420_to_rgb(data: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (y_plane, rest) = data.split_at(width * height);
    let (u_plane, v_plane) = rest.split_at((width / 2) * (height / 2));
    let mut rgb = Vec::with_capacity(width * height * 3);
    for row in 0..height {
        for col in 0..width {
            let y = f32::from(y_plane[row * width + col]) - 16.0;
            let c = (row / 2) * (width / 2) + col / 2;
            let u = f32::from(u_plane[c]) - 128.0;
            let v = f32::from(v_plane[c]) - 128.0;
            let px = |x: f32| x.clamp(0.0, 255.0) as u8;
            rgb.push(px(1.164 * y + 1.596 * v));
            rgb.push(px(1.164 * y - 0.392 * u - 0.813 * v));
            rgb.push(px(1.164 * y + 2.017 * u));
        }
    }
    rgb
}

/// Writes RGB8 as a PNG.
pub fn write_png(path: &std::path::Path, rgb: &[u8], width: u32, height: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(rgb)
        .unwrap();
}
