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
use pipelines::downlink::{Downlink, DownlinkEvent, DownlinkSpec, TileSource};
use pipelines::{MediaEvent, MeetLeg, MeetLegSpec, ReceivedKind, UplinkSpec};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use tracing::{Instrument, debug, info, info_span, warn};

use super::chat::ChatGate;
use super::figures;
use super::gateway::{CallOutput, GatewayCall, LegCommand};
use super::reception::{self, ReceptionPlan};
use super::vtc_media::{VtcMedia, VtcStreamPlan};
use crate::calls::{CallDetail, CallLicence};
use crate::live_view::MeetLegView;
use crate::media_ports::PortPair;
use crate::metrics::Metrics;
use crate::sip::LegEvent;

/// A command for the SIP leg of call `call_id`.
pub(crate) type LegCommands = mpsc::UnboundedSender<(String, LegCommand)>;

/// Everything one call's task needs: narrow handles, not the node's whole state.
pub(crate) struct CallPlan {
    /// The caller's Call-ID (the key of its SIP leg).
    pub(crate) call_id: String,
    pub(crate) dialled: Dialled,
    pub(crate) join: JoinInfo,
    pub(crate) settings: SessionSettings,
    pub(crate) licence: CallLicence,
    pub(crate) detail: Arc<CallDetail>,
    pub(crate) metrics: Metrics,
    /// The room system's streams, in `detail.streams` order (sinks filled in by the task).
    pub(crate) vtc: Vec<VtcStreamPlan>,
    pub(crate) local_ip: std::net::IpAddr,
    pub(crate) meet_spec: MeetLegSpec,
    pub(crate) uplink_spec: UplinkSpec,
    pub(crate) downlink_spec: DownlinkSpec,
    /// The ports this call holds (the room system's streams, the Meet leg's ICE port): freed
    /// when the task ends.
    pub(crate) ports: Vec<PortPair>,
    pub(crate) commands: LegCommands,
    /// When the call gives up on a silent side ([`Liveness`]).
    pub(crate) liveness: Liveness,
    /// How a wait in the lobby is presented (`[meet] lobby`).
    pub(crate) lobby: crate::config::LobbyMode,
    /// Whether the room system may chat, shared with its SIP leg.
    pub(crate) chat: Arc<ChatGate>,
}

/// How long each side may be silent before the call ends (`media.rtp_timeout`,
/// `media.meet_timeout`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Liveness {
    /// No RTP from the room system for this long once answered; `None`: never checked.
    pub(crate) rtp_timeout: Option<std::time::Duration>,
    /// Nothing in on the Meet transport for this long, once something has come.
    pub(crate) meet_timeout: std::time::Duration,
}

/// How often the task looks at both sides' silence: a quarter of a second, so that a side
/// that vanished is noticed well within a second of its timeout.
const LIVENESS_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// What the caller dialled.
pub(crate) enum Dialled {
    /// A meeting: resolve and connect it.
    Meet {
        dial: DialString,
        connector: Arc<dyn MeetConnector>,
    },
    /// A Virtual Reception: answer, ask for the meeting ID, then connect that meeting
    /// ([`super::reception`]).
    Reception(Box<ReceptionPlan>),
}

/// Counts a call's media plane in `tcn_media_graphs_active` for as long as it lives (a
/// guard, so that every ending path, a panic included, takes it out again).
struct GraphGauge(Metrics);

impl GraphGauge {
    fn new(metrics: &Metrics) -> Self {
        metrics.media_graphs_active.inc();
        Self(metrics.clone())
    }
}

impl Drop for GraphGauge {
    fn drop(&mut self) {
        self.0.media_graphs_active.dec();
    }
}

/// The media plane of one call, once built.
struct Media {
    leg: MeetLeg,
    events: std_mpsc::Receiver<MediaEvent>,
    downlink: Arc<Downlink>,
    /// `None` when the downlink was already running (a reception started it).
    downlink_events: Option<std_mpsc::Receiver<DownlinkEvent>>,
    offer: String,
}

/// Builds the Meet leg (with its uplink) and the downlink (unless one runs already), joins them
/// (what Meet sends goes to the downlink), and makes the offer. Blocks: run it off the runtime.
fn build_media(
    meet_spec: &MeetLegSpec,
    uplink_spec: &UplinkSpec,
    downlink_spec: DownlinkSpec,
    running: Option<Arc<Downlink>>,
) -> Result<Media, String> {
    let (leg, events) = MeetLeg::new(meet_spec, uplink_spec).map_err(|e| e.to_string())?;
    let (downlink, downlink_events) = match running {
        Some(downlink) => (downlink, None),
        None => {
            let (downlink, events) = Downlink::start(downlink_spec).map_err(|e| e.to_string())?;
            (Arc::new(downlink), Some(events))
        }
    };
    let to_downlink = Arc::clone(&downlink);
    leg.on_receive(Arc::new(move |kind, packet| {
        let Some(ssrc) = packet
            .get(8..12)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return;
        };
        // The downlink refuses packets only once it has ended; the task hears of that.
        let _ = match kind {
            ReceivedKind::Video => to_downlink.push_vp8_rtp(ssrc, packet),
            ReceivedKind::Audio => to_downlink.push_opus_rtp(ssrc, packet),
        };
    }));
    let offer = leg.create_offer().map_err(|e| e.to_string())?;
    Ok(Media {
        leg,
        events,
        downlink,
        downlink_events,
        offer,
    })
}

/// Results of the work the task starts off the loop.
enum Done {
    Resolved(Result<ConferenceRef, MeetError>),
    Media(Result<Media, String>),
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
        dialled,
        join,
        settings,
        mut licence,
        detail,
        metrics,
        vtc,
        local_ip,
        meet_spec,
        uplink_spec,
        downlink_spec,
        ports: _ports,
        commands,
        liveness,
        lobby,
        chat,
    } = plan;
    let (media_tx, mut media_events) = mpsc::unbounded_channel::<MediaEvent>();
    let mut vtc_plans = Some(vtc);
    // A reception answers first and asks for the meeting ID; its media carries on.
    let (dial, connector, mut received) = match dialled {
        Dialled::Meet { dial, connector } => (Some(dial), connector, None),
        Dialled::Reception(reception) => {
            detail.set_state(crate::live_view::CallState::Reception);
            let stage = reception::Stage {
                call_id: &call_id,
                commands: &commands,
                leg_events: &mut leg_events,
                media_tx: media_tx.clone(),
                media_events: &mut media_events,
                licence: &mut licence,
                detail: &detail,
                metrics: &metrics,
                local_ip,
            };
            let plans = vtc_plans.take().unwrap_or_default();
            match reception::run(*reception, stage, plans, downlink_spec.clone()).await {
                reception::Entered::Routed {
                    conference,
                    connector,
                    media,
                } => (None, connector, Some((conference, media))),
                reception::Entered::Ended { ending, answered } => {
                    metrics.count_gateway_ending(ending.label());
                    licence.finish(ending.outcome(answered));
                    return;
                }
            }
        }
    };
    // A reception's call comes answered, its conference resolved: the leg into Meet is now
    // that meeting (its code, as the caller typed its ID).
    if let Some((conference, _)) = &received {
        detail.set_meet_leg(MeetLegView {
            alias: conference
                .meeting_code
                .clone()
                .unwrap_or_else(|| conference.space.clone()),
            ..MeetLegView::default()
        });
    }
    let (mut call, mut received) = match received.take() {
        Some((conference, media)) => (
            GatewayCall::answered(settings, conference, Instant::now()).with_lobby(lobby),
            Some(media),
        ),
        None => (
            GatewayCall::new(settings, Instant::now()).with_lobby(lobby),
            None,
        ),
    };
    let (done_tx, mut done) = mpsc::unbounded_channel::<Done>();
    let mut leg: Option<Arc<MeetLeg>> = None;
    let mut downlink: Option<Arc<Downlink>> = None;
    let mut graph_gauge: Option<GraphGauge> = None;
    // The room system's sockets: held, not read, until the media plane is closed.
    let mut _vtc_media: Option<VtcMedia> = None;
    let mut open_channels = 0usize;
    // The media plane's figures reach `/status` and the metrics once a second.
    let mut figures_tick = tokio::time::interval(std::time::Duration::from_secs(1));
    figures_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut published = figures::Published::default();
    // The Live View: where the call stands and its leg into Meet (the meeting ID dialled is
    // the leg's alias), and the INVITE → 200 time.
    let alias = detail.meet_leg().map(|leg| leg.alias).unwrap_or_default();
    let started = Instant::now();
    let mut draining = false;
    let mut liveness_tick = tokio::time::interval(LIVENESS_CHECK);
    liveness_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // When the room system was answered: its silence counts from then.
    let mut answered_at: Option<Instant> = None;

    loop {
        while let Some(output) = call.poll_output() {
            match output {
                CallOutput::Resolve => {
                    let Some(dial) = dial.clone() else {
                        continue;
                    };
                    let (connector, done) = (Arc::clone(&connector), done_tx.clone());
                    tokio::spawn(async move {
                        let _ = done.send(Done::Resolved(connector.resolve(&dial).await));
                    });
                }
                CallOutput::CreateOffer => {
                    let (meet_spec, uplink_spec, downlink_spec, done) = (
                        meet_spec.clone(),
                        uplink_spec.clone(),
                        downlink_spec.clone(),
                        done_tx.clone(),
                    );
                    let running = received.as_ref().map(|r| Arc::clone(&r.downlink));
                    // Building the pipelines and gathering ICE block: off the runtime.
                    tokio::task::spawn_blocking(move || {
                        let built = build_media(&meet_spec, &uplink_spec, downlink_spec, running);
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
                CallOutput::Show(shown) => {
                    debug!(?shown, "who the room system sees");
                    let sources: Vec<TileSource> = shown
                        .into_iter()
                        .take(kernels::layout::TILE_COUNT)
                        .map(|s| TileSource {
                            tile: s.tile,
                            ssrc: s.ssrc,
                            name: s.name,
                        })
                        .collect();
                    if let Some(downlink) = &downlink
                        && let Err(error) = downlink.assign_sources(&sources)
                    {
                        debug!("assignment not applied: {error}");
                    }
                }
                CallOutput::Recording(recording) => {
                    info!(recording, "the conference's recording state");
                    if let Some(downlink) = &downlink {
                        downlink.set_recording(recording);
                    }
                }
                CallOutput::Slate(text) => {
                    if let Some(downlink) = &downlink
                        && let Err(error) = downlink.show_slate(&text)
                    {
                        debug!("slate not shown: {error}");
                    }
                }
                CallOutput::Chat(state) => {
                    debug!(?state, "the room system's chat");
                    chat.set(state);
                }
                CallOutput::Leg(command) => {
                    if command == LegCommand::Accept {
                        metrics.observe_call_setup(started.elapsed());
                    }
                    let _ = commands.send((call_id.clone(), command));
                }
                CallOutput::CloseMedia => {
                    _vtc_media = None;
                    // A reception's media not yet handed to the Meet leg ends here too.
                    let early = received.take().map(|r| r.downlink);
                    // Stopping the pipelines joins their threads: off the runtime.
                    let (leg, downlink, gauge) = (leg.take(), downlink.take(), graph_gauge.take());
                    tokio::task::spawn_blocking(move || {
                        drop(leg);
                        for downlink in [downlink, early].into_iter().flatten() {
                            downlink.stop();
                        }
                        // A call's pipelines free tens of megabytes: give them back.
                        pipelines::memory::release_free_memory();
                        drop(gauge);
                    });
                }
                CallOutput::Ended { ending, outcome } => {
                    metrics.count_gateway_ending(ending.label());
                    licence.finish(outcome);
                    return;
                }
            }
        }
        show_live(&call, &alias, &detail);
        let deadline = call.poll_timeout();
        let figures_due = figures_tick.tick();
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
                Done::Media(Ok(media)) => {
                    let Media { leg: built, events, downlink: down, downlink_events, offer } = media;
                    debug!(bytes = offer.len(), "media plane built, offer made");
                    let built = Arc::new(built);
                    graph_gauge = Some(GraphGauge::new(&metrics));
                    forward_events(events, media_tx.clone());
                    if let Some(reception::ReceptionMedia { vtc, slot, .. }) = received.take() {
                        // The room system's media, bound since the reception, now feeds Meet.
                        slot.fill(&built);
                        if let Some(video) = vtc.handles.get(1).cloned() {
                            built.input().on_keyframe_request(move || video.request_keyframe());
                        }
                        _vtc_media = Some(vtc);
                        leg = Some(built);
                        downlink = Some(down);
                        call.on_offer(Ok(offer), Instant::now());
                        continue;
                    }
                    let Some(downlink_events) = downlink_events else {
                        call.on_offer(Err("no downlink events".to_owned()), Instant::now());
                        continue;
                    };
                    match start_vtc_media(local_ip, vtc_plans.take(), &built, &down, &detail, &metrics) {
                        Ok(vtc) => {
                            let slot = Arc::new(reception::LegSlot::default());
                            slot.fill(&built);
                            send_downlink(downlink_events, &vtc, slot, media_tx.clone());
                            _vtc_media = Some(vtc);
                            leg = Some(built);
                            downlink = Some(down);
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
                    MediaEvent::PeerCertificateMismatch { presented } => {
                        warn!(?presented, "Meet's DTLS certificate does not match its answer");
                        call.on_transport_failed(now);
                    }
                    MediaEvent::DataChannelClosed { .. }
                    | MediaEvent::ConnectionState(pipelines::ConnectionState::Failed) => {
                        call.on_transport_failed(now);
                    }
                    MediaEvent::Error(error) => {
                        warn!("media plane failed: {error}");
                        call.on_media_failed(now);
                    }
                    MediaEvent::KeyframeRequested { rid, cause, outcome } => {
                        debug!(rid, ?cause, ?outcome, "Meet asked for a keyframe");
                        if cause != pipelines::KeyframeCause::Connected {
                            metrics.count_keyframe_request("meet", match outcome {
                                pipelines::KeyframeOutcome::Forced => "forced",
                                pipelines::KeyframeOutcome::Deferred => "deferred",
                                pipelines::KeyframeOutcome::Merged => "merged",
                            });
                        }
                    }
                    other => debug!(?other, "media event"),
                }
            }
            () = sleep => call.handle_timeout(Instant::now()),
            _ = figures_due => {
                if let (Some(leg), Some(downlink)) = (&leg, &downlink) {
                    figures::publish(
                        leg,
                        &meet_spec.layers,
                        &leg.input().stats(),
                        downlink,
                        &detail,
                        &metrics,
                        &mut published,
                    );
                }
            }
            _ = liveness_tick.tick() => {
                let now = Instant::now();
                if answered_at.is_none() && call.is_answered() {
                    answered_at = Some(now);
                }
                if let (Some(timeout), Some(since), Some(vtc)) =
                    (liveness.rtp_timeout, answered_at, &_vtc_media)
                    && vtc.rtp_idle_for(now).min(now - since) >= timeout
                {
                    warn!(?timeout, "no RTP from the room system: ending the call");
                    call.on_caller_silent(now);
                }
                if let Some(idle) = leg.as_ref().and_then(|leg| leg.idle_for())
                    && idle >= liveness.meet_timeout
                    && !call.is_ended()
                {
                    warn!(?idle, "nothing from Meet on the transport: ending the call");
                    call.on_meet_silent(now);
                }
            }
            () = licence.end_requested(), if !draining => {
                draining = true;
                call.shut_down(Instant::now());
            }
        }
    }
}

/// Shows where the call stands and its leg into Meet in `/status`, when they changed.
fn show_live(call: &GatewayCall, alias: &str, detail: &CallDetail) {
    let state = call.state();
    if detail.state() != state {
        detail.set_state(state);
    }
    let leg = call.meet_leg(alias);
    if detail.meet_leg().as_ref() != Some(&leg) {
        detail.set_meet_leg(leg);
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

/// Sends what the downlink makes to the room system, from a thread of its own (the downlink
/// reports on a std channel), and passes its keyframe wishes (a new decoder, loss on a Meet
/// stream) on to Meet as a PLI on that stream only; a failed downlink ends the call.
pub(crate) fn send_downlink(
    events: std_mpsc::Receiver<DownlinkEvent>,
    vtc: &VtcMedia,
    leg: Arc<reception::LegSlot>,
    task: mpsc::UnboundedSender<MediaEvent>,
) {
    let (audio, video) = (vtc.senders[0].clone(), vtc.senders[1].clone());
    std::thread::Builder::new()
        .name("tcn-downlink-out".to_owned())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                match event {
                    DownlinkEvent::VideoRtp(packet) => video.send_rtp(&packet),
                    DownlinkEvent::AudioRtp(packet) => audio.send_rtp(&packet),
                    DownlinkEvent::Error(error) => {
                        let _ = task.send(MediaEvent::Error(pipelines::PipelineError::Element {
                            element: "downlink".to_owned(),
                            message: error.to_string(),
                            debug: None,
                        }));
                    }
                    DownlinkEvent::KeyframeWanted { ssrc } => {
                        let sent = leg
                            .leg()
                            .is_some_and(|leg| leg.request_keyframe_from_meet(ssrc));
                        debug!(ssrc, sent, "keyframe asked of Meet");
                    }
                    DownlinkEvent::Stopped => break,
                    other => debug!(?other, "downlink event"),
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| warn!("cannot start the downlink sender thread: {e}"));
}

/// Binds the room system's sockets, feeding what it sends into the uplink and its keyframe
/// requests (PLI, FIR) into the downlink's encoder.
fn start_vtc_media(
    local_ip: std::net::IpAddr,
    plans: Option<Vec<VtcStreamPlan>>,
    leg: &Arc<MeetLeg>,
    downlink: &Arc<Downlink>,
    detail: &Arc<CallDetail>,
    metrics: &Metrics,
) -> Result<VtcMedia, String> {
    let mut plans = plans.ok_or("media started twice")?;
    for plan in &mut plans {
        let input = leg.input();
        plan.sink = if plan.media == "video" {
            let (downlink, metrics) = (Arc::clone(downlink), metrics.clone());
            plan.on_keyframe_request = Some(Arc::new(move || {
                metrics.count_keyframe_request("vtc", "received");
                downlink.request_keyframe();
            }));
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
    // Loss or a broken picture in what the room system sends: ask it for a keyframe (the
    // stream's core chooses PLI or FIR and keeps to its rate limit).
    if let Some(video) = media.handles.get(1).cloned() {
        leg.input()
            .on_keyframe_request(move || video.request_keyframe());
    }
    info!(streams = media.senders.len(), "room system media bound");
    Ok(media)
}
