//! Call admission: the licence every gateway call holds while it runs.
//!
//! The call controller asks [`Calls::admit`] before it answers a call; the answer is a
//! [`CallLicence`] or an [`AdmissionError`] (draining, or at capacity). Dropping the licence ends
//! the call's claim, so a call task that dies for any reason frees its slot. The registry feeds
//! `tcn_calls_active`, `tcn_calls_total{outcome}`, `/status` and the drain on shutdown.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use serde::Serialize;
use tokio::sync::watch;

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
}

impl CallOutcome {
    /// Every outcome, for pre-creating metric series.
    pub const ALL: [Self; 4] = [
        Self::Completed,
        Self::Rejected,
        Self::Cancelled,
        Self::Failed,
    ];

    /// The metric label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }
}

/// Why a call was not admitted.
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
    },
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
    calls: BTreeMap<u64, (Instant, Option<Arc<CallDetail>>)>,
    next_id: u64,
    max_calls: u32,
    draining: bool,
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
    /// What the call controller recorded about the call, if anything.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Arc<CallDetail>>,
}

/// What a call controller shows about a call in `/status`: the service, the media streams it
/// receives (with live packet counts) and the DTMF digits received so far.
#[derive(Debug, Default, Serialize)]
pub struct CallDetail {
    /// The service answering the call, e.g. `test`.
    pub service: String,
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
    /// Shows the Meet side's latest figures.
    pub(crate) fn set_meet(&self, figures: MeetFigures) {
        *self
            .meet
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(figures);
    }
}

/// One received media stream.
#[derive(Debug, Serialize)]
pub struct StreamStats {
    /// `audio` or `video`.
    pub media: &'static str,
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
    /// Frames encoded.
    pub frames: u64,
    /// Keyframes encoded.
    pub keyframes: u64,
    /// PLIs and FIRs Meet sent about this layer.
    pub keyframe_requests: u64,
}

/// One video stream received from Meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MeetStreamFigures {
    /// The virtual SSRC.
    pub ssrc: u32,
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
            local_port,
            srtp: AtomicBool::new(false),
            packets: AtomicU64::new(0),
            srtp_errors: AtomicU64::new(0),
            rtp: Mutex::new(None),
            frames: Mutex::new(None),
        }
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
    /// An empty registry with `max_calls` slots, counting outcomes into `outcomes` (a counter
    /// vector with one label, `outcome`).
    pub fn new(max_calls: u32, outcomes: IntCounterVec) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    calls: BTreeMap::new(),
                    next_id: 1,
                    max_calls,
                    draining: false,
                }),
                active: watch::Sender::new(0),
                end_all: watch::Sender::new(false),
                outcomes,
            }),
        }
    }

    /// Admits a call, or refuses it (counted as `rejected`).
    pub fn admit(&self) -> Result<CallLicence, AdmissionError> {
        self.admit_with(None)
    }

    /// Admits a call that shows `detail` in `/status`.
    pub fn admit_with(
        &self,
        detail: Option<Arc<CallDetail>>,
    ) -> Result<CallLicence, AdmissionError> {
        let mut state = self.inner.lock();
        let refusal = if state.draining {
            Some(AdmissionError::Draining)
        } else if state.calls.len() >= state.max_calls as usize {
            Some(AdmissionError::AtCapacity {
                max_calls: state.max_calls,
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            drop(state);
            self.inner.count(CallOutcome::Rejected);
            return Err(refusal);
        }
        let id = state.next_id;
        state.next_id += 1;
        state.calls.insert(id, (Instant::now(), detail));
        self.inner.active.send_replace(state.calls.len());
        Ok(CallLicence {
            id,
            inner: Arc::clone(&self.inner),
            outcome: CallOutcome::Failed,
            end_all: self.inner.end_all.subscribe(),
        })
    }

    /// Number of active calls.
    pub fn active(&self) -> usize {
        self.inner.lock().calls.len()
    }

    /// The call limit in force.
    pub fn max_calls(&self) -> u32 {
        self.inner.lock().max_calls
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
            .map(|(&id, (since, detail))| CallSummary {
                id,
                duration_seconds: now.duration_since(*since).as_secs_f64(),
                detail: detail.clone(),
            })
            .collect()
    }

    pub(crate) fn set_max_calls(&self, max_calls: u32) {
        self.inner.lock().max_calls = max_calls;
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
        let outcomes = IntCounterVec::new(Opts::new("calls_total", "test"), &["outcome"]).unwrap();
        (Calls::new(max_calls, outcomes.clone()), outcomes)
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
            AdmissionError::AtCapacity { max_calls: 2 }
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
    fn draining_refuses_new_calls() {
        let (calls, _) = registry(5);
        let held = calls.admit().unwrap();
        calls.start_draining();
        assert_eq!(calls.admit().unwrap_err(), AdmissionError::Draining);
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
