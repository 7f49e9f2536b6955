//! Virtual Reception: the IVR that answers a call dialled to a general alias.
//!
//! A caller who dials a general alias such as `gmeet@example.com` does not say which meeting
//! they want. A Virtual Reception answers, plays a prompt asking for the Google Meet meeting ID,
//! collects the DTMF digits and hands them to the router as a *new* incoming call. A wrong ID
//! (or no input at all) re-prompts; after [`VirtualReceptionConfig::max_attempts`] failed
//! attempts the caller is disconnected.
//!
//! # Sans-IO
//!
//! [`ReceptionCall`] is a state machine in the style of `str0m` and `quinn-proto`: it never
//! plays audio, never routes, never sleeps and never reads the clock. The node drives it:
//!
//! 1. Feed every input with the current time: [`ReceptionCall::handle_dtmf`],
//!    [`ReceptionCall::handle_lookup`] (the router's answer to a [`ReceptionOutput::Route`]),
//!    [`ReceptionCall::handle_hangup`], and [`ReceptionCall::handle_timeout`] when the deadline
//!    has passed.
//! 2. After each input, drain [`ReceptionCall::poll_output`] until it returns `None` and carry
//!    out every [`ReceptionOutput`] in order.
//! 3. Sleep until [`ReceptionCall::poll_timeout`] (or the next input, whichever comes first).
//!    `None` means no timer is armed: the call is waiting for the router, or it is over.
//!
//! ```text
//! let mut call = ReceptionCall::new(&config, now);
//! loop {
//!     while let Some(output) = call.poll_output() {
//!         match output {
//!             ReceptionOutput::Play { prompt } => media.play(&prompt),
//!             ReceptionOutput::Route { alias, rules } => {
//!                 let found = router.route_new_call(&alias, &rules);
//!                 call.handle_lookup(found, clock.now());
//!             }
//!             ReceptionOutput::Disconnect { reason } => sip.hang_up(reason.label()),
//!         }
//!     }
//!     select! {
//!         digit = media.next_dtmf() => call.handle_dtmf(digit, clock.now()),
//!         _ = sleep_until(call.poll_timeout()) => call.handle_timeout(clock.now()),
//!         _ = sip.hung_up() => call.handle_hangup(clock.now()),
//!     }
//! }
//! ```
//!
//! # Timers
//!
//! Only one timer is armed at a time, and only while collecting digits:
//!
//! - the *entry* timer ([`VirtualReceptionConfig::entry_timeout`]) runs from each prompt to the
//!   first digit; when it fires the attempt fails with the `no_input` prompt;
//! - the *digit* timer ([`VirtualReceptionConfig::digit_timeout`]) replaces it after the first
//!   digit and is re-armed by every digit; when it fires the digits so far are submitted, so a
//!   caller who forgets the terminator is still routed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The prompt played after a meeting ID that the router did not find (or an empty entry).
pub const PROMPT_INVALID_MEETING_ID: &str = "invalid_meeting_id";

/// The prompt played when the caller entered nothing before the entry timeout.
pub const PROMPT_NO_INPUT: &str = "no_input";

/// The most digits one attempt collects; reaching it submits at once. Meet numeric IDs are far
/// shorter, so this only stops a caller (or a fuzzer) from growing the buffer forever.
pub const MAX_DIGITS: usize = 32;

/// The DTMF events a keypad can send, as accepted in `terminator` and by
/// [`ReceptionCall::handle_dtmf`] (letters also in lower case there).
const DTMF_CHARACTERS: &str = "0123456789*#ABCD";

/// The upper bound of `max_attempts`: more would keep a line busy for nothing.
const MAX_ATTEMPTS_LIMIT: u32 = 10;

/// The upper bound of `digit_timeout` and `entry_timeout`.
const MAX_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// One Virtual Reception, as written under `[[routing.virtual_receptions]]`.
///
/// Only `name` and `alias` are required:
///
/// ```toml
/// [[routing.virtual_receptions]]
/// name = "gmeet"
/// alias = "gmeet@example.com"
/// lookup_domain = "meet.example.com"
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualReceptionConfig {
    /// The name that errors, logs and metrics use. Required.
    pub name: String,
    /// The alias callers dial to reach this reception, e.g. `gmeet@example.com`. Required.
    pub alias: String,
    /// The name of the audio prompt that asks for the meeting ID.
    /// Default `"enter_meeting_id"`.
    #[serde(default = "default_prompt")]
    pub prompt: String,
    /// The inter-digit timeout: when it expires the digits collected so far are submitted.
    /// Default `"5s"`.
    #[serde(default = "default_digit_timeout", with = "crate::duration")]
    pub digit_timeout: Duration,
    /// The time from each (re)prompt to the first digit: when it expires with no digit the
    /// attempt fails and the caller hears the `no_input` prompt. Default `"30s"`.
    #[serde(default = "default_entry_timeout", with = "crate::duration")]
    pub entry_timeout: Duration,
    /// How many failed attempts (wrong ID or no input) disconnect the caller, 1 to 10.
    /// Default `3`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// One DTMF character (`0`-`9`, `*`, `#`, `A`-`D`) that submits the digits at once, or `""`
    /// for none (then only the digit timeout submits). Default `"#"`.
    #[serde(default = "default_terminator")]
    pub terminator: String,
    /// The names of the Call Routing Rules the digits are tried against; empty means all rules.
    /// Default `[]`.
    #[serde(default)]
    pub lookup_rules: Vec<String>,
    /// When set, the digits are routed as `<digits>@<lookup_domain>`, otherwise as `<digits>`.
    /// Default unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_domain: Option<String>,
}

fn default_prompt() -> String {
    "enter_meeting_id".to_owned()
}

fn default_digit_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_entry_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_max_attempts() -> u32 {
    3
}

fn default_terminator() -> String {
    "#".to_owned()
}

impl VirtualReceptionConfig {
    /// A reception with the given name and alias and every other field at its default, the same
    /// as a TOML table holding only `name` and `alias`.
    pub fn new(name: impl Into<String>, alias: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            alias: alias.into(),
            prompt: default_prompt(),
            digit_timeout: default_digit_timeout(),
            entry_timeout: default_entry_timeout(),
            max_attempts: default_max_attempts(),
            terminator: default_terminator(),
            lookup_rules: Vec::new(),
            lookup_domain: None,
        }
    }

    /// Checks the values serde cannot: the error names the reception, e.g.
    /// `routing.virtual_receptions[gmeet]`, and the offending key.
    ///
    /// Whether `lookup_rules` name existing rules is checked where the rules are known.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            return Err(ConfigError::new(
                "routing.virtual_receptions[]",
                "name",
                "must not be empty",
            ));
        }
        let item = format!("routing.virtual_receptions[{}]", self.name);
        // Each check explains what is wrong; `refuse` adds which reception and which key.
        let refuse =
            |field: &'static str, reason: String| ConfigError::new(item.as_str(), field, reason);

        check_alias(&self.alias).map_err(|reason| refuse("alias", reason))?;
        check_max_attempts(self.max_attempts).map_err(|reason| refuse("max_attempts", reason))?;
        check_timeout(self.digit_timeout).map_err(|reason| refuse("digit_timeout", reason))?;
        check_timeout(self.entry_timeout).map_err(|reason| refuse("entry_timeout", reason))?;
        check_terminator(&self.terminator).map_err(|reason| refuse("terminator", reason))?;
        if let Some(domain) = &self.lookup_domain {
            check_lookup_domain(domain).map_err(|reason| refuse("lookup_domain", reason))?;
        }
        Ok(())
    }
}

fn check_alias(alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if alias.contains(char::is_whitespace) {
        return Err(format!("`{alias}` must not contain whitespace"));
    }
    Ok(())
}

fn check_max_attempts(max_attempts: u32) -> Result<(), String> {
    if (1..=MAX_ATTEMPTS_LIMIT).contains(&max_attempts) {
        Ok(())
    } else {
        Err(format!(
            "{max_attempts} is out of range; write 1 to {MAX_ATTEMPTS_LIMIT}"
        ))
    }
}

fn check_timeout(timeout: Duration) -> Result<(), String> {
    if timeout.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    if timeout > MAX_TIMEOUT {
        return Err(format!(
            "{} is longer than the limit of {}",
            humantime::format_duration(timeout),
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(())
}

fn check_terminator(terminator: &str) -> Result<(), String> {
    let mut chars = terminator.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(()),
        (Some(c), None) if DTMF_CHARACTERS.contains(c) => Ok(()),
        _ => Err(format!(
            "`{terminator}` is not one DTMF character; write one of {DTMF_CHARACTERS} or \"\" for none"
        )),
    }
}

fn check_lookup_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("must not be empty; leave it out to route the bare digits".to_owned());
    }
    if domain.contains(char::is_whitespace) || domain.contains('@') {
        return Err(format!(
            "`{domain}` must be a bare domain, without whitespace or `@`"
        ));
    }
    Ok(())
}

/// What the node must do for a [`ReceptionCall`], drained with [`ReceptionCall::poll_output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceptionOutput {
    /// Play this audio prompt to the caller: the configured prompt first,
    /// [`PROMPT_INVALID_MEETING_ID`] after a wrong ID, [`PROMPT_NO_INPUT`] after an entry
    /// timeout.
    Play {
        /// The prompt's name.
        prompt: String,
    },
    /// Route this alias as a new incoming call through these rules, then answer with
    /// [`ReceptionCall::handle_lookup`].
    Route {
        /// The entered digits, with `@<lookup_domain>` when one is configured.
        alias: String,
        /// The names of the rules to try; empty means all rules.
        rules: Vec<String>,
    },
    /// End the call.
    Disconnect {
        /// Why.
        reason: DisconnectReason,
    },
}

/// Why a Virtual Reception ends a call itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The caller failed `max_attempts` times.
    TooManyAttempts,
}

impl DisconnectReason {
    /// A stable snake_case name for logs and metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::TooManyAttempts => "too_many_attempts",
        }
    }
}

/// Where a [`ReceptionCall`] stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceptionState {
    /// Prompted, collecting digits; a timer is armed.
    Collecting,
    /// Digits submitted, waiting for [`ReceptionCall::handle_lookup`]; no timer is armed.
    LookingUp,
    /// The router found the meeting: the reception is done with this call.
    Routed,
    /// The reception ended the call (see the queued [`ReceptionOutput::Disconnect`]).
    Disconnected,
    /// The caller hung up.
    HungUp,
}

impl ReceptionState {
    /// Whether the call has left the reception; every later input is ignored.
    fn is_final(self) -> bool {
        matches!(self, Self::Routed | Self::Disconnected | Self::HungUp)
    }
}

/// Which timer is armed; they never run together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimerKind {
    /// From a prompt to the first digit.
    Entry,
    /// From the last digit to the next.
    Digit,
}

#[derive(Clone, Copy, Debug)]
struct Timer {
    kind: TimerKind,
    deadline: Instant,
}

/// One caller in one Virtual Reception. See the [module docs](self) for how to drive it.
#[derive(Clone, Debug)]
pub struct ReceptionCall {
    config: VirtualReceptionConfig,
    /// `config.terminator` parsed once; `None` when there is none.
    terminator: Option<char>,
    state: ReceptionState,
    attempts: u32,
    digits: String,
    timer: Option<Timer>,
    outputs: VecDeque<ReceptionOutput>,
}

impl ReceptionCall {
    /// Answers a caller at `now`: queues the configured prompt and arms the entry timer.
    ///
    /// The config is expected to have passed [`VirtualReceptionConfig::validate`].
    pub fn new(config: &VirtualReceptionConfig, now: Instant) -> Self {
        let mut call = Self {
            config: config.clone(),
            terminator: config.terminator.chars().next().and_then(normalize_dtmf),
            state: ReceptionState::Collecting,
            attempts: 0,
            digits: String::new(),
            timer: None,
            outputs: VecDeque::new(),
        };
        call.prompt(config.prompt.clone(), now);
        call
    }

    /// A DTMF event from the caller. Accepts `0`-`9`, `*`, `#` and `A`-`D` (letters in either
    /// case) and ignores anything else, and ignores every digit unless collecting.
    pub fn handle_dtmf(&mut self, digit: char, now: Instant) {
        if self.state != ReceptionState::Collecting {
            return;
        }
        let Some(digit) = normalize_dtmf(digit) else {
            return;
        };
        if Some(digit) == self.terminator {
            self.submit(now);
            return;
        }
        self.digits.push(digit);
        if self.digits.len() >= MAX_DIGITS {
            self.submit(now);
        } else {
            // The first digit replaces the entry timer; later ones push the deadline back.
            self.arm(TimerKind::Digit, self.config.digit_timeout, now);
        }
    }

    /// Fires the timer if its deadline is at or before `now`; otherwise does nothing, so a
    /// spurious or early wake-up is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(timer) = self.timer else {
            return;
        };
        if now < timer.deadline {
            return;
        }
        self.timer = None;
        match timer.kind {
            TimerKind::Entry => self.fail(PROMPT_NO_INPUT, now),
            // The caller stopped typing without the terminator: take what we have.
            TimerKind::Digit => self.submit(now),
        }
    }

    /// The router's answer to the last [`ReceptionOutput::Route`]: `found` ends the reception
    /// (the call now belongs to the meeting); not found is a failed attempt. Ignored unless
    /// looking up.
    pub fn handle_lookup(&mut self, found: bool, now: Instant) {
        if self.state != ReceptionState::LookingUp {
            return;
        }
        if found {
            self.state = ReceptionState::Routed;
        } else {
            self.fail(PROMPT_INVALID_MEETING_ID, now);
        }
    }

    /// The caller hung up: clears the timer and any output not yet drained, since there is
    /// nobody left to play to. `now` is unused and kept so every input has the same shape.
    pub fn handle_hangup(&mut self, _now: Instant) {
        if self.state.is_final() {
            return;
        }
        self.state = ReceptionState::HungUp;
        self.timer = None;
        self.outputs.clear();
    }

    /// The next thing to do, oldest first; `None` when there is nothing left.
    pub fn poll_output(&mut self) -> Option<ReceptionOutput> {
        self.outputs.pop_front()
    }

    /// When to call [`Self::handle_timeout`]; `None` when no timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(|timer| timer.deadline)
    }

    /// Where the call stands.
    pub fn state(&self) -> ReceptionState {
        self.state
    }

    /// The failed attempts so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The digits collected in the current attempt (kept while looking up, cleared by the
    /// next prompt).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// Starts an attempt: plays `prompt` and waits for the first digit.
    fn prompt(&mut self, prompt: String, now: Instant) {
        self.state = ReceptionState::Collecting;
        self.digits.clear();
        self.outputs.push_back(ReceptionOutput::Play { prompt });
        self.arm(TimerKind::Entry, self.config.entry_timeout, now);
    }

    /// Hands the digits to the router, or fails the attempt when there are none.
    fn submit(&mut self, now: Instant) {
        if self.digits.is_empty() {
            // The terminator pressed first: treat it like a wrong ID rather than route "".
            self.fail(PROMPT_INVALID_MEETING_ID, now);
            return;
        }
        let alias = match &self.config.lookup_domain {
            Some(domain) => format!("{}@{domain}", self.digits),
            None => self.digits.clone(),
        };
        self.outputs.push_back(ReceptionOutput::Route {
            alias,
            rules: self.config.lookup_rules.clone(),
        });
        self.state = ReceptionState::LookingUp;
        // The router answers; the caller's keypad and the clock have no say meanwhile.
        self.timer = None;
    }

    /// Counts a failed attempt: re-prompts with `prompt`, or disconnects after the last one.
    fn fail(&mut self, prompt: &str, now: Instant) {
        self.attempts = self.attempts.saturating_add(1);
        if self.attempts >= self.config.max_attempts {
            self.state = ReceptionState::Disconnected;
            self.timer = None;
            self.outputs.push_back(ReceptionOutput::Disconnect {
                reason: DisconnectReason::TooManyAttempts,
            });
        } else {
            self.prompt(prompt.to_owned(), now);
        }
    }

    fn arm(&mut self, kind: TimerKind, after: Duration, now: Instant) {
        // An overflowing deadline is so far away that "never" is the honest answer; validated
        // configs cap timeouts at 10 minutes, so this only guards unvalidated ones.
        self.timer = now
            .checked_add(after)
            .map(|deadline| Timer { kind, deadline });
    }
}

/// The DTMF event `c` stands for, with letters in upper case; `None` when it is none.
fn normalize_dtmf(c: char) -> Option<char> {
    let c = c.to_ascii_uppercase();
    DTMF_CHARACTERS.contains(c).then_some(c)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::de::value::{Error as ValueError, MapDeserializer};

    use super::*;

    /// The one place these tests read the clock: every other instant is `t0() + duration`.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn secs(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn config() -> VirtualReceptionConfig {
        VirtualReceptionConfig::new("gmeet", "gmeet@example.com")
    }

    fn drain(call: &mut ReceptionCall) -> Vec<ReceptionOutput> {
        std::iter::from_fn(|| call.poll_output()).collect()
    }

    fn play(prompt: &str) -> ReceptionOutput {
        ReceptionOutput::Play {
            prompt: prompt.to_owned(),
        }
    }

    fn route(alias: &str) -> ReceptionOutput {
        ReceptionOutput::Route {
            alias: alias.to_owned(),
            rules: Vec::new(),
        }
    }

    fn disconnect() -> ReceptionOutput {
        ReceptionOutput::Disconnect {
            reason: DisconnectReason::TooManyAttempts,
        }
    }

    /// Types `digits` one per 100 ms starting at `start`; returns the time of the last one.
    fn type_digits(call: &mut ReceptionCall, digits: &str, start: Instant) -> Instant {
        let mut now = start;
        for (i, digit) in digits.chars().enumerate() {
            now = start + ms(100) * u32::try_from(i).expect("short test input");
            call.handle_dtmf(digit, now);
        }
        now
    }

    /// A call that has just submitted `digits` with `#` and is waiting for the router.
    fn looking_up(config: &VirtualReceptionConfig, digits: &str, t: Instant) -> ReceptionCall {
        let mut call = ReceptionCall::new(config, t);
        type_digits(&mut call, &format!("{digits}#"), t + secs(1));
        drain(&mut call);
        assert_eq!(call.state(), ReceptionState::LookingUp);
        call
    }

    // ---- the state machine ----

    #[test]
    fn new_call_prompts_and_arms_the_entry_timer() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        assert_eq!(drain(&mut call), vec![play("enter_meeting_id")]);
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.poll_timeout(), Some(t + secs(30)));
        assert_eq!(call.attempts(), 0);
        assert_eq!(call.digits(), "");
    }

    #[test]
    fn custom_prompt_is_played_first() {
        let mut config = config();
        config.prompt = "welcome".to_owned();
        let mut call = ReceptionCall::new(&config, t0());
        assert_eq!(drain(&mut call), vec![play("welcome")]);
    }

    #[test]
    fn digits_with_terminator_route_at_once() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        type_digits(&mut call, "1234567890#", t + secs(2));
        assert_eq!(drain(&mut call), vec![route("1234567890")]);
        assert_eq!(call.state(), ReceptionState::LookingUp);
        assert_eq!(call.poll_timeout(), None);
        assert_eq!(call.digits(), "1234567890");
    }

    #[test]
    fn digits_without_terminator_route_when_the_digit_timer_fires() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        let last = type_digits(&mut call, "4242", t + secs(2));
        assert_eq!(call.poll_timeout(), Some(last + secs(5)));
        assert_eq!(drain(&mut call), vec![]);

        // 1 ms early: nothing happens.
        call.handle_timeout(last + secs(5) - ms(1));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.poll_timeout(), Some(last + secs(5)));

        call.handle_timeout(last + secs(5));
        assert_eq!(drain(&mut call), vec![route("4242")]);
        assert_eq!(call.state(), ReceptionState::LookingUp);
        assert_eq!(call.poll_timeout(), None);
    }

    #[test]
    fn first_digit_replaces_the_entry_timer_and_each_digit_rearms_it() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        assert_eq!(call.poll_timeout(), Some(t + secs(30)));
        call.handle_dtmf('1', t + secs(29));
        assert_eq!(call.poll_timeout(), Some(t + secs(34)));
        // The old entry deadline passing is no longer an entry timeout.
        call.handle_timeout(t + secs(30));
        assert_eq!(call.state(), ReceptionState::Collecting);
        call.handle_dtmf('2', t + secs(33));
        assert_eq!(call.poll_timeout(), Some(t + secs(38)));
        call.handle_timeout(t + secs(34));
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.digits(), "12");
    }

    #[test]
    fn lookup_domain_is_appended() {
        let mut config = config();
        config.lookup_domain = Some("meet.example.com".to_owned());
        let t = t0();
        let mut call = ReceptionCall::new(&config, t);
        drain(&mut call);
        type_digits(&mut call, "123#", t + secs(1));
        assert_eq!(drain(&mut call), vec![route("123@meet.example.com")]);
    }

    #[test]
    fn lookup_rules_are_passed_through() {
        let mut config = config();
        config.lookup_rules = vec!["meet-numeric".to_owned(), "meet-codes".to_owned()];
        let t = t0();
        let mut call = ReceptionCall::new(&config, t);
        drain(&mut call);
        type_digits(&mut call, "99#", t + secs(1));
        assert_eq!(
            drain(&mut call),
            vec![ReceptionOutput::Route {
                alias: "99".to_owned(),
                rules: vec!["meet-numeric".to_owned(), "meet-codes".to_owned()],
            }]
        );
    }

    #[test]
    fn entry_timeout_reprompts_no_input() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        call.handle_timeout(t + secs(30) - ms(1));
        assert_eq!(drain(&mut call), vec![]);
        call.handle_timeout(t + secs(30));
        assert_eq!(drain(&mut call), vec![play(PROMPT_NO_INPUT)]);
        assert_eq!(call.attempts(), 1);
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.poll_timeout(), Some(t + secs(60)));
    }

    #[test]
    fn late_timeout_fires_once() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        // The node woke up late: the timer fires once, and the new one counts from `now`.
        call.handle_timeout(t + secs(45));
        assert_eq!(drain(&mut call), vec![play(PROMPT_NO_INPUT)]);
        assert_eq!(call.poll_timeout(), Some(t + secs(75)));
        call.handle_timeout(t + secs(45));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.attempts(), 1);
    }

    #[test]
    fn wrong_id_reprompts_invalid_meeting_id() {
        let t = t0();
        let mut call = looking_up(&config(), "111", t);
        call.handle_lookup(false, t + secs(3));
        assert_eq!(drain(&mut call), vec![play(PROMPT_INVALID_MEETING_ID)]);
        assert_eq!(call.attempts(), 1);
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.digits(), "");
        assert_eq!(call.poll_timeout(), Some(t + secs(33)));

        // The second attempt starts from scratch.
        type_digits(&mut call, "222#", t + secs(4));
        assert_eq!(drain(&mut call), vec![route("222")]);
    }

    #[test]
    fn terminator_first_is_a_wrong_id() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        call.handle_dtmf('#', t + secs(1));
        assert_eq!(drain(&mut call), vec![play(PROMPT_INVALID_MEETING_ID)]);
        assert_eq!(call.attempts(), 1);
        assert_eq!(call.poll_timeout(), Some(t + secs(31)));
    }

    #[test]
    fn three_failures_disconnect_with_max_attempts_3() {
        let t = t0();
        let mut call = looking_up(&config(), "1", t);
        call.handle_lookup(false, t + secs(2));
        assert_eq!(drain(&mut call), vec![play(PROMPT_INVALID_MEETING_ID)]);

        // Failures of different kinds count together.
        call.handle_timeout(t + secs(32));
        assert_eq!(drain(&mut call), vec![play(PROMPT_NO_INPUT)]);
        assert_eq!(call.attempts(), 2);

        call.handle_dtmf('#', t + secs(33));
        assert_eq!(drain(&mut call), vec![disconnect()]);
        assert_eq!(call.attempts(), 3);
        assert_eq!(call.state(), ReceptionState::Disconnected);
        assert_eq!(call.poll_timeout(), None);
    }

    #[test]
    fn one_failure_disconnects_with_max_attempts_1() {
        let mut config = config();
        config.max_attempts = 1;
        let t = t0();
        let mut call = looking_up(&config, "5", t);
        call.handle_lookup(false, t + secs(2));
        assert_eq!(drain(&mut call), vec![disconnect()]);
        assert_eq!(call.attempts(), 1);
        assert_eq!(call.state(), ReceptionState::Disconnected);
    }

    #[test]
    fn entry_timeouts_alone_disconnect() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        for _ in 0..3 {
            let deadline = call.poll_timeout().expect("collecting has a timer");
            call.handle_timeout(deadline);
        }
        assert_eq!(
            drain(&mut call),
            vec![play(PROMPT_NO_INPUT), play(PROMPT_NO_INPUT), disconnect()]
        );
    }

    #[test]
    fn inputs_after_disconnect_are_ignored() {
        let mut config = config();
        config.max_attempts = 1;
        let t = t0();
        let mut call = ReceptionCall::new(&config, t);
        call.handle_timeout(t + secs(30));
        call.handle_dtmf('1', t + secs(31));
        call.handle_timeout(t + secs(100));
        call.handle_lookup(false, t + secs(101));
        call.handle_hangup(t + secs(102));
        assert_eq!(
            drain(&mut call),
            vec![play("enter_meeting_id"), disconnect()]
        );
        assert_eq!(call.state(), ReceptionState::Disconnected);
        assert_eq!(call.poll_timeout(), None);
    }

    #[test]
    fn hangup_mid_entry_silences_the_call() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        call.handle_dtmf('1', t + secs(1));
        // The prompt is still queued: hanging up drops it, nobody is left to hear it.
        call.handle_hangup(t + secs(2));
        assert_eq!(call.state(), ReceptionState::HungUp);
        assert_eq!(call.poll_timeout(), None);
        assert_eq!(drain(&mut call), vec![]);

        call.handle_dtmf('2', t + secs(3));
        call.handle_dtmf('#', t + secs(3));
        call.handle_timeout(t + secs(60));
        call.handle_lookup(true, t + secs(61));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.state(), ReceptionState::HungUp);
        assert_eq!(call.poll_timeout(), None);
    }

    #[test]
    fn hangup_while_looking_up_ignores_the_late_answer() {
        let t = t0();
        let mut call = looking_up(&config(), "77", t);
        call.handle_hangup(t + secs(2));
        call.handle_lookup(false, t + secs(3));
        assert_eq!(call.state(), ReceptionState::HungUp);
        assert_eq!(call.attempts(), 0);
        assert_eq!(drain(&mut call), vec![]);
    }

    #[test]
    fn found_routes_and_ends_the_reception() {
        let t = t0();
        let mut call = looking_up(&config(), "1234", t);
        call.handle_lookup(true, t + secs(2));
        assert_eq!(call.state(), ReceptionState::Routed);
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.poll_timeout(), None);

        call.handle_dtmf('5', t + secs(3));
        call.handle_timeout(t + secs(100));
        call.handle_lookup(false, t + secs(101));
        call.handle_hangup(t + secs(102));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.state(), ReceptionState::Routed);
        assert_eq!(call.attempts(), 0);
    }

    #[test]
    fn dtmf_and_timeouts_during_lookup_are_ignored() {
        let t = t0();
        let mut call = looking_up(&config(), "12", t);
        call.handle_dtmf('3', t + secs(2));
        call.handle_dtmf('#', t + secs(2));
        call.handle_timeout(t + secs(100));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.state(), ReceptionState::LookingUp);
        assert_eq!(call.digits(), "12");
        assert_eq!(call.poll_timeout(), None);
    }

    #[test]
    fn lookup_answer_while_collecting_is_ignored() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        call.handle_lookup(true, t + secs(1));
        call.handle_lookup(false, t + secs(1));
        assert_eq!(call.state(), ReceptionState::Collecting);
        assert_eq!(call.attempts(), 0);
        assert_eq!(drain(&mut call), vec![]);
    }

    #[test]
    fn invalid_characters_are_ignored_and_letters_upper_cased() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        for c in ['x', 'E', ' ', '\n', '+', 'é', '1', 'a', '*', 'D'] {
            call.handle_dtmf(c, t + secs(1));
        }
        assert_eq!(call.digits(), "1A*D");
        // Ignored characters did not re-arm anything before the first accepted digit.
        assert_eq!(call.poll_timeout(), Some(t + secs(6)));
    }

    #[test]
    fn invalid_characters_alone_do_not_stop_the_entry_timer() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        call.handle_dtmf('z', t + secs(10));
        assert_eq!(call.poll_timeout(), Some(t + secs(30)));
        call.handle_timeout(t + secs(30));
        assert_eq!(drain(&mut call), vec![play(PROMPT_NO_INPUT)]);
    }

    #[test]
    fn no_terminator_makes_hash_an_ordinary_digit() {
        let mut config = config();
        config.terminator = String::new();
        let t = t0();
        let mut call = ReceptionCall::new(&config, t);
        drain(&mut call);
        let last = type_digits(&mut call, "12#", t + secs(1));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.digits(), "12#");
        call.handle_timeout(last + secs(5));
        assert_eq!(drain(&mut call), vec![route("12#")]);
    }

    #[test]
    fn other_terminator_submits_and_hash_is_a_digit() {
        let mut config = config();
        config.terminator = "*".to_owned();
        let t = t0();
        let mut call = ReceptionCall::new(&config, t);
        drain(&mut call);
        type_digits(&mut call, "1#2*", t + secs(1));
        assert_eq!(drain(&mut call), vec![route("1#2")]);
    }

    #[test]
    fn thirty_two_digits_submit_at_once() {
        let t = t0();
        let mut call = ReceptionCall::new(&config(), t);
        drain(&mut call);
        let thirty_one = "1".repeat(MAX_DIGITS - 1);
        type_digits(&mut call, &thirty_one, t + secs(1));
        assert_eq!(drain(&mut call), vec![]);
        assert_eq!(call.state(), ReceptionState::Collecting);

        call.handle_dtmf('2', t + secs(10));
        let expected = format!("{thirty_one}2");
        assert_eq!(drain(&mut call), vec![route(&expected)]);
        assert_eq!(call.state(), ReceptionState::LookingUp);
        assert_eq!(call.digits().len(), MAX_DIGITS);
    }

    #[test]
    fn disconnect_reason_label() {
        assert_eq!(
            DisconnectReason::TooManyAttempts.label(),
            "too_many_attempts"
        );
    }

    // ---- validation ----

    fn validation_error(edit: impl FnOnce(&mut VirtualReceptionConfig)) -> String {
        let mut config = config();
        edit(&mut config);
        config
            .validate()
            .expect_err("the edit makes the config invalid")
            .to_string()
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(config().validate(), Ok(()));
        let mut full = config();
        full.terminator = String::new();
        full.max_attempts = 10;
        full.digit_timeout = ms(500);
        full.entry_timeout = secs(600);
        full.lookup_domain = Some("meet.example.com".to_owned());
        full.lookup_rules = vec!["meet".to_owned()];
        assert_eq!(full.validate(), Ok(()));
    }

    #[test]
    fn empty_name_is_refused_with_an_empty_item() {
        let error = VirtualReceptionConfig::new("", "gmeet@example.com")
            .validate()
            .expect_err("empty name");
        assert_eq!(error.item, "routing.virtual_receptions[]");
        assert_eq!(error.field, "name");
        assert_eq!(
            error.to_string(),
            "routing.virtual_receptions[].name: must not be empty"
        );
    }

    #[test]
    fn bad_alias_is_refused() {
        assert_eq!(
            validation_error(|c| c.alias = String::new()),
            "routing.virtual_receptions[gmeet].alias: must not be empty"
        );
        assert!(
            validation_error(|c| c.alias = "gmeet @example.com".to_owned())
                .starts_with("routing.virtual_receptions[gmeet].alias: ")
        );
    }

    #[test]
    fn max_attempts_out_of_range_is_refused() {
        for bad in [0, 11] {
            assert_eq!(
                validation_error(|c| c.max_attempts = bad),
                format!(
                    "routing.virtual_receptions[gmeet].max_attempts: {bad} is out of range; write 1 to 10"
                )
            );
        }
    }

    #[test]
    fn bad_timeouts_are_refused() {
        assert_eq!(
            validation_error(|c| c.digit_timeout = Duration::ZERO),
            "routing.virtual_receptions[gmeet].digit_timeout: must be longer than zero"
        );
        assert_eq!(
            validation_error(|c| c.entry_timeout = secs(601)),
            "routing.virtual_receptions[gmeet].entry_timeout: 10m 1s is longer than the limit of 10m"
        );
        assert!(
            validation_error(|c| c.digit_timeout = secs(3600))
                .starts_with("routing.virtual_receptions[gmeet].digit_timeout: ")
        );
    }

    #[test]
    fn bad_terminator_is_refused() {
        for bad in ["##", "x", "a", " ", "1 "] {
            assert!(
                validation_error(|c| c.terminator = bad.to_owned())
                    .starts_with("routing.virtual_receptions[gmeet].terminator: "),
                "{bad:?} should be refused"
            );
        }
        for good in ["", "#", "*", "0", "D"] {
            let mut config = config();
            config.terminator = good.to_owned();
            assert_eq!(config.validate(), Ok(()), "{good:?} should be accepted");
        }
    }

    #[test]
    fn bad_lookup_domain_is_refused() {
        for bad in ["", "meet example.com", "@meet.example.com", "a@b"] {
            assert!(
                validation_error(|c| c.lookup_domain = Some(bad.to_owned()))
                    .starts_with("routing.virtual_receptions[gmeet].lookup_domain: "),
                "{bad:?} should be refused"
            );
        }
    }

    // ---- serde ----

    /// Deserializes a flat table of string values, the way a TOML table of strings reaches
    /// serde (there is no TOML parser among this crate's dependencies). Only `String` and
    /// duration fields can be given this way: a bare string deserializer cannot stand in for
    /// `max_attempts`, `lookup_rules` or the `Option` of `lookup_domain`.
    fn from_strings(table: &[(&str, &str)]) -> Result<VirtualReceptionConfig, ValueError> {
        let map: BTreeMap<&str, &str> = table.iter().copied().collect();
        VirtualReceptionConfig::deserialize(MapDeserializer::<_, ValueError>::new(map.into_iter()))
    }

    #[test]
    fn minimal_table_gets_every_default() {
        let config = from_strings(&[("name", "gmeet"), ("alias", "gmeet@example.com")])
            .expect("name and alias are enough");
        assert_eq!(
            config,
            VirtualReceptionConfig::new("gmeet", "gmeet@example.com")
        );
        assert_eq!(config.prompt, "enter_meeting_id");
        assert_eq!(config.digit_timeout, secs(5));
        assert_eq!(config.entry_timeout, secs(30));
        assert_eq!(config.max_attempts, 3);
        assert_eq!(config.terminator, "#");
        assert!(config.lookup_rules.is_empty());
        assert_eq!(config.lookup_domain, None);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn human_durations_and_strings_are_read() {
        let config = from_strings(&[
            ("name", "gmeet"),
            ("alias", "gmeet@example.com"),
            ("prompt", "welcome"),
            ("digit_timeout", "500ms"),
            ("entry_timeout", "1m 30s"),
            ("terminator", "*"),
        ])
        .expect("valid table");
        assert_eq!(config.prompt, "welcome");
        assert_eq!(config.digit_timeout, ms(500));
        assert_eq!(config.entry_timeout, secs(90));
        assert_eq!(config.terminator, "*");
    }

    #[test]
    fn missing_required_and_unknown_fields_are_refused() {
        let missing = from_strings(&[("name", "gmeet")]).expect_err("alias is required");
        assert!(missing.to_string().contains("alias"), "{missing}");

        let unknown = from_strings(&[
            ("name", "gmeet"),
            ("alias", "gmeet@example.com"),
            ("max_attempt", "3"),
        ])
        .expect_err("typo in a key");
        assert!(unknown.to_string().contains("max_attempt"), "{unknown}");

        let bad_duration = from_strings(&[
            ("name", "gmeet"),
            ("alias", "gmeet@example.com"),
            ("digit_timeout", "soon"),
        ])
        .expect_err("not a duration");
        assert!(bad_duration.to_string().contains("soon"), "{bad_duration}");
    }
}
