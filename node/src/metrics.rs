//! Prometheus metrics: the node's only metric registry.
//!
//! Counters are incremented where the event happens; gauges are refreshed from the node's state
//! on every scrape ([`Metrics::render`]), so they can never drift from what `/status` says.

use prometheus::{Encoder, Gauge, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::calls::CallOutcome;
use crate::srtp::SrtpError;
use crate::status::Snapshot;

/// Result label of `tcn_config_reloads_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadResult {
    /// The new file passed every check and is in force.
    Applied,
    /// The new file was refused; the previous configuration stays in force.
    Rejected,
}

impl ReloadResult {
    fn label(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Rejected => "rejected",
        }
    }
}

/// Every series the node exports.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// `tcn_calls_total{outcome}`: calls ended, by outcome.
    pub(crate) calls_total: IntCounterVec,
    config_reloads_total: IntCounterVec,
    calls_active: IntGaugeVec,
    live: LiveMetrics,
    calls_max: IntGauge,
    media_ports_in_use: IntGauge,
    media_ports_total: IntGauge,
    load_ratio: Gauge,
    gpu_present: IntGauge,
    ready: IntGauge,
    uptime: Gauge,
    gateway_token_expiry: Gauge,
    alarm_active: IntGaugeVec,
    media_element_available: IntGaugeVec,
    route_lookups_total: IntCounterVec,
    sip_requests_total: IntCounterVec,
    sip_responses_total: IntCounterVec,
    sip_parse_errors_total: prometheus::IntCounter,
    sip_transactions_active: IntGauge,
    registrations_active: IntGauge,
    /// `tcn_media_graphs_active`: gateway calls whose media plane (Meet leg, uplink, downlink)
    /// is running.
    pub(crate) media_graphs_active: IntGauge,
    process_threads: IntGauge,
    process_resident_bytes: IntGauge,
    runtime_tasks_alive: IntGauge,
    rtp_packets_received_total: IntCounterVec,
    gateway_call_endings_total: IntCounterVec,
    keyframe_requests_total: IntCounterVec,
    srtp_errors_total: IntCounterVec,
    vtc: VtcStreamMetrics,
    video_frames_total: IntCounterVec,
    decode_errors_total: IntCounterVec,
    break_in_blocks_total: prometheus::IntCounter,
    break_in_blocked_sources: IntGauge,
    routing_rules: IntGauge,
    reception_prompts_total: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every series. `build` carries the `tcn_build_info` labels.
    pub fn new(version: &str, revision: &str, gstreamer: &str) -> Self {
        let registry = Registry::new();
        let reg = |c: Box<dyn prometheus::core::Collector>| {
            // Names are constants and distinct, so registration cannot fail.
            registry.register(c).expect("metric names are unique");
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric name");
            reg(Box::new(g.clone()));
            g
        };
        let vec = |name: &str, help: &str, label: &str| {
            let v = IntGaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            reg(Box::new(v.clone()));
            v
        };

        let build_info = IntGaugeVec::new(
            Opts::new(
                "tcn_build_info",
                "Build of this node; the value is always 1.",
            ),
            &["version", "revision", "gstreamer"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[version, revision, gstreamer])
            .set(1);
        reg(Box::new(build_info));
        gauge("tcn_up", "1 while the node process runs.").set(1);

        let calls_total = IntCounterVec::new(
            Opts::new("tcn_calls_total", "Gateway calls ended, by outcome."),
            &["outcome"],
        )
        .expect("valid metric");
        for outcome in CallOutcome::ALL {
            calls_total.with_label_values(&[outcome.label()]);
        }
        reg(Box::new(calls_total.clone()));

        let config_reloads_total = IntCounterVec::new(
            Opts::new(
                "tcn_config_reloads_total",
                "Configuration reloads (SIGHUP), by result.",
            ),
            &["result"],
        )
        .expect("valid metric");
        for result in [ReloadResult::Applied, ReloadResult::Rejected] {
            config_reloads_total.with_label_values(&[result.label()]);
        }
        reg(Box::new(config_reloads_total.clone()));

        let load_ratio = Gauge::new(
            "tcn_load_ratio",
            "Active calls divided by the call limit (1 = full).",
        )
        .expect("valid metric");
        reg(Box::new(load_ratio.clone()));
        let uptime =
            Gauge::new("tcn_uptime_seconds", "Seconds since the node started.").expect("valid");
        reg(Box::new(uptime.clone()));
        let gateway_token_expiry = Gauge::new(
            "tcn_gateway_token_expiry_seconds",
            "Seconds until the Google Meet gateway token expires (negative once expired; NaN \
             when none is configured).",
        )
        .expect("valid");
        reg(Box::new(gateway_token_expiry.clone()));

        let route_lookups_total = IntCounterVec::new(
            Opts::new(
                "tcn_route_lookups_total",
                "Routing lookups of incoming calls and IVR entries, by result.",
            ),
            &["result"],
        )
        .expect("valid metric");
        for result in crate::call_routing::LOOKUP_RESULTS {
            route_lookups_total.with_label_values(&[result]);
        }
        reg(Box::new(route_lookups_total.clone()));
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let v = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            reg(Box::new(v.clone()));
            v
        };
        let sip_requests_total = counter_vec(
            "tcn_sip_requests_total",
            "SIP requests received, by method (known methods, else `other`) and transport.",
            &["method", "transport"],
        );
        let sip_responses_total = counter_vec(
            "tcn_sip_responses_total",
            "SIP responses sent, by status code.",
            &["code"],
        );
        let rtp_packets_received_total = counter_vec(
            "tcn_rtp_packets_received_total",
            "RTP packets received on call media ports, by media.",
            &["media"],
        );
        for media in ["audio", "video"] {
            rtp_packets_received_total.with_label_values(&[media]);
        }
        let reception_prompts_total = counter_vec(
            "tcn_reception_prompts_total",
            "Spoken prompts played by Virtual Receptions, by prompt (the first ask, and each \
             re-prompt after a wrong or missing meeting ID).",
            &["prompt"],
        );
        for prompt in crate::call::prompts::names() {
            reception_prompts_total.with_label_values(&[prompt]);
        }
        let gateway_call_endings_total = counter_vec(
            "tcn_gateway_call_endings_total",
            "Gateway calls into Meet ended, by how they ended (the call controller's table).",
            &["ending"],
        );
        let keyframe_requests_total = counter_vec(
            "tcn_keyframe_requests_total",
            "Keyframe requests received on gateway calls, by where they came from (meet: per \
             simulcast layer; vtc: the room system) and what became of them.",
            &["from", "outcome"],
        );
        for (from, outcome) in [
            ("meet", "forced"),
            ("meet", "deferred"),
            ("meet", "merged"),
            ("vtc", "received"),
        ] {
            keyframe_requests_total.with_label_values(&[from, outcome]);
        }
        let srtp_errors_total = counter_vec(
            "tcn_srtp_errors_total",
            "SRTP and SRTCP packets refused on call media ports, by reason.",
            &["reason"],
        );
        for reason in SrtpError::LABELS {
            srtp_errors_total.with_label_values(&[reason]);
        }
        let video_frames_total = counter_vec(
            "tcn_media_video_frames_total",
            "Video frames through gateway calls' media planes, by direction (vtc_in: decoded \
             from room systems; vtc_out: encoded toward them; meet_out: encoded toward Meet, \
             all layers; meet_in: decoded from Meet).",
            &["direction"],
        );
        let decode_errors_total = counter_vec(
            "tcn_media_decode_errors_total",
            "Decoder errors on gateway calls (vtc_in: room systems' video; meet_in: Meet's \
             streams); the stream recovers at its next keyframe.",
            &["direction"],
        );
        for direction in ["vtc_in", "vtc_out", "meet_out", "meet_in"] {
            video_frames_total.with_label_values(&[direction]);
        }
        for direction in ["vtc_in", "meet_in"] {
            decode_errors_total.with_label_values(&[direction]);
        }
        let vtc = VtcStreamMetrics {
            packets: counter_vec(
                "tcn_vtc_rtp_packets_total",
                "RTP packets on gateway calls' room-system legs, by media and direction (in: \
                 passed on to the media plane; out: sent to the room system).",
                &["media", "direction"],
            ),
            bytes: counter_vec(
                "tcn_vtc_rtp_bytes_total",
                "RTP bytes (headers included) on gateway calls' room-system legs, by media and \
                 direction.",
                &["media", "direction"],
            ),
            lost: counter_vec(
                "tcn_vtc_rtp_lost_packets_total",
                "RTP packets from room systems found missing (RFC 3550 A.3), by media.",
                &["media"],
            ),
            dropped: counter_vec(
                "tcn_vtc_rtp_dropped_total",
                "RTP packets from room systems not passed on, by media and reason.",
                &["media", "reason"],
            ),
            ssrc_changes: counter_vec(
                "tcn_vtc_ssrc_changes_total",
                "Room systems' SSRC changes taken after probation, by media.",
                &["media"],
            ),
            rtcp: counter_vec(
                "tcn_vtc_rtcp_packets_total",
                "Compound RTCP packets on room-system legs, by media and direction (in: read; \
                 out: sent; error: refused as malformed).",
                &["media", "direction"],
            ),
            keyframes: counter_vec(
                "tcn_vtc_keyframe_requests_total",
                "Keyframe requests on room-system legs, by direction (sent to the room system, \
                 received from it, dropped: not sent by the 500 ms limit) and message (pli, fir; \
                 none for dropped).",
                &["direction", "message"],
            ),
            jitter: {
                let h = prometheus::HistogramVec::new(
                    prometheus::HistogramOpts::new(
                        "tcn_vtc_rtp_jitter_seconds",
                        "Interarrival jitter of room systems' RTP (RFC 3550 A.8), sampled every \
                         250 ms per stream, by media.",
                    )
                    .buckets(vec![0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]),
                    &["media"],
                )
                .expect("valid metric");
                reg(Box::new(h.clone()));
                h
            },
        };
        for media in ["audio", "video"] {
            for direction in ["in", "out"] {
                vtc.packets.with_label_values(&[media, direction]);
                vtc.bytes.with_label_values(&[media, direction]);
            }
            for direction in ["in", "out", "error"] {
                vtc.rtcp.with_label_values(&[media, direction]);
            }
            vtc.lost.with_label_values(&[media]);
            vtc.ssrc_changes.with_label_values(&[media]);
            for reason in crate::rtp::Dropped::LABELS {
                vtc.dropped.with_label_values(&[media, reason]);
            }
        }
        for (direction, message) in [
            ("sent", "pli"),
            ("sent", "fir"),
            ("received", "pli"),
            ("received", "fir"),
            ("dropped", "none"),
        ] {
            vtc.keyframes.with_label_values(&[direction, message]);
        }
        let sip_parse_errors_total = prometheus::IntCounter::new(
            "tcn_sip_parse_errors_total",
            "SIP messages that could not be parsed (answered 400 where possible).",
        )
        .expect("valid metric");
        reg(Box::new(sip_parse_errors_total.clone()));
        let break_in_blocks_total = prometheus::IntCounter::new(
            "tcn_break_in_blocks_total",
            "Sources blocked by break-in defence after repeated failed lookups.",
        )
        .expect("valid metric");
        reg(Box::new(break_in_blocks_total.clone()));

        let calls_active = IntGaugeVec::new(
            Opts::new(
                "tcn_calls_active",
                "Calls in progress, by the caller's protocol and the call's state (connecting, \
                 lobby, joined: gateway calls; connected: the others).",
            ),
            &["protocol", "state"],
        )
        .expect("valid metric");
        reg(Box::new(calls_active.clone()));
        let stream_vec = |name: &str, help: &str| {
            let v =
                prometheus::GaugeVec::new(Opts::new(name, help), &["call", "stream", "direction"])
                    .expect("valid metric");
            reg(Box::new(v.clone()));
            v
        };
        let live = LiveMetrics {
            licenses_in_use: gauge(
                "tcn_licenses_in_use",
                "Call licences held by the calls in progress (2 per gateway call, one per leg).",
            ),
            licenses_total: gauge(
                "tcn_licenses_total",
                "The pool of call licences (capacity.licenses); 0 = no limit.",
            ),
            full: gauge(
                "tcn_full",
                "1 while a gateway call would be refused (max_calls, licences, CPU, draining): \
                 OPTIONS answers 503.",
            ),
            stream_bitrate: stream_vec(
                "tcn_stream_bitrate_bps",
                "Bit rate of each media stream of each call in progress, by node-local call id, \
                 stream (vtc_audio, vtc_video; meet_video_<rid> sent to Meet; \
                 meet_<media>_<ssrc> received from Meet) and direction (in: received by the \
                 node, out: sent), over the last second.",
            ),
            stream_loss: stream_vec(
                "tcn_stream_loss_ratio",
                "Fraction of packets lost on each stream: room-system streams in the last RTCP \
                 interval (in: what the node receives; out: what the room system reports \
                 receiving); streams from Meet since they started.",
            ),
            stream_jitter: stream_vec(
                "tcn_stream_jitter_seconds",
                "Interarrival jitter on each stream: in, as the node measures it (room system \
                 and Meet); out, as the room system reports it.",
            ),
            call_setup: {
                let h = prometheus::Histogram::with_opts(
                    prometheus::HistogramOpts::new(
                        "tcn_call_setup_seconds",
                        "Gateway calls: time from the INVITE to the 200 OK (a wait in the lobby \
                         included).",
                    )
                    .buckets(vec![0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0]),
                )
                .expect("valid metric");
                reg(Box::new(h.clone()));
                h
            },
        };

        Self {
            calls_active,
            live,
            calls_max: gauge(
                "tcn_calls_max",
                "Call limit in force (capacity.max_calls or derived).",
            ),
            media_ports_in_use: gauge("tcn_media_ports_in_use", "Media ports allocated to calls."),
            media_ports_total: gauge(
                "tcn_media_ports_total",
                "Media ports in media.port_range usable as RTP/RTCP pairs.",
            ),
            gpu_present: gauge(
                "tcn_gpu_present",
                "1 when a usable NVIDIA GPU was found at start-up.",
            ),
            ready: gauge(
                "tcn_ready",
                "1 while the node accepts calls, 0 while draining.",
            ),
            alarm_active: vec(
                "tcn_alarm_active",
                "1 while the named alarm is raised.",
                "alarm",
            ),
            media_element_available: vec(
                "tcn_media_element_available",
                "1 when the GStreamer element of the media plan is installed.",
                "element",
            ),
            break_in_blocked_sources: gauge(
                "tcn_break_in_blocked_sources",
                "Source addresses blocked by break-in defence now.",
            ),
            routing_rules: gauge("tcn_routing_rules", "Call Routing Rules in force."),
            sip_transactions_active: gauge(
                "tcn_sip_transactions_active",
                "SIP transactions in progress.",
            ),
            registrations_active: gauge(
                "tcn_registrations_active",
                "Registration bindings in force.",
            ),
            media_graphs_active: gauge(
                "tcn_media_graphs_active",
                "Gateway calls whose media pipelines (Meet leg, uplink, downlink) are running.",
            ),
            process_threads: gauge(
                "tcn_process_threads",
                "Threads of the node process (from /proc/self/status).",
            ),
            process_resident_bytes: gauge(
                "tcn_process_resident_bytes",
                "Resident memory of the node process (VmRSS in /proc/self/status).",
            ),
            runtime_tasks_alive: gauge(
                "tcn_runtime_tasks_alive",
                "Tasks alive in the node's async runtime (each call holds several).",
            ),
            sip_requests_total,
            sip_responses_total,
            sip_parse_errors_total,
            rtp_packets_received_total,
            gateway_call_endings_total,
            reception_prompts_total,
            keyframe_requests_total,
            srtp_errors_total,
            vtc,
            video_frames_total,
            decode_errors_total,
            route_lookups_total,
            break_in_blocks_total,
            registry,
            calls_total,
            config_reloads_total,
            load_ratio,
            uptime,
            gateway_token_expiry,
        }
    }

    /// Counts one configuration reload.
    pub(crate) fn count_reload(&self, result: ReloadResult) {
        self.config_reloads_total
            .with_label_values(&[result.label()])
            .inc();
    }

    /// Counts one routing lookup by result label.
    pub(crate) fn count_lookup(&self, result: &str) {
        self.route_lookups_total.with_label_values(&[result]).inc();
    }

    /// Counts one SIP request received.
    pub(crate) fn count_sip_request(&self, method: &str, transport: &str) {
        const KNOWN: [&str; 14] = [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "OPTIONS",
            "REGISTER",
            "INFO",
            "MESSAGE",
            "UPDATE",
            "PRACK",
            "SUBSCRIBE",
            "NOTIFY",
            "REFER",
            "PUBLISH",
        ];
        let method = if KNOWN.contains(&method) {
            method
        } else {
            "other"
        };
        self.sip_requests_total
            .with_label_values(&[method, transport])
            .inc();
    }

    /// Counts one SIP response sent.
    pub(crate) fn count_sip_response(&self, code: u16) {
        self.sip_responses_total
            .with_label_values(&[&code.to_string()])
            .inc();
    }

    /// Counts one message that could not be parsed.
    pub(crate) fn count_sip_parse_error(&self) {
        self.sip_parse_errors_total.inc();
    }

    /// Sets the number of SIP transactions in progress.
    pub(crate) fn set_sip_transactions(&self, active: usize) {
        self.sip_transactions_active
            .set(i64::try_from(active).unwrap_or(i64::MAX));
    }

    /// Sets the number of registration bindings.
    pub(crate) fn set_registrations(&self, active: usize) {
        self.registrations_active
            .set(i64::try_from(active).unwrap_or(i64::MAX));
    }

    /// Counts one RTP packet received on a call's media port.
    pub(crate) fn count_rtp(&self, media: &'static str) {
        self.rtp_packets_received_total
            .with_label_values(&[media])
            .inc();
    }

    /// Counts one ended gateway call by its ending's label.
    pub(crate) fn count_gateway_ending(&self, ending: &'static str) {
        self.gateway_call_endings_total
            .with_label_values(&[ending])
            .inc();
    }

    /// Counts one prompt played by a Virtual Reception.
    pub(crate) fn count_reception_prompt(&self, prompt: &str) {
        self.reception_prompts_total
            .with_label_values(&[prompt])
            .inc();
    }

    /// Counts one keyframe request on a gateway call: `from` is `meet` or `vtc`.
    pub(crate) fn count_keyframe_request(&self, from: &'static str, outcome: &'static str) {
        self.keyframe_requests_total
            .with_label_values(&[from, outcome])
            .inc();
    }

    /// Adds `frames` video frames in `direction` (`vtc_in`, `vtc_out`, `meet_out`, `meet_in`).
    pub(crate) fn count_video_frames(&self, direction: &'static str, frames: u64) {
        self.video_frames_total
            .with_label_values(&[direction])
            .inc_by(frames);
    }

    /// Adds `errors` decoder errors in `direction` (`vtc_in`, `meet_in`).
    pub(crate) fn count_decode_errors(&self, direction: &'static str, errors: u64) {
        self.decode_errors_total
            .with_label_values(&[direction])
            .inc_by(errors);
    }

    /// Counts one SRTP or SRTCP packet refused on a call's media port.
    pub(crate) fn count_srtp_error(&self, error: SrtpError) {
        self.srtp_errors_total
            .with_label_values(&[error.label()])
            .inc();
    }

    /// Adds what a room-system stream's figures gained since `before` (the last figures
    /// published) to the `tcn_vtc_*` series, and samples its jitter.
    pub(crate) fn count_vtc_stream(
        &self,
        media: &'static str,
        before: &crate::rtp::StreamFigures,
        after: &crate::rtp::StreamFigures,
    ) {
        let add = |counter: prometheus::IntCounter, old: u64, new: u64| {
            counter.inc_by(new.saturating_sub(old));
        };
        let m = &self.vtc;
        add(
            m.packets.with_label_values(&[media, "in"]),
            before.packets_in,
            after.packets_in,
        );
        add(
            m.packets.with_label_values(&[media, "out"]),
            before.packets_out,
            after.packets_out,
        );
        add(
            m.bytes.with_label_values(&[media, "in"]),
            before.bytes_in,
            after.bytes_in,
        );
        add(
            m.bytes.with_label_values(&[media, "out"]),
            before.bytes_out,
            after.bytes_out,
        );
        add(
            m.lost.with_label_values(&[media]),
            before.lost.max(0) as u64,
            after.lost.max(0) as u64,
        );
        add(
            m.ssrc_changes.with_label_values(&[media]),
            before.ssrc_changes,
            after.ssrc_changes,
        );
        let (b, a) = (before.dropped, after.dropped);
        for (reason, old, new) in [
            ("malformed", b.malformed, a.malformed),
            ("payload_type", b.payload_type, a.payload_type),
            ("ssrc_probation", b.ssrc_probation, a.ssrc_probation),
            ("sequence_jump", b.sequence_jump, a.sequence_jump),
        ] {
            add(m.dropped.with_label_values(&[media, reason]), old, new);
        }
        add(
            m.rtcp.with_label_values(&[media, "in"]),
            before.rtcp_received,
            after.rtcp_received,
        );
        add(
            m.rtcp.with_label_values(&[media, "out"]),
            before.rtcp_sent,
            after.rtcp_sent,
        );
        add(
            m.rtcp.with_label_values(&[media, "error"]),
            before.rtcp_errors,
            after.rtcp_errors,
        );
        let (b, a) = (before.keyframe_requests, after.keyframe_requests);
        for (direction, message, old, new) in [
            ("sent", "pli", b.sent_pli, a.sent_pli),
            ("sent", "fir", b.sent_fir, a.sent_fir),
            ("received", "pli", b.received_pli, a.received_pli),
            ("received", "fir", b.received_fir, a.received_fir),
            ("dropped", "none", b.dropped, a.dropped),
        ] {
            add(
                m.keyframes.with_label_values(&[direction, message]),
                old,
                new,
            );
        }
        if after.ssrc_in.is_some() {
            m.jitter
                .with_label_values(&[media])
                .observe(after.jitter_ms / 1000.0);
        }
    }

    /// Observes the INVITE → 200 time of one gateway call.
    pub(crate) fn observe_call_setup(&self, setup: std::time::Duration) {
        self.live.call_setup.observe(setup.as_secs_f64());
    }

    /// Counts one source newly blocked by break-in defence.
    pub(crate) fn count_break_in_block(&self) {
        self.break_in_blocks_total.inc();
    }

    /// Refreshes the gauges from `snapshot` and encodes every series in the text format.
    pub(crate) fn render(&self, snapshot: &Snapshot) -> String {
        let gauge = |g: &IntGauge, v: usize| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        self.live.render(&self.calls_active, snapshot);
        gauge(&self.calls_max, snapshot.capacity.max_calls as usize);
        gauge(&self.media_ports_in_use, snapshot.media_ports.in_use);
        gauge(&self.media_ports_total, snapshot.media_ports.total);
        self.load_ratio.set(snapshot.capacity.load_ratio);
        self.gpu_present
            .set(i64::from(snapshot.capabilities.gpu.present()));
        self.ready.set(i64::from(snapshot.ready));
        self.uptime.set(snapshot.uptime_seconds);
        self.gateway_token_expiry
            .set(snapshot.meet.gateway_token_seconds_left.unwrap_or(f64::NAN));
        gauge(
            &self.break_in_blocked_sources,
            snapshot.routing.blocked_sources,
        );
        gauge(&self.routing_rules, snapshot.routing.rules);
        if let Some(threads) = proc_status("Threads:") {
            gauge(&self.process_threads, threads);
        }
        if let Some(kib) = proc_status("VmRSS:") {
            gauge(&self.process_resident_bytes, kib.saturating_mul(1024));
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            gauge(
                &self.runtime_tasks_alive,
                runtime.metrics().num_alive_tasks(),
            );
        }
        for kind in crate::alarms::AlarmKind::ALL {
            let raised = snapshot.alarms.iter().any(|a| a.kind == kind);
            self.alarm_active
                .with_label_values(&[kind.name()])
                .set(i64::from(raised));
        }
        for element in &snapshot.capabilities.media.elements {
            self.media_element_available
                .with_label_values(&[element.name])
                .set(i64::from(element.available));
        }
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail.
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The Live View's series: calls by protocol and state, licences, and per-call stream
/// figures (their series come and go with the calls).
#[derive(Clone, Debug)]
struct LiveMetrics {
    licenses_in_use: IntGauge,
    licenses_total: IntGauge,
    full: IntGauge,
    stream_bitrate: prometheus::GaugeVec,
    stream_loss: prometheus::GaugeVec,
    stream_jitter: prometheus::GaugeVec,
    call_setup: prometheus::Histogram,
}

impl LiveMetrics {
    fn render(&self, calls_active: &IntGaugeVec, snapshot: &Snapshot) {
        use crate::live_view::CallState;
        let capacity = &snapshot.capacity;
        self.licenses_in_use
            .set(i64::from(capacity.licenses.in_use));
        self.licenses_total.set(i64::from(capacity.licenses.total));
        self.full.set(i64::from(capacity.full.is_some()));
        // Every (protocol, state) is recounted: a state no call is in shows 0.
        calls_active.reset();
        for state in CallState::ALL {
            calls_active
                .with_label_values(&["sip", state.label()])
                .set(0);
        }
        for call in &snapshot.calls {
            let (protocol, state) = call
                .detail
                .as_ref()
                .map_or(("sip", CallState::Connected), |d| {
                    (d.caller.protocol, d.state())
                });
            calls_active
                .with_label_values(&[protocol, state.label()])
                .inc();
        }
        for vec in [&self.stream_bitrate, &self.stream_loss, &self.stream_jitter] {
            vec.reset();
        }
        for call in &snapshot.calls {
            let Some(detail) = &call.detail else {
                continue;
            };
            let id = call.id.to_string();
            for stream in &detail.streams {
                let Some(rtp) = stream
                    .rtp
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone()
                else {
                    continue;
                };
                let name = format!("vtc_{}", stream.media);
                let set = |vec: &prometheus::GaugeVec, direction: &str, value: f64| {
                    vec.with_label_values(&[&id, &name, direction]).set(value);
                };
                set(&self.stream_bitrate, "in", rtp.bitrate_in_bps as f64);
                set(&self.stream_bitrate, "out", rtp.bitrate_out_bps as f64);
                set(&self.stream_loss, "in", rtp.fraction_lost);
                set(&self.stream_jitter, "in", rtp.jitter_ms / 1000.0);
                if let Some(remote) = rtp.remote {
                    set(&self.stream_loss, "out", remote.fraction_lost);
                    set(&self.stream_jitter, "out", remote.jitter_ms / 1000.0);
                }
            }
            let meet = detail
                .meet
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            for layer in meet.iter().flat_map(|m| &m.layers) {
                self.stream_bitrate
                    .with_label_values(&[&id, &format!("meet_video_{}", layer.rid), "out"])
                    .set(layer.bitrate_bps as f64);
            }
            for stream in meet.iter().flat_map(|m| &m.streams) {
                let name = format!("meet_{}_{}", stream.media, stream.ssrc);
                let labels = [id.as_str(), name.as_str(), "in"];
                self.stream_bitrate
                    .with_label_values(&labels)
                    .set(stream.bitrate_bps as f64);
                self.stream_loss
                    .with_label_values(&labels)
                    .set(stream.loss_ratio);
                self.stream_jitter
                    .with_label_values(&labels)
                    .set(stream.jitter_ms / 1000.0);
            }
        }
    }
}

/// The `tcn_vtc_*` series: the room-system legs' RTP and RTCP, by media (never by call).
#[derive(Clone, Debug)]
struct VtcStreamMetrics {
    packets: IntCounterVec,
    bytes: IntCounterVec,
    lost: IntCounterVec,
    dropped: IntCounterVec,
    ssrc_changes: IntCounterVec,
    rtcp: IntCounterVec,
    keyframes: IntCounterVec,
    jitter: prometheus::HistogramVec,
}

/// The number after `field` in `/proc/self/status` (`Threads:` a count, `VmRSS:` KiB), where
/// there is a `/proc`.
fn proc_status(field: &str) -> Option<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
