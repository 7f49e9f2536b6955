//! One tokio task per gateway call: it owns the call's [`GatewayCall`], its licence, its
//! ports and its media plane, and carries out what the controller decides. Everything it
//! holds is dropped when it returns, on every path: the ending, a panic in a pipeline thread
//! (the pipelines report it as an error event; the call ends with `media_failed`), the node
//! draining.
//!
//! ```text
//!  SIP stack ──LegEvent──► task ──LegCommand──► SIP stack
//!                           │ GatewayCall (sans-IO) ◄── connector results, media events, time
//!                           ▼
//!               MeetLeg (webrtcbin, uplink) ◄─ VTC RTP ─ VtcMedia ─► VTC
//! ```

use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Instant;

use meet::connector::{
    ConferenceRef, ConnectOutcome, DialString, JoinInfo, MeetConnector, MeetError,
};
use meet::protocol::DataChannel;
use meet::session::SessionSettings;
use pipelines::{MediaEvent, MeetLeg, MeetLegSpec, UplinkSpec};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use tracing::{Instrument, debug, info, info_span, warn};

use super::gateway::{CallOutput, GatewayCall, LegCommand};
use super::vtc_media::{VtcMedia, VtcStreamPlan};
use crate::calls::{CallDetail, CallLicence};
use crate::media_ports::PortPair;
use crate::metrics::Metrics;
use crate::sip::LegEvent;

/// A command for the SIP leg of call `call_id`.
pub(crate) type LegCommands = mpsc::UnboundedSender<(String, LegCommand)>;

/// Everything one call's task needs: narrow handles, not the node's whole state.
pub(crate) struct CallPlan {
    /// The caller's Call-ID (the key of its SIP leg).
    pub(crate) call_id: String,
    pub(crate) dial: DialString,
    pub(crate) join: JoinInfo,
    pub(crate) connector: Arc<dyn MeetConnector>,
    pub(crate) settings: SessionSettings,
    pub(crate) licence: CallLicence,
    pub(crate) detail: Arc<CallDetail>,
    pub(crate) metrics: Metrics,
    /// The room system's streams, in `detail.streams` order (sinks filled in by the task).
    pub(crate) vtc: Vec<VtcStreamPlan>,
    pub(crate) local_ip: std::net::IpAddr,
    pub(crate) meet_spec: MeetLegSpec,
    pub(crate) uplink_spec: UplinkSpec,
    /// The ports this call holds (the room system's streams, the Meet leg's ICE port): freed
    /// when the task ends.
    pub(crate) ports: Vec<PortPair>,
    pub(crate) commands: LegCommands,
}

/// Results of the work the task starts off the loop.
enum Done {
    Resolved(Result<ConferenceRef, MeetError>),
    Media(Result<(MeetLeg, std_mpsc::Receiver<MediaEvent>, String), String>),
    Connected(Result<ConnectOutcome, MeetError>),
}

/// Runs the call to its end.
pub(crate) async fn run(plan: CallPlan, leg_events: mpsc::UnboundedReceiver<LegEvent>) {
    let span = info_span!("gateway_call", call = plan.licence.id());
    run_inner(plan, leg_events).instrument(span).await;
}

async fn run_inner(plan: CallPlan, mut leg_events: mpsc::UnboundedReceiver<LegEvent>) {
    let CallPlan {
        call_id,
        dial,
        join,
        connector,
        settings,
        mut licence,
        detail,
        metrics,
        vtc,
        local_ip,
        meet_spec,
        uplink_spec,
        ports: _ports,
        commands,
    } = plan;
    let mut call = GatewayCall::new(settings, Instant::now());
    let (done_tx, mut done) = mpsc::unbounded_channel::<Done>();
    let (media_tx, mut media_events) = mpsc::unbounded_channel::<MediaEvent>();
    let mut vtc_plans = Some(vtc);
    let mut leg: Option<Arc<MeetLeg>> = None;
    // The room system's sockets: held, not read, until the media plane is closed.
    let mut _vtc_media: Option<VtcMedia> = None;
    let mut open_channels = 0usize;
    let mut draining = false;

    loop {
        while let Some(output) = call.poll_output() {
            match output {
                CallOutput::Resolve => {
                    let (connector, dial, done) =
                        (Arc::clone(&connector), dial.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        let _ = done.send(Done::Resolved(connector.resolve(&dial).await));
                    });
                }
                CallOutput::CreateOffer => {
                    let (meet_spec, uplink_spec, done) =
                        (meet_spec.clone(), uplink_spec.clone(), done_tx.clone());
                    // Building the pipeline and gathering ICE block: off the runtime.
                    tokio::task::spawn_blocking(move || {
                        let built = MeetLeg::new(&meet_spec, &uplink_spec)
                            .and_then(|(leg, events)| {
                                let offer = leg.create_offer()?;
                                Ok((leg, events, offer))
                            })
                            .map_err(|e| e.to_string());
                        let _ = done.send(Done::Media(built));
                    });
                }
                CallOutput::Connect { conference, offer } => {
                    debug!(space = conference.space, "connecting to the conference");
                    let (connector, join, done) =
                        (Arc::clone(&connector), join.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        let result = connector.connect(&conference, &offer, &join).await;
                        let _ = done.send(Done::Connected(result));
                    });
                }
                CallOutput::ApplyAnswer(answer) => {
                    let applied = leg.as_ref().map(|leg| leg.apply_answer(&answer));
                    if let Some(Err(error)) = applied {
                        warn!("the conference's answer was not applied: {error}");
                        call.on_media_failed(Instant::now());
                    }
                }
                CallOutput::SendData(channel, text) => {
                    if let Some(leg) = &leg
                        && let Err(error) = leg.send_data(channel.label(), &text)
                    {
                        debug!(%channel, "data-channel message not sent: {error}");
                    }
                }
                CallOutput::Assign(assignment) => {
                    debug!(canvases = assignment.canvases.len(), "video assignment");
                }
                CallOutput::Leg(command) => {
                    let _ = commands.send((call_id.clone(), command));
                }
                CallOutput::CloseMedia => {
                    _vtc_media = None;
                    leg = None;
                }
                CallOutput::Ended { ending, outcome } => {
                    metrics.count_gateway_ending(ending.label());
                    licence.finish(outcome);
                    return;
                }
            }
        }
        let deadline = call.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(TokioInstant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(event) = leg_events.recv() => call.on_leg(&event, Instant::now()),
            Some(result) = done.recv() => match result {
                Done::Resolved(result) => call.on_resolved(result, Instant::now()),
                Done::Connected(result) => call.on_connected(result, Instant::now()),
                Done::Media(Ok((built, events, offer))) => {
                    debug!(bytes = offer.len(), "media plane built, offer made");
                    let built = Arc::new(built);
                    forward_events(events, media_tx.clone());
                    match start_vtc_media(local_ip, vtc_plans.take(), &built, &detail, &metrics) {
                        Ok(media) => {
                            _vtc_media = Some(media);
                            leg = Some(built);
                            call.on_offer(Ok(offer), Instant::now());
                        }
                        Err(error) => call.on_offer(Err(error), Instant::now()),
                    }
                }
                Done::Media(Err(error)) => call.on_offer(Err(error), Instant::now()),
            },
            Some(event) = media_events.recv() => {
                let now = Instant::now();
                match event {
                    MediaEvent::DataChannelOpen { label } => {
                        open_channels += 1;
                        debug!(label, open_channels, "data channel open");
                        if open_channels == DataChannel::ALL.len() {
                            call.on_channels_open(now);
                        }
                    }
                    MediaEvent::DataChannelMessage { label, text } => {
                        if let Some(channel) = DataChannel::from_label(&label) {
                            call.on_data(channel, &text, now);
                        }
                    }
                    MediaEvent::DataChannelClosed { .. }
                    | MediaEvent::ConnectionState(pipelines::ConnectionState::Failed) => {
                        call.on_transport_failed(now);
                    }
                    MediaEvent::Error(error) => {
                        warn!("media plane failed: {error}");
                        call.on_media_failed(now);
                    }
                    other => debug!(?other, "media event"),
                }
            }
            () = sleep => call.handle_timeout(Instant::now()),
            () = licence.end_requested(), if !draining => {
                draining = true;
                call.shut_down(Instant::now());
            }
        }
    }
}

/// Hands the media plane's events (a std channel, written from GStreamer threads) to the task.
fn forward_events(events: std_mpsc::Receiver<MediaEvent>, to: mpsc::UnboundedSender<MediaEvent>) {
    std::thread::Builder::new()
        .name("tcn-media-events".to_owned())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                if to.send(event).is_err() {
                    break;
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| warn!("cannot start the media event thread: {e}"));
}

/// Binds the room system's sockets, feeding what it sends into the uplink.
fn start_vtc_media(
    local_ip: std::net::IpAddr,
    plans: Option<Vec<VtcStreamPlan>>,
    leg: &Arc<MeetLeg>,
    detail: &Arc<CallDetail>,
    metrics: &Metrics,
) -> Result<VtcMedia, String> {
    let mut plans = plans.ok_or("media started twice")?;
    for plan in &mut plans {
        let input = leg.input();
        plan.sink = if plan.media == "video" {
            Arc::new(move |packet| {
                let _ = input.push_video_rtp(packet);
            })
        } else {
            Arc::new(move |packet| {
                let _ = input.push_audio_rtp(packet);
            })
        };
    }
    let media = VtcMedia::start(local_ip, plans, Arc::clone(detail), metrics.clone())
        .map_err(|e| format!("cannot bind the room system's ports: {e}"))?;
    info!(streams = media.senders.len(), "room system media bound");
    Ok(media)
}
