//! Calls routed into Meet (`target = { kind = "meet", access_token = "<name>" }`): a far end
//! of the caller's [`UasLeg`] whose work is done by the call's own task
//! ([`crate::call::task`]). From the SIP stack's side it is thin: the leg's events go to the
//! task, and the task's [`LegCommand`]s (ring, answer, end) come back through the stack's
//! command channel to [`CallTable::command`](super::call_table::CallTable::command).
//!
//! At the INVITE the node checks everything it can before it says anything: the access token
//! has a connector, the dialled alias is a meeting ID, the room system offers a video and an
//! audio codec the media plane takes ([`super::gateway_media`]), and there are ports and a
//! licence.
//! The SDP answer is made now, on the node's ports, and sent with the 200 once the conference
//! has joined the gateway.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use meet::connector::{CallerProtocol, DialString, JoinInfo};
use meet::session::SessionSettings;
use pipelines::downlink::DownlinkSpec;
use pipelines::{MeetLegSpec, PortRange, UplinkSpec};
use routing::reception::VirtualReceptionConfig;
use signaling::sdp::{
    AudioCodec, CryptoPolicy, Endpoint, NegotiatedMedia, SessionDescription, VideoCodec,
};
use signaling::sip::message::{NameAddr, Request, Response};
use signaling::sip::transaction::TxId;
use tokio::sync::mpsc;
use tracing::info;

use super::call_table::{FarEnd, SipCall};
use super::gateway_media::{downlink_spec, gateway_caps, uplink_spec};
use super::leg::{LegConfig, LegEvent, UasLeg};
use super::peer::SipPeer;
use super::responses::{refused, sdp_offer, status};
use super::sdp_answer::{crypto_policy, endpoint, negotiate};
use crate::call::chat::ChatGate;
use crate::call::reception::ReceptionPlan;
use crate::call::stream_keys::StreamKeys;
use crate::call::task::{self, CallPlan, LegCommands, Liveness};
use crate::call::vtc_media::VtcStreamPlan;
use crate::calls::{CallDetail, CallKind, CallOutcome, Resolution, StreamStats};
use crate::live_view::{CallState, MeetLegView};
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// The SIP side of a gateway call.
pub(crate) struct MeetFarEnd {
    /// To the call's task.
    events: mpsc::UnboundedSender<LegEvent>,
    /// The answer to the room system's offer, sent with the 200.
    answer_sdp: String,
    /// What a new offer (re-INVITE, UPDATE) is answered with.
    session: AnsweredSession,
    /// Whether the conference takes the room system's chat now (set by the call's task).
    chat: Arc<ChatGate>,
}

/// What the first answer fixed, against which a new offer is answered: our endpoints, the
/// session's `o=` line, the agreed codecs (the media plane cannot change them mid-call) and
/// each stream's keys (audio, video).
struct AnsweredSession {
    endpoints: (Endpoint, Endpoint),
    session_id: u64,
    version: u64,
    crypto: CryptoPolicy,
    codecs: AgreedCodecs,
    keys: [Arc<StreamKeys>; 2],
}

impl MeetFarEnd {
    /// The SDP the 200 carries.
    pub(crate) fn answer_sdp(&self) -> &str {
        &self.answer_sdp
    }

    /// A new offer in the dialog (RFC 3264 §8): answered on the same ports with the same
    /// codecs. When it brings new SDES keys (RFC 4568 §7.1.4) our answer brings new keys too
    /// and both directions of every stream switch to them (what is in flight with the old
    /// keys still passes); otherwise the current answer stands. A change of codec cannot be
    /// made mid-call: 488, and the session goes on as it was.
    pub(crate) fn reoffer(&mut self, offer: &SessionDescription) -> Result<Option<String>, u16> {
        let session = &mut self.session;
        let (answer, negotiated) = negotiate(
            offer,
            session.endpoints,
            session.session_id,
            session.version + 1,
            session.crypto,
            &gateway_caps(),
        )?;
        if codecs(&negotiated) != session.codecs {
            info!("a new offer changes the codecs: refused");
            return Err(488);
        }
        let new_keys = [
            negotiated.audio.as_ref().and_then(|s| s.srtp.clone()),
            negotiated.video.as_ref().and_then(|s| s.srtp.clone()),
        ];
        let rekeyed = new_keys
            .iter()
            .zip(&session.keys)
            .any(|(new, old)| new.as_ref().map(|k| k.remote_key) != old.remote_key());
        if !rekeyed {
            return Ok(None);
        }
        for (new, old) in new_keys.into_iter().zip(&session.keys) {
            old.replace(new);
        }
        session.version += 1;
        info!("new SRTP keys from the room system: both directions re-keyed");
        self.answer_sdp = answer.to_string();
        Ok(Some(self.answer_sdp.clone()))
    }

    /// Whether the conference would take the text of `message` (a MESSAGE from the room
    /// system) now; `Err` is the refusal to send ([`crate::call::chat::refusal`]): 480 outside
    /// the conference, 403 while chat is restricted to hosts, 400 empty, 413 too long.
    pub(crate) fn check_message(&self, message: &Request) -> Result<(), Response> {
        let text = String::from_utf8_lossy(&message.body);
        self.chat.check(&text).map_err(|error| {
            let (code, phrase) = crate::call::chat::refusal(&error);
            info!(code, "a MESSAGE from the room system refused: {error}");
            message.response(status(code)).with_reason(phrase)
        })
    }

    /// Passes what the leg reports on to the call's task.
    pub(crate) fn on_leg_event(&self, event: &LegEvent) {
        // The task may have ended already; then nobody needs to know.
        let _ = self.events.send(event.clone());
    }
}

/// What starting a gateway call needs from the request path.
pub(crate) struct NewMeetCall<'a> {
    pub(crate) tx: TxId,
    pub(crate) request: &'a Request,
    pub(crate) peer: &'a SipPeer,
    /// Our media address.
    pub(crate) address: IpAddr,
    /// Our Contact.
    pub(crate) contact: NameAddr,
    /// What the caller dialled.
    pub(crate) target: Dialled<'a>,
}

/// What a call into Meet dialled.
pub(crate) enum Dialled<'a> {
    /// A meeting, through a routing rule.
    Meet {
        /// The alias after the rule's `replace`: the meeting ID.
        alias: &'a str,
        /// The rule's access token.
        access_token: &'a str,
    },
    /// A Virtual Reception, which asks for the meeting ID first ([`crate::call::reception`]).
    Reception {
        config: VirtualReceptionConfig,
        /// Whether the caller is registered to this node (for the reception's lookup).
        registered: bool,
    },
}

/// The user part of a routed alias (`sip:123@host` → `123`), which the connector's dial
/// string parses.
pub(crate) fn dial_user(alias: &str) -> &str {
    alias
        .split('@')
        .next()
        .unwrap_or_default()
        .trim_start_matches("sip:")
        .trim_start_matches("sips:")
}

/// Starts a call into Meet: the call to file (its leg unanswered; the task rings or answers
/// it), or the refusal to send.
pub(crate) fn start(
    shared: &Arc<Shared>,
    new: NewMeetCall<'_>,
    commands: &LegCommands,
) -> Result<SipCall, Response> {
    let request = new.request;
    let sip = shared.config().sip;
    let leg = UasLeg::new(
        new.tx,
        request,
        new.peer,
        LegConfig::new(shared, new.contact, new.address),
    )?;
    // The alias of the leg into Meet in the Live View: the meeting ID dialled (a reception's
    // own alias until the caller has typed one).
    let leg_alias = match &new.target {
        Dialled::Meet { alias, .. } => dial_user(alias).to_owned(),
        Dialled::Reception { config, .. } => config.alias.clone(),
    };
    let dialled = match new.target {
        Dialled::Meet {
            alias,
            access_token,
        } => {
            let connector = shared.meet_connectors.get(access_token).ok_or_else(|| {
                request
                    .response(status(503))
                    .with_reason("Service Unavailable - no Meet connector for this access token")
            })?;
            let dial = DialString::parse(dial_user(alias), connector.profile()).map_err(|e| {
                request
                    .response(status(404))
                    .with_reason(format!("Not Found - not a meeting ID: {e}"))
            })?;
            info!(dial = ?dial, token = access_token, "call into Meet");
            task::Dialled::Meet { dial, connector }
        }
        Dialled::Reception { config, registered } => {
            info!(reception = %config.name, "call to a Virtual Reception");
            task::Dialled::Reception(Box::new(ReceptionPlan {
                shared: Arc::clone(shared),
                config,
                source: new.peer.remote.ip(),
                registered,
                telephone_event: None,
            }))
        }
    };
    let offer = sdp_offer(request)?;
    let ports = &shared.media_ports;
    let (Ok(audio), Ok(video), Ok(ice)) = (ports.allocate(), ports.allocate(), ports.allocate())
    else {
        return Err(request
            .response(status(503))
            .with_reason("Service Unavailable - no media ports"));
    };
    let session_id = rand::random::<u32>().into();
    let (answer_sdp, negotiated) = negotiate(
        &offer,
        (endpoint(new.address, &audio), endpoint(new.address, &video)),
        session_id,
        1,
        crypto_policy(sip.media_encryption),
        &gateway_caps(),
    )
    .map_err(|code| request.response(status(code)))?;
    let endpoints = (endpoint(new.address, &audio), endpoint(new.address, &video));
    let crypto = crypto_policy(sip.media_encryption);
    let (uplink_spec, downlink_spec, vtc) = vtc_streams(&negotiated).ok_or_else(|| {
        request
            .response(status(488))
            .with_reason("Not Acceptable Here - a video and an audio stream are required")
    })?;
    let keys = [Arc::clone(&vtc[0].keys), Arc::clone(&vtc[1].keys)];
    let from = request.from().ok();
    let caller_uri = from.as_ref().map(|f| f.uri.to_string()).unwrap_or_default();
    let agreed = codecs(&negotiated);
    let codec_of = |media: &str| match media {
        "audio" => agreed.0.as_ref().map(|(c, _)| c.encoding_name()),
        _ => agreed.1.as_ref().map(|(c, _)| c.encoding_name()),
    };
    let detail = Arc::new(CallDetail {
        service: "meet".to_owned(),
        caller: super::peer::caller_view(request),
        state: Mutex::new(CallState::Connecting),
        // The leg into Meet is a participant whose alias is the meeting ID dialled.
        meet_leg: Mutex::new(Some(MeetLegView {
            alias: leg_alias,
            ..MeetLegView::default()
        })),
        streams: vtc
            .iter()
            .map(|plan| {
                StreamStats::new(plan.media, plan.rtp_port)
                    .with_codec(codec_of(plan.media).unwrap_or_default())
            })
            .collect(),
        ..CallDetail::default()
    });
    if let Some(video) = detail.streams.iter().find(|s| s.media == "video") {
        video.set_resolution_out(Resolution {
            width: downlink_spec.video.width,
            height: downlink_spec.video.height,
        });
    }
    let licence = shared
        .calls
        .admit_with(CallKind::Gateway, Some(Arc::clone(&detail)))
        .map_err(|e| refused(request, &CallRefusal::Admission(e)))?;
    let display_name = from
        .as_ref()
        .and_then(|f| f.display_name.clone())
        .or_else(|| from.as_ref().and_then(|f| f.uri.user.clone()))
        .unwrap_or_else(|| "Room system".to_owned());
    let call_id = request.call_id().unwrap_or_default().to_owned();
    let mut meet_spec = MeetLegSpec::new(PortRange {
        min: ice.rtp(),
        max: ice.rtcp(),
    });
    meet_spec.local_addresses = vec![new.address];
    info!(call = licence.id(), "gateway call admitted");
    let mut dialled = dialled;
    if let task::Dialled::Reception(reception) = &mut dialled {
        reception.telephone_event = negotiated.audio.as_ref().and_then(|audio| {
            audio
                .format
                .telephone_event
                .map(|pt| (pt, audio.format.clock_rate))
        });
    }
    let (events, leg_events) = mpsc::unbounded_channel();
    let settings = SessionSettings::default();
    let chat = Arc::new(ChatGate::new(settings.chat_max_chars));
    let plan = CallPlan {
        call_id,
        dialled,
        join: JoinInfo {
            display_name,
            caller_uri,
            protocol: CallerProtocol::Sip,
            call_id: request.call_id().unwrap_or_default().to_owned(),
        },
        settings,
        licence,
        detail,
        metrics: shared.metrics.clone(),
        vtc,
        local_ip: new.address,
        meet_spec,
        uplink_spec,
        downlink_spec,
        ports: vec![audio, video, ice],
        commands: commands.clone(),
        liveness: Liveness {
            rtp_timeout: Some(shared.config().media.rtp_timeout).filter(|t| !t.is_zero()),
            meet_timeout: shared.config().media.meet_timeout,
        },
        lobby: shared.config().meet.lobby,
        chat: Arc::clone(&chat),
    };
    tokio::spawn(task::run(plan, leg_events));
    Ok(SipCall {
        leg,
        far: FarEnd::Meet(MeetFarEnd {
            events,
            answer_sdp: answer_sdp.to_string(),
            session: AnsweredSession {
                endpoints,
                session_id,
                version: 1,
                crypto,
                codecs: codecs(&negotiated),
                keys,
            },
            chat,
        }),
        // The call's task holds the licence and finishes it with the call's ending.
        licence: None,
        local_outcome: CallOutcome::Completed,
    })
}

/// The agreed codec and payload type of (audio, video).
type AgreedCodecs = (Option<(AudioCodec, u8)>, Option<(VideoCodec, u8)>);

/// The agreed codecs and payload types of each stream.
fn codecs(negotiated: &NegotiatedMedia) -> AgreedCodecs {
    (
        negotiated
            .audio
            .as_ref()
            .map(|s| (s.format.codec, s.payload_type)),
        negotiated
            .video
            .as_ref()
            .map(|s| (s.format.codec.clone(), s.payload_type)),
    )
}

/// The uplink's input, the downlink's output and the room system's streams, when the answer
/// took a video and an audio stream ([`super::gateway_media`] maps the codecs).
fn vtc_streams(
    negotiated: &NegotiatedMedia,
) -> Option<(UplinkSpec, DownlinkSpec, Vec<VtcStreamPlan>)> {
    let audio = negotiated.audio.as_ref()?;
    let video = negotiated.video.as_ref()?;
    if matches!(video.format.codec, VideoCodec::Vp8) {
        return None;
    }
    let uplink = uplink_spec(audio, video);
    let downlink = downlink_spec(audio, video);
    // Per stream: the sockets and addresses, the keys, and what the RTP/RTCP core checks and
    // asks for (clock rate, payload types, feedback, our SSRC).
    let plan = |media: &'static str,
                local: &Endpoint,
                (remote_rtp, remote_rtcp): (std::net::SocketAddr, std::net::SocketAddr),
                mux: bool,
                srtp: &Option<signaling::sdp::SrtpContext>,
                (clock_rate, payload_types): (u32, Vec<u8>),
                rtcp_fb: signaling::sdp::RtcpFeedback,
                local_ssrc: u32| VtcStreamPlan {
        media,
        rtp_port: local.rtp_port,
        rtcp_port: (!mux).then_some(local.rtcp_port),
        remote_rtp,
        remote_rtcp,
        keys: Arc::new(StreamKeys::new(srtp.clone())),
        clock_rate,
        payload_types,
        rtcp_fb,
        local_ssrc,
        // Filled in by the task once the media plane exists.
        sink: Arc::new(|_: &[u8]| {}),
        on_keyframe_request: None,
    };
    let audio_ssrc = downlink.audio.ssrc;
    let video_ssrc = downlink.video.ssrc;
    Some((
        uplink,
        downlink,
        vec![
            plan(
                "audio",
                &audio.local,
                (audio.remote_rtp, audio.remote_rtcp),
                audio.rtcp_mux,
                &audio.srtp,
                (
                    audio.format.clock_rate,
                    std::iter::once(audio.payload_type)
                        .chain(audio.format.telephone_event)
                        .collect(),
                ),
                audio.rtcp_fb,
                audio_ssrc,
            ),
            plan(
                "video",
                &video.local,
                (video.remote_rtp, video.remote_rtcp),
                video.rtcp_mux,
                &video.srtp,
                (video.format.clock_rate, vec![video.payload_type]),
                video.rtcp_fb,
                video_ssrc,
            ),
        ],
    ))
}
