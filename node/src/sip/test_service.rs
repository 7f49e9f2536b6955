//! The built-in test call service (`sip.test_alias`, and `sip.test_ring_alias`, which rings for
//! 2 s first): a far end of the caller's [`UasLeg`]. It answers, opens the negotiated RTP ports
//! and counts what arrives (see [`test_call`](super::test_call)), answers re-offers (hold,
//! resume) on the same ports, and records DTMF from INFO as well as from RFC 4733.
//!
//! The dialog itself (in-dialog checks, session timers, the BYE with a `Reason` when the node
//! ends a call, the missing ACK) is the leg's, as for every other far end.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signaling::dtmf::DtmfDeduplicator;
use signaling::sdp::{Endpoint, LocalCapabilities, NegotiatedMedia, SessionDescription};
use signaling::sip::message::{NameAddr, Request, Response};
use signaling::sip::transaction::TxId;
use tracing::{info, warn};

use super::call_table::{FarEnd, SipCall};
use super::leg::{LegConfig, LegEvent, UasLeg};
use super::peer::SipPeer;
use super::responses::{refused, sdp_offer, status};
use super::sdp_answer::{crypto_policy, endpoint, negotiate};
use super::test_call::{self, MediaTasks, SharedDedup, StreamPlan};
use crate::calls::{CallDetail, CallKind, CallOutcome, StreamStats};
use crate::config::MediaEncryption;
use crate::media_ports::PortPair;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// How long `test_ring_alias` rings before it answers.
const RING_TIME: Duration = Duration::from_secs(2);

/// The test service's side of one call: its media and what a re-offer needs.
pub(crate) struct TestCall {
    detail: Arc<CallDetail>,
    dedup: SharedDedup,
    session_id: u64,
    version: u64,
    endpoints: (Endpoint, Endpoint),
    _ports: Vec<PortPair>,
    _media: MediaTasks,
}

/// What the service needs from the request path to answer a new call.
pub(crate) struct NewCall<'a> {
    pub(crate) tx: TxId,
    pub(crate) request: &'a Request,
    pub(crate) peer: &'a SipPeer,
    pub(crate) ringing: bool,
    /// Where our media listens.
    pub(crate) address: IpAddr,
    /// Our Contact.
    pub(crate) contact: NameAddr,
}

/// Answers a new test call (or rings first, for the ringing alias): the call to file, or the
/// refusal to send.
pub(crate) fn answer(shared: &Shared, new: NewCall<'_>, now: Instant) -> Result<SipCall, Response> {
    let NewCall {
        tx,
        request,
        peer,
        ringing,
        address,
        contact,
    } = new;
    let sip = shared.config().sip;
    let mut leg = UasLeg::new(tx, request, peer, LegConfig::new(shared, contact, address))?;
    let offer = sdp_offer(request)?;
    let ports = &shared.media_ports;
    let (Ok(audio), Ok(video)) = (ports.allocate(), ports.allocate()) else {
        return Err(request
            .response(status(503))
            .with_reason("Service Unavailable - no media ports"));
    };
    let endpoints = (endpoint(address, &audio), endpoint(address, &video));
    let session_id = rand::random::<u32>().into();
    let crypto = crypto_policy(sip.media_encryption);
    let caps = LocalCapabilities::default();
    let (answer_sdp, negotiated) = negotiate(&offer, endpoints, session_id, 1, crypto, &caps)
        .map_err(|code| request.response(status(code)))?;
    let (plans, streams) = stream_plans(&negotiated);
    let detail = Arc::new(CallDetail {
        service: "test".to_owned(),
        caller: super::peer::caller_view(request),
        streams,
        ..CallDetail::default()
    });
    let licence = shared
        .calls
        .admit_with(CallKind::Test, Some(Arc::clone(&detail)))
        .map_err(|e| refused(request, &CallRefusal::Admission(e)))?;
    let dedup: SharedDedup = Arc::new(Mutex::new(DtmfDeduplicator::new()));
    let media = test_call::start(
        address,
        plans,
        Arc::clone(&detail),
        Arc::clone(&dedup),
        shared.metrics.clone(),
    )
    .map_err(|e| {
        warn!("test call: cannot bind media ports: {e}");
        request
            .response(status(503))
            .with_reason("Service Unavailable - media ports busy")
    })?;
    let local_sdp = answer_sdp.to_string();
    if ringing {
        leg.accept_at(local_sdp, now + RING_TIME, now)?;
    } else {
        leg.accept(local_sdp, now)?;
    }
    info!(call = licence.id(), ringing, "test call answered");
    Ok(SipCall {
        leg,
        far: FarEnd::Test(TestCall {
            detail,
            dedup,
            session_id,
            version: 1,
            endpoints,
            _ports: vec![audio, video],
            _media: media,
        }),
        licence: Some(licence),
        local_outcome: CallOutcome::Completed,
    })
}

impl TestCall {
    /// A re-offer (hold, resume): a new answer on the same ports.
    pub(crate) fn reoffer(
        &mut self,
        offer: &SessionDescription,
        encryption: MediaEncryption,
    ) -> Result<Option<String>, u16> {
        self.version += 1;
        let (answer_sdp, _) = negotiate(
            offer,
            self.endpoints,
            self.session_id,
            self.version,
            crypto_policy(encryption),
            &LocalCapabilities::default(),
        )?;
        Ok(Some(answer_sdp.to_string()))
    }

    /// What the leg reports: DTMF from INFO is recorded with the RTP digits.
    pub(crate) fn on_leg_event(&mut self, event: &LegEvent, now: Instant) {
        match event {
            LegEvent::Dtmf(dtmf) => test_call::record_dtmf(&self.detail, &self.dedup, dtmf, now),
            LegEvent::Message(text) => {
                tracing::debug!(bytes = text.len(), "MESSAGE in a test call");
            }
            LegEvent::Confirmed | LegEvent::Ended(_) => {}
        }
    }
}

fn stream_plans(negotiated: &NegotiatedMedia) -> (Vec<StreamPlan>, Vec<StreamStats>) {
    let mut streams = Vec::new();
    let mut plans = Vec::new();
    if let Some(audio_stream) = &negotiated.audio {
        plans.push(StreamPlan {
            stats: streams.len(),
            rtp_port: audio_stream.local.rtp_port,
            rtcp_port: (!audio_stream.rtcp_mux).then_some(audio_stream.local.rtcp_port),
            dtmf: audio_stream
                .format
                .telephone_event
                .map(|pt| (pt, audio_stream.format.clock_rate)),
            srtp: audio_stream.srtp.clone(),
        });
        streams.push(StreamStats::new("audio", audio_stream.local.rtp_port));
    }
    if let Some(video_stream) = &negotiated.video {
        plans.push(StreamPlan {
            stats: streams.len(),
            rtp_port: video_stream.local.rtp_port,
            rtcp_port: (!video_stream.rtcp_mux).then_some(video_stream.local.rtcp_port),
            dtmf: None,
            srtp: video_stream.srtp.clone(),
        });
        streams.push(StreamStats::new("video", video_stream.local.rtp_port));
    }
    (plans, streams)
}
