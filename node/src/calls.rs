//! Call admission: the licence every call holds while it runs.
//!
//! The call controller asks [`Calls::admit`] before it answers a call; the answer is a
//! [`CallLicence`] or an [`AdmissionError`]: draining, at `max_calls`, out of call licences
//! (`capacity.licenses`: a gateway call holds 2, one per leg, see [`CallKind`]), or beyond what
//! the CPU carries (`capacity.cpu_cores_per_call`). Dropping the licence ends the call's
//! claim, so a call task that dies for any reason frees its slot, its call licences and its
//! CPU share. The registry feeds `tcn_calls_active`, `tcn_licenses_in_use`,
//! `tcn_calls_total{outcome}`, `/status` (and OPTIONS: a node that would refuse a gateway call
//! answers 503) and the drain on shutdown.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use serde::Serialize;
use tokio::sync::watch;

use crate::live_view::{CallState, CallerView, MeetLegView};

/// How a call ended, the `outcome` label of `tcn_calls_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call was connected and ended normally.
    Completed,
    /// The call was refused before it started (draining, full, unroutable, unauthorised).
    Rejected,
    /// The caller gave up before the call was answered (CANCEL).
    Cancelled,
    /// The call started and ended abnormally, or its licence was dropped without an outcome.
    Failed,
    /// The call was refused because the pool of call licences could not cover it.
    NoLicense,
}

impl CallOutcome {
    /// Every outcome, for pre-creating metric series.
    pub const ALL: [Self; 5] = [
        Self::Completed,
        Self::Rejected,
        Self::Cancelled,
        Self::Failed,
        Self::NoLicense,
    ];

    /// The metric label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::NoLicense => "no_license",
        }
    }
}

/// Why a call was not admitted. Every refusal but draining says when to try again
/// (`capacity.retry_after`, for the `Retry-After` of the 503).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// The node is shutting down and takes no new calls.
    #[error("the node is draining")]
    Draining,
    /// Every call slot is taken.
    #[error("the node is at capacity ({max_calls} calls)")]
    AtCapacity {
        /// The limit in force.
        max_calls: u32,
        /// Seconds to wait before trying again.
        retry_after: u32,
    },
    /// The pool of call licences cannot cover the call.
    #[error("no call licence: the call needs {needed}, {free} of {total} are free")]
    NoLicense {
        /// Licences the call needs.
        needed: u32,
        /// Licences free now.
        free: u32,
        /// `capacity.licenses`.
        total: u32,
        /// Seconds to wait before trying again.
        retry_after: u32,
    },
    /// The CPU carries no more gateway calls (`capacity.cpu_cores_per_call`).
    #[error("the CPU carries no more gateway calls ({calls} running)")]
    CpuFull {
        /// Gateway calls running, as many as the cores carry.
        calls: u32,
        /// Seconds to wait before trying again.
        retry_after: u32,
    },
}

impl AdmissionError {
    /// Seconds to wait before trying again; `None` while draining (this node takes no call
    /// again).
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Draining => None,
            Self::AtCapacity { retry_after, .. }
            | Self::NoLicense { retry_after, .. }
            | Self::CpuFull { retry_after, .. } => Some(*retry_after),
        }
    }
}

/// What kind of call asks to be admitted: it sets the call licences it holds (one per leg)
/// and whether it counts against the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A call to the built-in test service: one leg, media counted, no transcoding.
    Test,
    /// A SIP-to-SIP call: two legs, media relayed.
    Sip,
    /// A gateway call into Meet: two legs (the room system's, Meet's) and the transcoding
    /// media plane.
    Gateway,
}

impl CallKind {
    /// Call licences the call holds while it runs: one per leg.
    pub fn licenses(self) -> u32 {
        match self {
            Self::Test => 1,
            Self::Sip | Self::Gateway => 2,
        }
    }

    /// Whether the call counts against the CPU (`capacity.cpu_cores_per_call`).
    pub fn uses_cpu(self) -> bool {
        self == Self::Gateway
    }
}

/// What admission enforces: the call limit, the licence pool, the CPU and the `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most concurrent calls of any kind.
    pub max_calls: u32,
    /// The pool of call licences (`capacity.licenses`); 0 = no limit.
    pub licenses: u32,
    /// Most concurrent gateway calls the CPU carries; `None` = not checked.
    pub cpu_calls: Option<u32>,
    /// `capacity.retry_after` in seconds.
    pub retry_after: u32,
}

impl Limits {
    /// `max_calls` calls, no licence limit, no CPU check, 30 s to retry.
    pub fn calls(max_calls: u32) -> Self {
        Self {
            max_calls,
            licenses: 0,
            cpu_calls: None,
            retry_after: 30,
        }
    }
}

/// The registry of active calls. Cheap to clone: clones share it.
#[derive(Clone, Debug)]
pub struct Calls {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Number of active calls, for waiting on the drain.
    active: watch::Sender<usize>,
    /// Set to true when the node ends every call (drain timeout).
    end_all: watch::Sender<bool>,
    outcomes: IntCounterVec,
}

#[derive(Debug)]
struct State {
    calls: BTreeMap<u64, Entry>,
    next_id: u64,
    limits: Limits,
    draining: bool,
}

/// One admitted call.
#[derive(Debug)]
struct Entry {
    since: Instant,
    kind: CallKind,
    detail: Option<Arc<CallDetail>>,
}

impl State {
    fn licenses_in_use(&self) -> u32 {
        self.calls.values().map(|e| e.kind.licenses()).sum()
    }

    fn cpu_calls_in_use(&self) -> u32 {
        let n = self.calls.values().filter(|e| e.kind.uses_cpu()).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Why a call of `kind` would be refused now, if it would.
    fn refusal(&self, kind: CallKind) -> Option<AdmissionError> {
        let limits = self.limits;
        let retry_after = limits.retry_after;
        if self.draining {
            return Some(AdmissionError::Draining);
        }
        if self.calls.len() >= limits.max_calls as usize {
            return Some(AdmissionError::AtCapacity {
                max_calls: limits.max_calls,
                retry_after,
            });
        }
        let in_use = self.licenses_in_use();
        let free = limits.licenses.saturating_sub(in_use);
        if limits.licenses > 0 && free < kind.licenses() {
            return Some(AdmissionError::NoLicense {
                needed: kind.licenses(),
                free,
                total: limits.licenses,
                retry_after,
            });
        }
        if let Some(cpu_calls) = limits.cpu_calls
            && kind.uses_cpu()
            && self.cpu_calls_in_use() >= cpu_calls
        {
            return Some(AdmissionError::CpuFull {
                calls: self.cpu_calls_in_use(),
                retry_after,
            });
        }
        None
    }
}

/// How much of the node is in use, for `/status` and the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Calls in progress.
    pub calls: usize,
    /// Call licences held.
    pub licenses_in_use: u32,
    /// Gateway calls counted against the CPU.
    pub cpu_calls_in_use: u32,
    /// The limits in force.
    pub limits: Limits,
    /// Why a gateway call would be refused now (the node is full), if it would.
    pub full: Option<AdmissionError>,
}

/// One active call's claim on the node. Dropping it releases the slot.
#[derive(Debug)]
pub struct CallLicence {
    id: u64,
    inner: Arc<Inner>,
    outcome: CallOutcome,
    end_all: watch::Receiver<bool>,
}

/// One active call as `/status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CallSummary {
    /// Node-local call number.
    pub id: u64,
    /// Seconds since admission.
    pub duration_seconds: f64,
    /// Call licences the call holds: one per leg (2 for a gateway call).
    pub licenses: u32,
    /// What the call controller recorded about the call, if anything.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Arc<CallDetail>>,
}

/// What a call controller shows about a call in `/status`: the service, the caller, where the
/// call stands, its leg into Meet (gateway calls), the media streams (with live figures) and
/// the DTMF digits received so far.
#[derive(Debug, Default, Serialize)]
pub struct CallDetail {
    /// The service answering the call, e.g. `test`.
    pub service: String,
    /// The device that placed the call: alias, display name, protocol.
    pub caller: CallerView,
    /// Where the call stands: `connecting`, `lobby`, `joined` (gateway calls), `connected`.
    #[serde(serialize_with = "serialize_locked_value")]
    pub state: Mutex<CallState>,
    /// Gateway calls: the leg into Meet as a participant (the meeting ID as its alias, the
    /// conference, the other participants); `null` otherwise.
    #[serde(serialize_with = "serialize_locked_value")]
    pub meet_leg: Mutex<Option<MeetLegView>>,
    /// Streams received.
    pub streams: Vec<StreamStats>,
    /// DTMF digits received so far, in order.
    #[serde(serialize_with = "serialize_locked")]
    pub dtmf: Mutex<String>,
    /// Gateway calls: the Meet side of the media plane (layers sent, streams received,
    /// composite frames, keyframe requests to Meet), refreshed every second; `null` otherwise.
    #[serde(serialize_with = "serialize_locked_value")]
    pub meet: Mutex<Option<MeetFigures>>,
}

impl CallDetail {
    /// Where the call stands now.
    pub fn state(&self) -> CallState {
        *lock_value(&self.state)
    }

    /// Shows where the call stands.
    pub fn set_state(&self, state: CallState) {
        *lock_value(&self.state) = state;
    }

    /// The leg into Meet, on gateway calls.
    pub fn meet_leg(&self) -> Option<MeetLegView> {
        lock_value(&self.meet_leg).clone()
    }

    /// Shows the leg into Meet.
    pub fn set_meet_leg(&self, leg: MeetLegView) {
        *lock_value(&self.meet_leg) = Some(leg);
    }

    /// Shows the Meet side's latest figures.
    pub(crate) fn set_meet(&self, figures: MeetFigures) {
        *self
            .meet
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(figures);
    }
}

/// A picture size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// One media stream with the room system (both directions).
#[derive(Debug, Serialize)]
pub struct StreamStats {
    /// `audio` or `video`.
    pub media: &'static str,
    /// The agreed codec's encoding name (`H264`, `PCMU`, ...); empty when not recorded.
    pub codec: String,
    /// Video: the size of the pictures decoded from the room system, once one is; `null`
    /// before and on audio.
    #[serde(serialize_with = "serialize_locked_value")]
    pub resolution_in: Mutex<Option<Resolution>>,
    /// Video: the size of the pictures encoded toward the room system; `null` on audio.
    #[serde(serialize_with = "serialize_locked_value")]
    pub resolution_out: Mutex<Option<Resolution>>,
    /// Our RTP port.
    pub local_port: u16,
    /// True when the stream is SRTP (SDES keys agreed): then `packets` counts authenticated
    /// packets only.
    #[serde(serialize_with = "serialize_flag")]
    pub srtp: AtomicBool,
    /// RTP packets received (for SRTP, those that passed authentication and replay checks; on
    /// gateway calls, those the RTP core then passed on to the media plane).
    #[serde(serialize_with = "serialize_count")]
    pub packets: AtomicU64,
    /// SRTP and SRTCP packets refused (authentication failed, replayed, too short, ...); 0 for
    /// plain RTP.
    #[serde(serialize_with = "serialize_count")]
    pub srtp_errors: AtomicU64,
    /// Gateway calls: what the stream's RTP/RTCP core measured (packets, bytes and bit rate
    /// both ways, loss, jitter, keyframe requests, SSRC changes, drops); refreshed by the
    /// stream's RTCP task at least every 250 ms. `null` on other calls.
    #[serde(serialize_with = "serialize_locked_value")]
    pub rtp: Mutex<Option<crate::rtp::StreamFigures>>,
    /// Gateway calls: the media plane's frame counts for this stream (decoded from the room
    /// system, encoded toward it) and codec errors. `null` until the media plane reports them.
    #[serde(serialize_with = "serialize_locked_value")]
    pub frames: Mutex<Option<FrameFigures>>,
}

/// One simulcast layer sent to Meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LayerFigures {
    /// The RID (`q`, `h`, `f`).
    pub rid: String,
    /// The codec: `VP8`.
    pub codec: &'static str,
    /// The layer's picture size.
    pub resolution: Option<Resolution>,
    /// What its encoder put out over the last second, in bit/s (VP8 frames, before RTP).
    pub bitrate_bps: u64,
    /// Frames encoded.
    pub frames: u64,
    /// Keyframes encoded.
    pub keyframes: u64,
    /// PLIs and FIRs Meet sent about this layer.
    pub keyframe_requests: u64,
}

/// One stream received from Meet (video, or audio).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MeetStreamFigures {
    /// The virtual SSRC.
    pub ssrc: u32,
    /// `video` or `audio`.
    pub media: &'static str,
    /// The codec: `VP8` or `opus`.
    pub codec: &'static str,
    /// Video: the size of the latest picture decoded.
    pub resolution: Option<Resolution>,
    /// Bit rate received over the last second, RTP headers included.
    pub bitrate_bps: u64,
    /// Packets lost since the stream started (RFC 3550 A.3; negative with duplicates).
    pub lost: i64,
    /// `lost` over the packets expected, 0 to 1.
    pub loss_ratio: f64,
    /// Interarrival jitter (RFC 3550 A.8), in milliseconds.
    pub jitter_ms: f64,
    /// Frames decoded.
    pub frames: u64,
    /// Decoder errors.
    pub decode_errors: u64,
}

/// The Meet side of a gateway call's media.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MeetFigures {
    /// The layers sent to Meet, lowest first.
    pub layers: Vec<LayerFigures>,
    /// The video streams received from Meet.
    pub streams: Vec<MeetStreamFigures>,
    /// Composite frames made for the room system.
    pub frames_composed: u64,
    /// Output ticks skipped (the compositor fell behind its fixed rate).
    pub ticks_skipped: u64,
    /// Keyframe requests (PLI) sent to Meet on loss or a new decoder.
    pub keyframe_requests_sent: u64,
    /// Keyframe wishes toward Meet dropped by the per-stream rate limit.
    pub keyframe_requests_dropped: u64,
}

/// What the media plane counts on one room-system stream: frames through the uplink's
/// decoder (in) and out of the downlink's encoder (out), and their errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FrameFigures {
    /// Frames decoded from what the room system sent.
    pub frames_in: u64,
    /// Frames encoded toward the room system.
    pub frames_out: u64,
    /// Decode errors on what the room system sent.
    pub decode_errors: u64,
    /// Encode errors toward the room system.
    pub encode_errors: u64,
}

impl StreamStats {
    /// A plain RTP stream with no packet yet.
    pub fn new(media: &'static str, local_port: u16) -> Self {
        Self {
            media,
            codec: String::new(),
            resolution_in: Mutex::new(None),
            resolution_out: Mutex::new(None),
            local_port,
            srtp: AtomicBool::new(false),
            packets: AtomicU64::new(0),
            srtp_errors: AtomicU64::new(0),
            rtp: Mutex::new(None),
            frames: Mutex::new(None),
        }
    }

    /// The stream with its codec's encoding name.
    pub fn with_codec(mut self, codec: impl Into<String>) -> Self {
        self.codec = codec.into();
        self
    }

    /// Shows the size of the pictures decoded from the room system.
    pub fn set_resolution_in(&self, resolution: Resolution) {
        *lock_value(&self.resolution_in) = Some(resolution);
    }

    /// Shows the size of the pictures encoded toward the room system.
    pub fn set_resolution_out(&self, resolution: Resolution) {
        *lock_value(&self.resolution_out) = Some(resolution);
    }

    /// Shows the RTP/RTCP core's latest figures.
    pub fn set_rtp(&self, figures: crate::rtp::StreamFigures) {
        *self
            .rtp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(figures);
    }

    /// Shows the media plane's latest frame counts (for the lead's wiring of the pipelines'
    /// counters).
    pub fn set_frames(&self, figures: FrameFigures) {
        *self
            .frames
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(figures);
    }

    /// Marks the stream as SRTP.
    pub fn set_srtp(&self) {
        self.srtp.store(true, Ordering::Relaxed);
    }

    /// Counts one received packet.
    pub fn count(&self) {
        self.packets.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one packet refused by SRTP; returns the count so far, this one included.
    pub fn count_srtp_error(&self) -> u64 {
        self.srtp_errors.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The values behind these locks are whole between statements: a poisoned lock is usable.
fn lock_value<T>(value: &Mutex<T>) -> MutexGuard<'_, T> {
    value
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn serialize_count<S: serde::Serializer>(value: &AtomicU64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(value.load(Ordering::Relaxed))
}

fn serialize_flag<S: serde::Serializer>(value: &AtomicBool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(value.load(Ordering::Relaxed))
}

fn serialize_locked_value<T: Serialize, S: serde::Serializer>(
    value: &Mutex<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    value
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .serialize(s)
}

fn serialize_locked<S: serde::Serializer>(value: &Mutex<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &value
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

impl Calls {
    /// An empty registry enforcing `limits`, counting outcomes into `outcomes` (a counter
    /// vector with one label, `outcome`).
    pub fn new(limits: Limits, outcomes: IntCounterVec) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    calls: BTreeMap::new(),
                    next_id: 1,
                    limits,
                    draining: false,
                }),
                active: watch::Sender::new(0),
                end_all: watch::Sender::new(false),
                outcomes,
            }),
        }
    }

    /// Admits a call of the test kind (one leg, no CPU share) that shows nothing in
    /// `/status`, or refuses it.
    pub fn admit(&self) -> Result<CallLicence, AdmissionError> {
        self.admit_with(CallKind::Test, None)
    }

    /// Admits a call of `kind`, or refuses it (counted as `no_license` when the licence pool
    /// cannot cover it, else as `rejected`).
    pub fn admit_as(&self, kind: CallKind) -> Result<CallLicence, AdmissionError> {
        self.admit_with(kind, None)
    }

    /// Admits a call of `kind` that shows `detail` in `/status`.
    pub fn admit_with(
        &self,
        kind: CallKind,
        detail: Option<Arc<CallDetail>>,
    ) -> Result<CallLicence, AdmissionError> {
        let mut state = self.inner.lock();
        if let Some(refusal) = state.refusal(kind) {
            drop(state);
            self.inner.count(match refusal {
                AdmissionError::NoLicense { .. } => CallOutcome::NoLicense,
                _ => CallOutcome::Rejected,
            });
            return Err(refusal);
        }
        let id = state.next_id;
        state.next_id += 1;
        state.calls.insert(
            id,
            Entry {
                since: Instant::now(),
                kind,
                detail,
            },
        );
        self.inner.active.send_replace(state.calls.len());
        Ok(CallLicence {
            id,
            inner: Arc::clone(&self.inner),
            outcome: CallOutcome::Failed,
            end_all: self.inner.end_all.subscribe(),
        })
    }

    /// What is in use, against the limits, and whether the node is full: a gateway call
    /// would be refused now (what OPTIONS answers 503 to).
    pub fn usage(&self) -> Usage {
        let state = self.inner.lock();
        Usage {
            calls: state.calls.len(),
            licenses_in_use: state.licenses_in_use(),
            cpu_calls_in_use: state.cpu_calls_in_use(),
            limits: state.limits,
            full: state.refusal(CallKind::Gateway),
        }
    }

    /// Number of active calls.
    pub fn active(&self) -> usize {
        self.inner.lock().calls.len()
    }

    /// The call limit in force.
    pub fn max_calls(&self) -> u32 {
        self.inner.lock().limits.max_calls
    }

    /// Whether the registry refuses new calls because the node is draining.
    pub fn draining(&self) -> bool {
        self.inner.lock().draining
    }

    /// Active calls, oldest first.
    pub fn summaries(&self) -> Vec<CallSummary> {
        let now = Instant::now();
        self.inner
            .lock()
            .calls
            .iter()
            .map(|(&id, entry)| CallSummary {
                id,
                duration_seconds: now.duration_since(entry.since).as_secs_f64(),
                licenses: entry.kind.licenses(),
                detail: entry.detail.clone(),
            })
            .collect()
    }

    /// Enforces `limits` from now on (a reload); calls running keep what they hold.
    pub(crate) fn set_limits(&self, limits: Limits) {
        self.inner.lock().limits = limits;
    }

    /// Refuses new calls from now on.
    pub(crate) fn start_draining(&self) {
        self.inner.lock().draining = true;
    }

    /// Waits until no call is active, or `timeout` passes; true when idle.
    pub(crate) async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut active = self.inner.active.subscribe();
        tokio::time::timeout(timeout, active.wait_for(|&n| n == 0))
            .await
            .is_ok()
    }

    /// Turns true when the node orders every call to end (the drain timed out).
    pub(crate) fn ending(&self) -> watch::Receiver<bool> {
        self.inner.end_all.subscribe()
    }

    /// Tells every call holder to end its call now.
    pub(crate) fn end_all(&self) {
        self.inner.end_all.send_replace(true);
    }
}

impl CallLicence {
    /// Node-local call number.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Records how the call ended and releases the slot.
    pub fn finish(mut self, outcome: CallOutcome) {
        self.outcome = outcome;
    }

    /// Resolves when the node orders every call to end (the drain timed out). A call task
    /// selects on this next to its media and signalling.
    pub async fn end_requested(&mut self) {
        // An error means the registry is gone, which also means: stop.
        let _ = self.end_all.wait_for(|&end| end).await;
    }
}

impl Drop for CallLicence {
    fn drop(&mut self) {
        let remaining = {
            let mut state = self.inner.lock();
            state.calls.remove(&self.id);
            state.calls.len()
        };
        self.inner.count(self.outcome);
        self.inner.active.send_replace(remaining);
    }
}

impl Inner {
    /// The state is consistent between statements, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self, outcome: CallOutcome) {
        self.outcomes.with_label_values(&[outcome.label()]).inc();
    }
}

#[cfg(test)]
mod tests {
    use prometheus::Opts;

    use super::*;

    fn registry(max_calls: u32) -> (Calls, IntCounterVec) {
        registry_with(Limits::calls(max_calls))
    }

    fn registry_with(limits: Limits) -> (Calls, IntCounterVec) {
        let outcomes = IntCounterVec::new(Opts::new("calls_total", "test"), &["outcome"]).unwrap();
        (Calls::new(limits, outcomes.clone()), outcomes)
    }

    fn count(outcomes: &IntCounterVec, outcome: CallOutcome) -> u64 {
        outcomes.with_label_values(&[outcome.label()]).get()
    }

    #[test]
    fn capacity_is_enforced_and_released_on_drop() {
        let (calls, outcomes) = registry(2);
        let a = calls.admit().unwrap();
        let b = calls.admit().unwrap();
        assert_ne!(a.id(), b.id());
        assert_eq!(
            calls.admit().unwrap_err(),
            AdmissionError::AtCapacity {
                max_calls: 2,
                retry_after: 30
            }
        );
        assert_eq!(calls.active(), 2);
        a.finish(CallOutcome::Completed);
        drop(b); // no outcome recorded: counts as failed
        assert_eq!(calls.active(), 0);
        assert_eq!(count(&outcomes, CallOutcome::Completed), 1);
        assert_eq!(count(&outcomes, CallOutcome::Failed), 1);
        assert_eq!(count(&outcomes, CallOutcome::Rejected), 1);
        assert!(calls.admit().is_ok());
    }

    #[test]
    fn a_gateway_call_holds_two_licences_until_it_ends() {
        let (calls, outcomes) = registry_with(Limits {
            max_calls: 10,
            licenses: 5,
            cpu_calls: None,
            retry_after: 7,
        });
        let a = calls.admit_as(CallKind::Gateway).unwrap();
        let b = calls.admit_as(CallKind::Gateway).unwrap();
        assert_eq!(calls.usage().licenses_in_use, 4);
        assert_eq!(calls.summaries()[0].licenses, 2);
        // one licence left: no gateway call fits (the node is full), a test call does
        let refusal = calls.admit_as(CallKind::Gateway).unwrap_err();
        assert_eq!(
            refusal,
            AdmissionError::NoLicense {
                needed: 2,
                free: 1,
                total: 5,
                retry_after: 7
            }
        );
        assert_eq!(refusal.retry_after(), Some(7));
        assert_eq!(calls.usage().full, Some(refusal));
        let test = calls.admit().unwrap();
        assert_eq!(calls.usage().licenses_in_use, 5);
        assert_eq!(count(&outcomes, CallOutcome::NoLicense), 1);
        assert_eq!(count(&outcomes, CallOutcome::Rejected), 0);
        drop(a);
        assert_eq!(calls.usage().licenses_in_use, 3);
        assert_eq!(calls.usage().full, None);
        assert!(calls.admit_as(CallKind::Gateway).is_ok());
        drop((b, test));
    }

    #[test]
    fn the_cpu_bounds_gateway_calls_only() {
        let (calls, outcomes) = registry_with(Limits {
            max_calls: 10,
            licenses: 0,
            cpu_calls: Some(1),
            retry_after: 30,
        });
        let gateway = calls.admit_as(CallKind::Gateway).unwrap();
        assert_eq!(
            calls.admit_as(CallKind::Gateway).unwrap_err(),
            AdmissionError::CpuFull {
                calls: 1,
                retry_after: 30
            }
        );
        assert!(calls.usage().full.is_some());
        let sip = calls.admit_as(CallKind::Sip).unwrap();
        assert_eq!(calls.usage().cpu_calls_in_use, 1);
        assert_eq!(count(&outcomes, CallOutcome::Rejected), 1);
        drop(gateway);
        assert!(calls.admit_as(CallKind::Gateway).is_ok());
        drop(sip);
    }

    #[test]
    fn draining_refuses_new_calls() {
        let (calls, _) = registry(5);
        let held = calls.admit().unwrap();
        calls.start_draining();
        assert_eq!(calls.admit().unwrap_err(), AdmissionError::Draining);
        assert_eq!(AdmissionError::Draining.retry_after(), None);
        assert_eq!(calls.summaries().len(), 1);
        assert_eq!(calls.summaries()[0].id, held.id());
    }

    #[tokio::test]
    async fn drain_waits_for_the_last_call() {
        let (calls, _) = registry(5);
        let licence = calls.admit().unwrap();
        assert!(!calls.wait_idle(Duration::from_millis(50)).await);
        let waiter = tokio::spawn({
            let calls = calls.clone();
            async move { calls.wait_idle(Duration::from_secs(10)).await }
        });
        drop(licence);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn end_all_reaches_every_licence() {
        let (calls, _) = registry(5);
        let mut licence = calls.admit().unwrap();
        let ended = tokio::spawn(async move {
            licence.end_requested().await;
            licence.finish(CallOutcome::Completed);
        });
        tokio::task::yield_now().await;
        calls.end_all();
        tokio::time::timeout(Duration::from_secs(5), ended)
            .await
            .expect("licence saw the order")
            .unwrap();
        assert_eq!(calls.active(), 0);
    }
}
