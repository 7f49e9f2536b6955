//! Session timers (RFC 4028), sans-IO: the Session-Expires and Min-SE headers, the
//! negotiation on both sides of an INVITE or UPDATE, and the timer that says when to refresh
//! the session or give up on it.
//!
//! - As UAS ([`negotiate_uas`], §9): read the INVITE (or the re-INVITE/UPDATE that refreshes
//!   the session) and decide: [`UasDecision::Reject422`] (its interval is below our Min-SE),
//!   [`UasDecision::Accept`] (what goes in the 2xx), or [`UasDecision::NoTimer`].
//!   [`UasDecision::apply`] writes the headers into the response.
//! - As UAC ([`UacSessionTimer`], §7): the headers for our INVITE, the retry after a 422
//!   (§7.1: larger Min-SE), and the reading of the 2xx (§7.2).
//! - [`SessionTimer`] runs the negotiated timer: [`TimerAction::Refresh`] at half the interval
//!   when we refresh (§7.2, §9), [`TimerAction::Expire`] at `interval - min(32 s, interval/3)`
//!   when no refresh came (§10), after which the caller sends BYE. Drive it with
//!   [`SessionTimer::poll_timeout`] and [`SessionTimer::handle_timeout`]; tell it about each
//!   successful refresh with [`SessionTimer::refreshed`] or
//!   [`SessionTimer::renegotiated`].
//!
//! `refresher=uac|uas` names a role in the *transaction* that carries it, not in the dialog: a
//! re-INVITE sent by the side that answered the call makes that side the `uac`.
//! [`Negotiated::local_refresh`] resolves it to "we refresh or the peer does".
//!
//! Choices where RFC 4028 leaves one (all configurable in [`SessionTimerConfig`]):
//!
//! - As UAS, when the UAC supports timers but leaves the refresher to us, we pick
//!   [`SessionTimerConfig::refresher_when_unspecified`] (default `uas`: we refresh).
//! - As UAS, when the request has a Session-Expires but no `Supported: timer` (a proxy asked
//!   for the timer, §8), we never answer 422 (§9 allows it only when the UAC supports timers,
//!   as it could not act on it): we accept the interval asked for, which we must not increase,
//!   and refresh ourselves (`refresher=uas`, no `Require: timer`).
//! - As UAS without Session-Expires and without `Supported: timer`, and as UAC when the 2xx
//!   has no Session-Expires, a timer for our own benefit (we refresh, the peer just sees
//!   re-INVITEs or UPDATEs, §7.2, §9) runs only with
//!   [`SessionTimerConfig::refresh_unsupported_peers`] (default off).
//! - As UAS we shorten a longer interval asked for to our preferred one (§9: "MAY reduce"),
//!   never below the request's Min-SE or our own.
//! - A 2xx whose Session-Expires lacks `refresher` (the UAS MUST set it, §9) makes us the
//!   refresher: two refreshers do no harm, none would end the call.
//! - Our refresh requests carry `Supported: timer` and `Session-Expires` with the current
//!   interval (`refresher=uac` when we keep refreshing, `uas` when the peer does); no Min-SE.
//!
//! The compact form `x` of Session-Expires is known to the header-name table, so
//! `x: 1800;refresher=uac` reads like the long form.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::dialog::{parse_u32, split_params, write_params};
use super::message::{
    HeaderName, Headers, Method, ParseError, ParseErrorKind, Request, Response, StatusCode,
};

/// The lowest Min-SE there is (RFC 4028 §4, §5: 90 seconds).
pub const MIN_SE_FLOOR: u32 = 90;

/// The session interval RFC 4028 §4 recommends: 1800 seconds.
pub const DEFAULT_INTERVAL: u32 = 1800;

/// The option tag of the extension (RFC 4028 §3), in Supported and Require.
pub const OPTION_TAG: &str = "timer";

/// Who refreshes the session: the UAC or the UAS *of the transaction* that carries the
/// header (RFC 4028 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refresher {
    /// `uac`.
    Uac,
    /// `uas`.
    Uas,
}

impl Refresher {
    /// The parameter value: `uac` or `uas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uac => "uac",
            Self::Uas => "uas",
        }
    }
}

impl fmt::Display for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Refresher {
    type Err = ParseError;

    /// `uac` or `uas`, any case (tokens are case-insensitive, RFC 3261 §7.3.1).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if s.eq_ignore_ascii_case("uac") {
            Ok(Self::Uac)
        } else if s.eq_ignore_ascii_case("uas") {
            Ok(Self::Uas)
        } else {
            Err(bad(
                "Session-Expires",
                format!("refresher {s:?} is not uac or uas"),
            ))
        }
    }
}

fn bad(name: &str, detail: String) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeader(name.to_owned()), detail)
}

/// The one value of a single-valued header, `None` when absent; two values are an error.
fn single<'a>(headers: &'a Headers, name: &HeaderName) -> Result<Option<&'a str>, ParseError> {
    let mut values = headers.get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(ParseError::new(
            ParseErrorKind::DuplicateHeader(name.to_string()),
            format!("more than one {name}"),
        ));
    }
    Ok(first)
}

/// `Session-Expires: delta-seconds *(SEMI se-params)` (RFC 4028 §4; compact form `x`), e.g.
/// `1800;refresher=uac`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    /// The session interval, in seconds.
    pub interval: u32,
    /// The `refresher` parameter.
    pub refresher: Option<Refresher>,
    /// Every other parameter, as written.
    pub params: Vec<(String, Option<String>)>,
}

impl SessionExpires {
    /// A value without extension parameters.
    pub fn new(interval: u32, refresher: Option<Refresher>) -> Self {
        Self {
            interval,
            refresher,
            params: Vec::new(),
        }
    }

    /// The Session-Expires of a message (long or compact form), `None` if it has none.
    pub fn from_headers(headers: &Headers) -> Result<Option<Self>, ParseError> {
        single(headers, &HeaderName::SESSION_EXPIRES)?
            .map(str::parse)
            .transpose()
    }
}

impl FromStr for SessionExpires {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |detail: String| bad("Session-Expires", detail);
        let (delta, params) = split_params(s).map_err(err)?;
        let interval =
            parse_u32(delta).ok_or_else(|| err(format!("{delta:?} is not a number of seconds")))?;
        let mut value = Self::new(interval, None);
        for (name, param) in params {
            if name.eq_ignore_ascii_case("refresher") {
                if value.refresher.is_some() {
                    return Err(err("two refresher parameters".into()));
                }
                let param = param.ok_or_else(|| err("refresher without a value".into()))?;
                value.refresher = Some(param.parse()?);
            } else {
                value.params.push((name, param));
            }
        }
        Ok(value)
    }
}

impl fmt::Display for SessionExpires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.interval.to_string();
        if let Some(refresher) = self.refresher {
            out.push_str(";refresher=");
            out.push_str(refresher.as_str());
        }
        write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}

/// `Min-SE: delta-seconds *(SEMI generic-param)` (RFC 4028 §5). Parameters are read and
/// dropped: none is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MinSe(pub u32);

impl MinSe {
    /// The Min-SE of a message, `None` if it has none.
    pub fn from_headers(headers: &Headers) -> Result<Option<Self>, ParseError> {
        single(headers, &HeaderName::MIN_SE)?
            .map(str::parse)
            .transpose()
    }
}

impl FromStr for MinSe {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let (delta, _) = split_params(s).map_err(|d| bad("Min-SE", d))?;
        parse_u32(delta)
            .map(Self)
            .ok_or_else(|| bad("Min-SE", format!("{delta:?} is not a number of seconds")))
    }
}

impl fmt::Display for MinSe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// True if one of the `name` headers (a list of option tags) holds `tag`.
fn lists_tag(headers: &Headers, name: &HeaderName, tag: &str) -> bool {
    headers
        .get_all(name)
        .flat_map(|value| value.split(','))
        .any(|t| t.trim_matches([' ', '\t']).eq_ignore_ascii_case(tag))
}

/// True if the message says `Supported: timer` (long or compact form `k`).
pub fn supports_timer(headers: &Headers) -> bool {
    lists_tag(headers, &HeaderName::SUPPORTED, OPTION_TAG)
}

/// True if the message says `Require: timer`.
pub fn requires_timer(headers: &Headers) -> bool {
    lists_tag(headers, &HeaderName::REQUIRE, OPTION_TAG)
}

/// Adds `tag` to the `name` list unless it is there.
fn add_tag(headers: &mut Headers, name: HeaderName, tag: &str) {
    if !lists_tag(headers, &name, tag) {
        headers.push(name, tag);
    }
}

/// Our session timer policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The shortest interval we accept, in seconds (our Min-SE; a 422 answers anything
    /// shorter). Default 90; values below 90 count as 90 (RFC 4028 §5).
    pub min_se: u32,
    /// The interval we ask for as UAC and prefer as UAS, in seconds. Default 1800 (§4);
    /// values below `min_se` count as `min_se`.
    pub interval: u32,
    /// Who refreshes when we answer a UAC that supports timers but names no refresher (the
    /// "uac or uas" row of §9's table). Default [`Refresher::Uas`]: we do.
    pub refresher_when_unspecified: Refresher,
    /// The `refresher` we put in our INVITE as UAC. Default `None`: §7.1 recommends leaving
    /// the choice to the negotiation.
    pub uac_refresher: Option<Refresher>,
    /// Run a timer, refreshing ourselves, with a peer that neither supports nor asks for one:
    /// as UAS when the INVITE has neither Session-Expires nor `Supported: timer`, as UAC when
    /// the 2xx has no Session-Expires (§7.2). Default `false`.
    pub refresh_unsupported_peers: bool,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        Self {
            min_se: MIN_SE_FLOOR,
            interval: DEFAULT_INTERVAL,
            refresher_when_unspecified: Refresher::Uas,
            uac_refresher: None,
            refresh_unsupported_peers: false,
        }
    }
}

impl SessionTimerConfig {
    /// Our Min-SE, at least 90.
    pub fn effective_min_se(&self) -> u32 {
        self.min_se.max(MIN_SE_FLOOR)
    }

    /// Our preferred interval, at least our Min-SE.
    pub fn effective_interval(&self) -> u32 {
        self.interval.max(self.effective_min_se())
    }
}

/// The outcome of a negotiation: the session interval and who refreshes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The session interval, in seconds.
    pub interval: u32,
    /// The refresher, as the transaction that negotiated it names it.
    pub refresher: Refresher,
    /// True when we refresh: we were the UAS of that transaction and `refresher` is `uas`, or
    /// its UAC and `refresher` is `uac`.
    pub local_refresh: bool,
}

/// What a UAS answers to an INVITE or UPDATE, as far as session timers go (RFC 4028 §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UasDecision {
    /// The interval asked for is below our Min-SE: answer `422 Session Interval Too Small`
    /// with `Min-SE: min_se`.
    Reject422 {
        /// Our Min-SE, for the Min-SE header of the 422.
        min_se: u32,
    },
    /// Run a session timer: the 2xx carries `Session-Expires: interval;refresher=...` and,
    /// when `require_timer`, `Require: timer`.
    Accept {
        /// The session interval, in seconds.
        interval: u32,
        /// Who refreshes (`uas` is us).
        refresher: Refresher,
        /// The UAC supports timers, so the 2xx says `Require: timer` (§9: MUST for
        /// `refresher=uac`, SHOULD for `uas`).
        require_timer: bool,
    },
    /// No session timer: nothing to add to the 2xx.
    NoTimer,
}

impl UasDecision {
    /// Writes the decision into our response: `Min-SE` into the 422, `Session-Expires` (and
    /// `Require: timer`) into the 2xx; nothing for [`NoTimer`](Self::NoTimer). Build the 422
    /// itself with `request.response(StatusCode::SESSION_INTERVAL_TOO_SMALL)`.
    pub fn apply(&self, response: &mut Response) {
        match *self {
            Self::Reject422 { min_se } => {
                response
                    .headers
                    .set(HeaderName::MIN_SE, MinSe(min_se).to_string());
            }
            Self::Accept {
                interval,
                refresher,
                require_timer,
            } => {
                response.headers.set(
                    HeaderName::SESSION_EXPIRES,
                    SessionExpires::new(interval, Some(refresher)).to_string(),
                );
                if require_timer {
                    add_tag(&mut response.headers, HeaderName::REQUIRE, OPTION_TAG);
                }
            }
            Self::NoTimer => {}
        }
    }

    /// The status to answer with instead of the 2xx: 422 for
    /// [`Reject422`](Self::Reject422).
    pub fn rejection(&self) -> Option<StatusCode> {
        matches!(self, Self::Reject422 { .. }).then_some(StatusCode::SESSION_INTERVAL_TOO_SMALL)
    }

    /// The timer to run once the 2xx is sent (we are the UAS: `refresher=uas` is us).
    pub fn negotiated(&self) -> Option<Negotiated> {
        match *self {
            Self::Accept {
                interval,
                refresher,
                ..
            } => Some(Negotiated {
                interval,
                refresher,
                local_refresh: refresher == Refresher::Uas,
            }),
            Self::Reject422 { .. } | Self::NoTimer => None,
        }
    }
}

/// Decides, as UAS, what to do about session timers for an INVITE or UPDATE we are about to
/// accept, initial or a refresh (RFC 4028 §9; other methods: [`UasDecision::NoTimer`]):
///
/// | request                                   | decision                                      |
/// |-------------------------------------------|-----------------------------------------------|
/// | `Supported: timer`, Session-Expires < our Min-SE | `Reject422 { min_se: ours }`             |
/// | `Supported: timer`, Session-Expires N;refresher=R | `Accept`, interval ≤ N, refresher R (or our choice if absent), Require |
/// | `Supported: timer`, no Session-Expires    | `Accept`, our interval (≥ the request's Min-SE), our choice of refresher, Require |
/// | Session-Expires N, no `Supported: timer`  | `Accept`, interval ≤ N, `uas`, no Require     |
/// | neither                                   | `NoTimer`, or `Accept` our interval, `uas`, no Require with `refresh_unsupported_peers` |
///
/// The interval accepted is the one asked for, shortened to our preferred interval when
/// longer, never below the request's Min-SE or ours (§9: "MAY reduce", "MUST NOT increase").
/// A malformed Session-Expires or Min-SE is an error whose status is 400.
pub fn negotiate_uas(
    config: &SessionTimerConfig,
    request: &Request,
) -> Result<UasDecision, SessionTimerError> {
    if !matches!(request.method, Method::Invite | Method::Update) {
        return Ok(UasDecision::NoTimer);
    }
    let supported = supports_timer(&request.headers);
    let asked = SessionExpires::from_headers(&request.headers)?;
    let request_min_se = MinSe::from_headers(&request.headers)?.map_or(0, |m| m.0);
    let our_min_se = config.effective_min_se();
    // What we would like, but never below any Min-SE in play.
    let preferred = config.effective_interval().max(request_min_se);
    let decision = match asked {
        Some(asked) if supported && asked.interval < our_min_se => {
            UasDecision::Reject422 { min_se: our_min_se }
        }
        // Without `Supported: timer` a short interval cannot be refused with 422. §9 forbids
        // raising it, but one below the RFC's 90 s floor (§5) is invalid: it is raised to the
        // floor, so that a `Session-Expires: 0` does not end the call at once.
        Some(asked) => UasDecision::Accept {
            interval: asked.interval.min(preferred).max(MIN_SE_FLOOR),
            refresher: if supported {
                asked.refresher.unwrap_or(config.refresher_when_unspecified)
            } else {
                Refresher::Uas
            },
            require_timer: supported,
        },
        None if supported => UasDecision::Accept {
            interval: preferred,
            refresher: config.refresher_when_unspecified,
            require_timer: true,
        },
        None if config.refresh_unsupported_peers => UasDecision::Accept {
            interval: preferred,
            refresher: Refresher::Uas,
            require_timer: false,
        },
        None => UasDecision::NoTimer,
    };
    Ok(decision)
}

/// The UAC side of the negotiation for one INVITE (RFC 4028 §7): the headers to send, the
/// retry after a 422, and the reading of the 2xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UacSessionTimer {
    config: SessionTimerConfig,
    min_se: u32,
    interval: u32,
}

impl UacSessionTimer {
    /// Asks for our preferred interval with our Min-SE.
    pub fn new(config: SessionTimerConfig) -> Self {
        Self {
            config,
            min_se: config.effective_min_se(),
            interval: config.effective_interval(),
        }
    }

    /// The interval we ask for, in seconds.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// The Min-SE we send: ours, or the largest a 422 asked for.
    pub fn min_se(&self) -> u32 {
        self.min_se
    }

    /// Adds `Supported: timer`, `Session-Expires: <interval>[;refresher=...]` and
    /// `Min-SE: <min_se>` to our INVITE (§7.1), replacing any Session-Expires or Min-SE.
    pub fn apply(&self, request: &mut Request) {
        add_tag(&mut request.headers, HeaderName::SUPPORTED, OPTION_TAG);
        request.headers.set(
            HeaderName::SESSION_EXPIRES,
            SessionExpires::new(self.interval, self.config.uac_refresher).to_string(),
        );
        request
            .headers
            .set(HeaderName::MIN_SE, MinSe(self.min_se).to_string());
    }

    /// Takes a `422 Session Interval Too Small` (§7.1, §6): the next INVITE (same Call-ID and
    /// From tag, CSeq raised, a new branch, headers from [`apply`](Self::apply)) asks for the
    /// 422's Min-SE as both interval and Min-SE. An error means do not retry: the 422 has no
    /// Min-SE, or it asks for no more than we already asked (retrying would loop).
    pub fn handle_422(&mut self, response: &Response) -> Result<(), SessionTimerError> {
        let MinSe(min_se) =
            MinSe::from_headers(&response.headers)?.ok_or(SessionTimerError::MissingMinSe)?;
        if min_se <= self.interval {
            return Err(SessionTimerError::MinSeNotLarger {
                min_se,
                interval: self.interval,
            });
        }
        self.min_se = self.min_se.max(min_se);
        self.interval = min_se;
        Ok(())
    }

    /// Reads the 2xx to our INVITE (§7.2): its Session-Expires gives the interval and the
    /// refresher (`uac` is us; absent `refresher` makes us refresh). Without Session-Expires
    /// the peer runs no timer: `None`, or, with
    /// [`refresh_unsupported_peers`](SessionTimerConfig::refresh_unsupported_peers), our
    /// interval with us refreshing ("as if ... refresher=uac", §7.2).
    pub fn handle_2xx(&self, response: &Response) -> Result<Option<Negotiated>, SessionTimerError> {
        match SessionExpires::from_headers(&response.headers)? {
            Some(granted) => {
                let refresher = granted.refresher.unwrap_or(Refresher::Uac);
                Ok(Some(Negotiated {
                    interval: granted.interval,
                    refresher,
                    local_refresh: refresher == Refresher::Uac,
                }))
            }
            None if self.config.refresh_unsupported_peers => Ok(Some(Negotiated {
                interval: self.interval,
                refresher: Refresher::Uac,
                local_refresh: true,
            })),
            None => Ok(None),
        }
    }
}

/// What the caller must do when the session timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerAction {
    /// We are the refresher and half the interval has passed: send a re-INVITE or UPDATE
    /// with [`SessionTimer::refresh_headers`].
    Refresh,
    /// No refresh came in time (§10): send BYE and end the call.
    Expire,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting to send a refresh (we are the refresher).
    Refresh,
    /// Waiting for a refresh to succeed before the session expires.
    Expiry,
    /// Expired; the timer is spent.
    Expired,
}

/// A running session timer (RFC 4028 §10). It never reads the clock: `now` comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimer {
    interval: Duration,
    refresher: Refresher,
    local_refresh: bool,
    last_refresh: Instant,
    phase: Phase,
}

impl SessionTimer {
    /// A timer for a negotiated session, counting from `now` (when the 2xx was sent or
    /// received).
    pub fn new(negotiated: Negotiated, now: Instant) -> Self {
        let mut timer = Self {
            interval: Duration::ZERO,
            refresher: negotiated.refresher,
            local_refresh: negotiated.local_refresh,
            last_refresh: now,
            phase: Phase::Expired,
        };
        timer.renegotiated(negotiated, now);
        timer
    }

    /// The session interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// True when we send the refreshes.
    pub fn local_refresh(&self) -> bool {
        self.local_refresh
    }

    /// When the session expires unless refreshed (last refresh + interval).
    pub fn expires_at(&self) -> Instant {
        self.last_refresh + self.interval
    }

    /// A session refresh succeeded at `now` (a 2xx to a re-INVITE or UPDATE, sent or
    /// received, with unchanged interval and refresher): the timer starts over.
    pub fn refreshed(&mut self, now: Instant) {
        self.last_refresh = now;
        self.phase = if self.local_refresh {
            Phase::Refresh
        } else {
            Phase::Expiry
        };
    }

    /// A refresh renegotiated the timer (§10: each refresh is a new negotiation): new interval
    /// and refresher, starting over at `now`.
    pub fn renegotiated(&mut self, negotiated: Negotiated, now: Instant) {
        self.interval = Duration::from_secs(u64::from(negotiated.interval));
        self.refresher = negotiated.refresher;
        self.local_refresh = negotiated.local_refresh;
        self.refreshed(now);
    }

    /// When we send the refresh: half the interval after the last one (§7.2, §9).
    fn refresh_deadline(&self) -> Instant {
        self.last_refresh + self.interval / 2
    }

    /// When we give up (§10): "the minimum of 32 seconds and one third of the session
    /// interval" before it expires.
    fn expiry_deadline(&self) -> Instant {
        let margin = Duration::from_secs(32).min(self.interval / 3);
        self.last_refresh + (self.interval - margin)
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do; `None` once
    /// expired.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Refresh => Some(self.refresh_deadline()),
            Phase::Expiry => Some(self.expiry_deadline()),
            Phase::Expired => None,
        }
    }

    /// The action due at `now`, if any. After [`TimerAction::Refresh`] the timer waits for the
    /// refresh to succeed ([`refreshed`](Self::refreshed)) and expires if it does not (the
    /// refresher ends the session too when its refreshes fail, §10). A `now` already past the
    /// expiry gives [`TimerAction::Expire`] directly. After Expire the timer is spent.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<TimerAction> {
        match self.phase {
            Phase::Expired => None,
            _ if now >= self.expiry_deadline() => {
                self.phase = Phase::Expired;
                Some(TimerAction::Expire)
            }
            Phase::Refresh if now >= self.refresh_deadline() => {
                self.phase = Phase::Expiry;
                Some(TimerAction::Refresh)
            }
            Phase::Refresh | Phase::Expiry => None,
        }
    }

    /// Adds `Supported: timer` and `Session-Expires` (the current interval; `refresher=uac`
    /// when we keep refreshing, `uas` when the peer does) to a re-INVITE or UPDATE we send,
    /// refresh or not: any of them refreshes the session (§10).
    pub fn refresh_headers(&self, request: &mut Request) {
        add_tag(&mut request.headers, HeaderName::SUPPORTED, OPTION_TAG);
        let refresher = if self.local_refresh {
            Refresher::Uac
        } else {
            Refresher::Uas
        };
        request.headers.set(
            HeaderName::SESSION_EXPIRES,
            SessionExpires::new(self.interval_secs(), Some(refresher)).to_string(),
        );
    }

    /// Takes the 2xx to a re-INVITE or UPDATE we sent (§7.2 applied to refreshes): its
    /// Session-Expires renegotiates the timer (`uac` is us; absent `refresher` makes us
    /// refresh); without one the peer stopped running a timer and we keep refreshing at the
    /// current interval. The timer starts over at `now`.
    pub fn handle_refresh_response(
        &mut self,
        response: &Response,
        now: Instant,
    ) -> Result<(), SessionTimerError> {
        let negotiated = match SessionExpires::from_headers(&response.headers)? {
            Some(granted) => {
                let refresher = granted.refresher.unwrap_or(Refresher::Uac);
                Negotiated {
                    interval: granted.interval,
                    refresher,
                    local_refresh: refresher == Refresher::Uac,
                }
            }
            None => Negotiated {
                interval: self.interval_secs(),
                refresher: Refresher::Uac,
                local_refresh: true,
            },
        };
        self.renegotiated(negotiated, now);
        Ok(())
    }

    fn interval_secs(&self) -> u32 {
        // The interval came from a u32 number of seconds.
        u32::try_from(self.interval.as_secs()).unwrap_or(u32::MAX)
    }
}

/// A session timer header could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionTimerError {
    /// Session-Expires or Min-SE is malformed or repeated: answered 400 when it came in a
    /// request.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A 422 without Min-SE (§6 makes it mandatory): do not retry.
    #[error("422 without Min-SE")]
    MissingMinSe,
    /// A 422 whose Min-SE is not above the interval we asked for: retrying would loop.
    #[error("422 with Min-SE {min_se}, but we already asked for {interval}")]
    MinSeNotLarger {
        /// The 422's Min-SE.
        min_se: u32,
        /// The interval we asked for.
        interval: u32,
    },
}

impl SessionTimerError {
    /// The status to answer the request that caused it with (400 for a malformed header);
    /// errors raised on a 422 have no request to answer and map to 500.
    pub fn sip_status(&self) -> StatusCode {
        match self {
            Self::Parse(error) => error.status(),
            Self::MissingMinSe | Self::MinSeNotLarger { .. } => StatusCode::SERVER_INTERNAL_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let se: SessionExpires = "1800 ; Refresher = UAC ; x=1".parse().unwrap();
        assert_eq!(se.interval, 1800);
        assert_eq!(se.refresher, Some(Refresher::Uac));
        assert_eq!(se.to_string(), "1800;refresher=uac;x=1");
        assert_eq!(se.to_string().parse::<SessionExpires>().unwrap(), se);
        for bad in [
            "",
            "x",
            "-1",
            "4294967296",
            "90;refresher=both",
            "90;refresher",
        ] {
            assert!(bad.parse::<SessionExpires>().is_err(), "{bad}");
        }
        assert_eq!("120;foo".parse::<MinSe>().unwrap(), MinSe(120));
        assert!("abc".parse::<MinSe>().is_err());
    }
}
