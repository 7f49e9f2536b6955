//! The Virtual Reception stage of a call: the room system dialled a reception's alias, so it
//! is answered at once, on the ports and codecs its offer agreed, and asked for the meeting ID
//! before any conference is joined. The same call (dialog, ports, licence, task) then goes on
//! into the conference the caller named ([`super::task`]).
//!
//! ```text
//!  INVITE ─► 200 (the gateway call's SDP answer) ─► room system media bound, downlink running
//!    slate "Enter the meeting ID followed by #", spoken prompt (prompts.rs) in the caller's codec
//!    digits: RFC 4733 on the audio stream + SIP INFO, de-duplicated ─► ReceptionCall (sans-IO)
//!    Route ─► the reception's lookup rules ─► a Meet target that resolves ─► Routed (the task
//!      connects it: no 180/200 again; the downlink's waiting slate shows until someone is seen)
//!    not found ─► a failed attempt (break-in defence counts it) ─► re-prompt
//!    too many failures ─► BYE with a Reason (CallEnding::Reception)
//! ```
//!
//! Until the call is routed the room system's video is dropped and its audio is read only for
//! telephone events; once routed both go to the Meet leg's uplink through a [`LegSlot`].

use std::net::IpAddr;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use meet::connector::{ConferenceRef, DialString, MeetConnector};
use pipelines::downlink::{Downlink, DownlinkSpec};
use pipelines::{MediaEvent, MeetLeg, UplinkInput};
use routing::Protocol;
use routing::reception::{ReceptionCall, ReceptionOutput, VirtualReceptionConfig};
use routing::router::Outcome;
use routing::rules::Target;
use signaling::dtmf::{DtmfDeduplicator, DtmfReceiver, parse_rtp};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use tracing::{debug, info, warn};

use super::ending::CallEnding;
use super::gateway::LegCommand;
use super::prompts;
use super::task::LegCommands;
use super::vtc_media::{VtcMedia, VtcStreamPlan};
use crate::call_routing::{RouteRequest, record_lookup_failure, route_entry};
use crate::calls::{CallDetail, CallLicence};
use crate::metrics::Metrics;
use crate::sip::{LegEnd, LegEvent};
use crate::state::Shared;

/// Where the room system's media goes once the call is routed: empty during the reception.
#[derive(Default)]
pub(crate) struct LegSlot {
    /// The Meet leg's uplink input (what the room system sends goes there).
    pub(crate) input: OnceLock<UplinkInput>,
    /// The Meet leg, for keyframe requests toward Meet.
    pub(crate) leg: OnceLock<Weak<MeetLeg>>,
}

impl LegSlot {
    /// Routes the room system's media into `leg` from now on.
    pub(crate) fn fill(&self, leg: &Arc<MeetLeg>) {
        let _ = self.input.set(leg.input());
        let _ = self.leg.set(Arc::downgrade(leg));
    }

    /// The Meet leg, while it lives.
    pub(crate) fn leg(&self) -> Option<Arc<MeetLeg>> {
        self.leg.get().and_then(Weak::upgrade)
    }
}

/// What a reception call needs besides the gateway call's plan.
pub(crate) struct ReceptionPlan {
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: VirtualReceptionConfig,
    /// The caller's signalling address and registration (break-in defence, rules).
    pub(crate) source: IpAddr,
    pub(crate) registered: bool,
    /// The telephone-event payload type and clock rate agreed on audio, if any.
    pub(crate) telephone_event: Option<(u8, u32)>,
}

/// The room system's media as the reception left it: bound, answered, the downlink running.
pub(crate) struct ReceptionMedia {
    pub(crate) vtc: VtcMedia,
    pub(crate) downlink: Arc<Downlink>,
    pub(crate) slot: Arc<LegSlot>,
}

/// How the reception stage ended.
pub(crate) enum Entered {
    /// The caller named a conference that exists: connect it, on this media.
    Routed {
        conference: ConferenceRef,
        connector: Arc<dyn MeetConnector>,
        media: ReceptionMedia,
    },
    /// The call is over (the leg has been told); `answered` for the licence's outcome.
    Ended { ending: CallEnding, answered: bool },
}

/// What the stage borrows from its task.
pub(crate) struct Stage<'a> {
    pub(crate) call_id: &'a str,
    pub(crate) commands: &'a LegCommands,
    pub(crate) leg_events: &'a mut mpsc::UnboundedReceiver<LegEvent>,
    pub(crate) media_tx: mpsc::UnboundedSender<MediaEvent>,
    pub(crate) media_events: &'a mut mpsc::UnboundedReceiver<MediaEvent>,
    pub(crate) licence: &'a mut CallLicence,
    pub(crate) detail: &'a Arc<CallDetail>,
    pub(crate) metrics: &'a Metrics,
    pub(crate) local_ip: IpAddr,
}

/// The slate's text: what to type, and how to end it.
fn slate_text(config: &VirtualReceptionConfig) -> String {
    match config.terminator.as_str() {
        "" => "Enter the meeting ID".to_owned(),
        key => format!("Enter the meeting ID followed by {key}"),
    }
}

/// Runs the reception until the caller is routed or the call ends.
pub(crate) async fn run(
    plan: ReceptionPlan,
    stage: Stage<'_>,
    vtc: Vec<VtcStreamPlan>,
    downlink_spec: DownlinkSpec,
) -> Entered {
    let Stage {
        call_id,
        commands,
        leg_events,
        media_tx,
        media_events,
        licence,
        detail,
        metrics,
        local_ip,
    } = stage;
    let end = |ending: CallEnding, answered: bool| {
        let leg = ending.leg(answered);
        let _ = commands.send((call_id.to_owned(), LegCommand::End(leg)));
        Entered::Ended { ending, answered }
    };
    let started = tokio::task::spawn_blocking(move || Downlink::start(downlink_spec)).await;
    let (downlink, downlink_events) = match started {
        Ok(Ok((downlink, events))) => (Arc::new(downlink), events),
        Ok(Err(error)) => {
            warn!("reception: the downlink would not start: {error}");
            return end(CallEnding::MediaFailed, false);
        }
        Err(error) => {
            warn!("reception: the downlink start panicked: {error}");
            return end(CallEnding::MediaFailed, false);
        }
    };
    let slot = Arc::new(LegSlot::default());
    let (dtmf_tx, mut dtmf_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let plans = route_media(
        vtc,
        &slot,
        &downlink,
        plan.telephone_event,
        dtmf_tx,
        metrics,
    );
    let vtc = match VtcMedia::start(local_ip, plans, Arc::clone(detail), metrics.clone()) {
        Ok(vtc) => vtc,
        Err(error) => {
            warn!("reception: cannot bind the room system's ports: {error}");
            stop(downlink);
            return end(CallEnding::MediaFailed, false);
        }
    };
    super::task::send_downlink(downlink_events, &vtc, Arc::clone(&slot), media_tx);
    let _ = commands.send((call_id.to_owned(), LegCommand::Accept));
    info!(reception = %plan.config.name, "reception answered");
    if let Err(error) = downlink.show_message(&slate_text(&plan.config)) {
        debug!("reception slate not shown: {error}");
    }

    // RFC 4733 on the audio stream and INFO digits, each digit taken once.
    let mut dtmf = DtmfReceiver::new(
        plan.telephone_event.map_or(101, |(pt, _)| pt),
        plan.telephone_event.map_or(8_000, |(_, rate)| rate),
    );
    let mut dedup = DtmfDeduplicator::new();
    let mut call = ReceptionCall::new(&plan.config, Instant::now());
    let media = |vtc, downlink| ReceptionMedia {
        vtc,
        downlink,
        slot: Arc::clone(&slot),
    };
    loop {
        while let Some(output) = call.poll_output() {
            match output {
                ReceptionOutput::Play { prompt } => {
                    play(&downlink, &prompt, metrics);
                }
                ReceptionOutput::Route { alias, rules } => {
                    match lookup(&plan, &alias, &rules).await {
                        Some((conference, connector)) => {
                            call.handle_lookup(true, Instant::now());
                            info!(reception = %plan.config.name, "reception routed the caller");
                            // The waiting slate until the conference shows someone.
                            let _ = downlink.assign_sources(&[]);
                            return Entered::Routed {
                                conference,
                                connector,
                                media: media(vtc, downlink),
                            };
                        }
                        None => call.handle_lookup(false, Instant::now()),
                    }
                }
                ReceptionOutput::Disconnect { reason } => {
                    info!(reason = reason.label(), "reception disconnects the caller");
                    drop(vtc);
                    stop(downlink);
                    return end(CallEnding::Reception(reason), true);
                }
            }
        }
        let deadline = [call.poll_timeout(), dtmf.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(TokioInstant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = leg_events.recv() => {
                let now = Instant::now();
                match event {
                    Some(LegEvent::Dtmf(event)) => {
                        if dedup.accept(&event, now) {
                            call.handle_dtmf(event.digit, now);
                        }
                    }
                    Some(LegEvent::Ended(why)) => {
                        call.handle_hangup(now);
                        drop(vtc);
                        stop(downlink);
                        return Entered::Ended { ending: caller_ending(&why), answered: true };
                    }
                    Some(_) => {}
                    None => {
                        drop(vtc);
                        stop(downlink);
                        return Entered::Ended { ending: CallEnding::CallerLost, answered: true };
                    }
                }
            }
            Some(packet) = dtmf_rx.recv() => {
                let now = Instant::now();
                if let Ok((header, payload)) = parse_rtp(&packet)
                    && let Some(event) = dtmf.handle_rtp(&header, payload, now)
                    && dedup.accept(&event, now)
                {
                    call.handle_dtmf(event.digit, now);
                }
            }
            Some(event) = media_events.recv() => {
                if let MediaEvent::Error(error) = event {
                    warn!("reception media failed: {error}");
                    drop(vtc);
                    stop(downlink);
                    return end(CallEnding::MediaFailed, true);
                }
            }
            () = sleep => {
                let now = Instant::now();
                while let Some(event) = dtmf.handle_timeout(now) {
                    if dedup.accept(&event, now) {
                        call.handle_dtmf(event.digit, now);
                    }
                }
                call.handle_timeout(now);
            }
            () = licence.end_requested() => {
                drop(vtc);
                stop(downlink);
                return end(CallEnding::Shutdown, true);
            }
        }
    }
}

/// How the caller's own ending maps (as in [`super::gateway::GatewayCall::on_leg`]).
fn caller_ending(end: &LegEnd) -> CallEnding {
    match end {
        LegEnd::Bye | LegEnd::Local => CallEnding::CallerHungUp,
        LegEnd::Cancelled => CallEnding::CallerCancelled,
        LegEnd::NoAck | LegEnd::SessionExpired | LegEnd::RefreshFailed => CallEnding::CallerLost,
    }
}

/// Plays prompt `name`, counted in `tcn_reception_prompts_total`.
fn play(downlink: &Downlink, name: &str, metrics: &Metrics) {
    let Some(prompt) = prompts::get(name) else {
        warn!(prompt = name, "no such prompt: the caller hears nothing");
        return;
    };
    metrics.count_reception_prompt(name);
    if let Err(error) = downlink.play_prompt(&prompt.samples, prompt.rate) {
        debug!(prompt = name, "prompt not played: {error}");
    }
}

/// Routes the entered `alias` with the reception's `rules`; `Some` when it names a Meet
/// conference that resolves (that conference, and the connector of the rule's token). A conference that does not resolve counts toward break-in
/// defence like a lookup that matched nothing (which `route_entry` counts itself).
async fn lookup(
    plan: &ReceptionPlan,
    alias: &str,
    rules: &[String],
) -> Option<(ConferenceRef, Arc<dyn MeetConnector>)> {
    let request = RouteRequest {
        alias,
        protocol: Protocol::Sip,
        source: plan.source,
        registered: plan.registered,
    };
    let lookup = route_entry(&plan.shared, &request, rules, Instant::now()).ok()?;
    let Outcome::Routed { decision, .. } = &lookup.outcome else {
        return None;
    };
    let Target::Meet { access_token, .. } = &decision.target else {
        info!("reception: the entry routes to a target other than Meet");
        return None;
    };
    let connector = plan.shared.meet_connectors.get(access_token)?;
    let user = crate::sip::dial_user(&decision.alias);
    let Ok(dial) = DialString::parse(user, connector.profile()) else {
        record_lookup_failure(&plan.shared, plan.source, Instant::now());
        return None;
    };
    match connector.resolve(&dial).await {
        Ok(conference) => Some((conference, connector)),
        Err(error) => {
            info!("reception: the entered meeting does not resolve: {error}");
            record_lookup_failure(&plan.shared, plan.source, Instant::now());
            None
        }
    }
}

/// The room system's streams with their sinks: until `slot` is filled, telephone events on
/// audio go to `dtmf` and everything else is dropped; then all of it goes to the Meet leg.
/// Keyframe requests from the room system go to the downlink's encoder.
fn route_media(
    mut plans: Vec<VtcStreamPlan>,
    slot: &Arc<LegSlot>,
    downlink: &Arc<Downlink>,
    telephone_event: Option<(u8, u32)>,
    dtmf: mpsc::UnboundedSender<Vec<u8>>,
    metrics: &Metrics,
) -> Vec<VtcStreamPlan> {
    for plan in &mut plans {
        let slot = Arc::clone(slot);
        if plan.media == "video" {
            let (downlink, metrics) = (Arc::clone(downlink), metrics.clone());
            plan.on_keyframe_request = Some(Arc::new(move || {
                metrics.count_keyframe_request("vtc", "received");
                downlink.request_keyframe();
            }));
            plan.sink = Arc::new(move |packet| {
                if let Some(input) = slot.input.get() {
                    let _ = input.push_video_rtp(packet);
                }
            });
        } else {
            let dtmf = dtmf.clone();
            let event_pt = telephone_event.map(|(pt, _)| pt);
            plan.sink = Arc::new(move |packet| {
                if let Some(input) = slot.input.get() {
                    let _ = input.push_audio_rtp(packet);
                } else if event_pt.is_some() && packet.get(1).map(|b| b & 0x7f) == event_pt {
                    let _ = dtmf.send(packet.to_vec());
                }
            });
        }
    }
    plans
}

/// Stops a downlink off the runtime (it joins its threads).
fn stop(downlink: Arc<Downlink>) {
    tokio::task::spawn_blocking(move || downlink.stop());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slate_names_the_terminator() {
        let mut config = VirtualReceptionConfig::new("gmeet", "gmeet@example.com");
        assert_eq!(slate_text(&config), "Enter the meeting ID followed by #");
        config.terminator = "*".to_owned();
        assert_eq!(slate_text(&config), "Enter the meeting ID followed by *");
        config.terminator = String::new();
        assert_eq!(slate_text(&config), "Enter the meeting ID");
    }

    #[test]
    fn the_callers_own_endings_map_as_for_a_gateway_call() {
        assert_eq!(caller_ending(&LegEnd::Bye), CallEnding::CallerHungUp);
        assert_eq!(
            caller_ending(&LegEnd::Cancelled),
            CallEnding::CallerCancelled
        );
        for lost in [LegEnd::NoAck, LegEnd::SessionExpired, LegEnd::RefreshFailed] {
            assert_eq!(caller_ending(&lost), CallEnding::CallerLost);
        }
    }
}
