//! One-Touch-Join meeting processing rules: from a calendar event to the URI a room system dials.
//!
//! Room systems with One-Touch Join get their calendar; for each event the operator's
//! `[[routing.otj_rules]]` decide which URI the room's "Join" button dials. The enabled rules are
//! tried in ascending `priority` (ties keep the order of the file) and the first rule that
//! produces a non-empty result wins; an event no rule matches gets no join button.
//!
//! Two kinds of rule:
//!
//! - `meet_guest_join` ("SIP Guest Join"): joins Google Meet meetings hosted by other
//!   organisations by dialling `<meeting code>@google.pexip.me` (or the rule's `domain`), which
//!   routes to an external SIP service. It is the built-in equivalent of the vendor's template:
//!   a `sip:<digits>@<domain>` URI in the body wins and is dialled as `<digits>@<domain>`;
//!   otherwise the first `https://meet.google.com/<abc-defg-hij>` link gives
//!   `<abc-defg-hij>@<domain>`.
//! - `custom`: a [minijinja] (Jinja2) template rendered with `calendar_event` (`subject`,
//!   `body`) in its context. `regex_search(pattern, text)`, also registered as
//!   `pex_regex_search` so that vendor templates work unchanged, returns the capture groups of
//!   the first match as a list (the whole match when the pattern has no group) or `none`.
//!   The output is trimmed; empty output means "no result, try the next rule".
//!
//! Operator templates are bounded: each render gets [`TEMPLATE_FUEL`] instructions and at most
//! [`MAX_TEMPLATE_OUTPUT`] bytes of output, and `regex_search` patterns are compiled with a size
//! limit. A template that runs out, or fails in any other way while rendering (an invalid
//! pattern, a type error), produces no result for that event: the next rule is tried, nothing
//! panics. Syntax errors are found when the rules are loaded ([`OtjRules::new`]).
//!
//! # Escapes in template string literals
//!
//! minijinja decodes escapes in string literals the way JSON and Python do before the regex
//! sees the pattern: `\/` becomes `/`, `\"`, `\'` and `\\` their character, `\n`, `\r`, `\t`,
//! `\b` (backspace!) and `\f` control characters, `\uXXXX`, `\xHH` and `\0`-`\7` (octal) the
//! character they encode. Every other escaped character keeps its backslash, so `\.`, `\-`,
//! `\d`, `\s` and `\w` reach the regex as written; the vendor pattern
//! `"https:\/\/meet\.google\.com\/([a-z\-]+)"` works unchanged. Write `\\b` for a regex word
//! boundary.

use std::collections::HashSet;
use std::io;
use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, ErrorKind, Value};
use regex::{Captures, Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The SIP domain `meet_guest_join` rules dial when they set no `domain`.
pub const DEFAULT_GUEST_JOIN_DOMAIN: &str = "google.pexip.me";

/// Lowest and highest `priority` an OTJ rule may have.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<u32> = 1..=200;

/// Template instructions one render of a custom rule may execute. The vendor's SIP Guest Join
/// template needs well under 1% of it; 50 000 leaves room for real templates with loops while
/// stopping a runaway one within milliseconds.
pub const TEMPLATE_FUEL: u64 = 50_000;

/// Bytes of output a custom rule's render may write before it is stopped. A URI is far shorter;
/// the bound stops a template that writes in a loop from growing memory.
pub const MAX_TEMPLATE_OUTPUT: usize = 4096;

/// Compiled size limit of a `regex_search` pattern, so that a huge repetition like
/// `a{1000}{1000}` is an error rather than a large allocation.
const TEMPLATE_REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A SIP URI in the body: `sip:<digits>@<domain>`. The vendor's pattern, case-insensitive, made
/// to start at a word boundary (so `gossip:` is not one) and to accept digits in the domain.
static SIP_URI: LazyLock<Regex> =
    LazyLock::new(|| constant_regex(r"(?i:\bsip:)([0-9]+)@([a-zA-Z0-9.\-]+)"));

/// A Google Meet link. The code must not run on into more letters, digits or hyphens, so
/// `abc-defg-hijk` is not read as `abc-defg-hij`; anything else (`?`, `"`, `<`, `&amp;`,
/// whitespace, the end) may follow. ASCII classes, not `(?i)[a-z]`, which would also accept
/// the Kelvin sign.
static MEET_LINK: LazyLock<Regex> = LazyLock::new(|| {
    constant_regex(
        r"(?i:https://meet\.google\.com/)([a-zA-Z]{3}-[a-zA-Z]{4}-[a-zA-Z]{3})(?:[^a-zA-Z0-9_\-]|$)",
    )
});

/// Compiles one of this module's constant patterns.
fn constant_regex(pattern: &str) -> Regex {
    // Invariant: the patterns are constants, compiled by every test that processes an event.
    Regex::new(pattern).expect("constant pattern compiles")
}

/// The kind of an OTJ rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OtjKind {
    /// SIP Guest Join to Google Meet: `<meeting code>@<domain>`, or a SIP URI in the body.
    MeetGuestJoin,
    /// An operator template (`template`).
    Custom,
}

/// One `[[routing.otj_rules]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OtjRuleConfig {
    /// The rule's name, unique among the OTJ rules; required.
    pub name: String,
    /// Order of evaluation, 1 to 200, lowest first; rules with the same priority keep the order
    /// of the file. Required.
    pub priority: u32,
    /// Whether the rule is used. Default `true`; a disabled rule is still checked at load.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// What the rule does; required.
    pub kind: OtjKind,
    /// The Jinja template of a `custom` rule: required there, refused for `meet_guest_join`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The SIP domain of a `meet_guest_join` rule; none means [`DEFAULT_GUEST_JOIN_DOMAIN`].
    /// Refused for `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// A calendar event as a room system's calendar shows it; `calendar_event` in templates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CalendarEvent {
    /// The event's title.
    pub subject: String,
    /// The event's description, plain text or HTML, where the join links are.
    pub body: String,
}

/// The result of processing an event: which rule matched and the URI to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtjMatch {
    /// The name of the rule that produced the URI.
    pub rule: String,
    /// The URI as the rule produced it, trimmed, e.g. `abc-defg-hij@google.pexip.me` (no `sip:`).
    pub uri: String,
}

/// The loaded OTJ rules, in evaluation order, with their compiled templates.
#[derive(Clone, Debug)]
pub struct OtjRules {
    /// Sorted by priority; a stable sort keeps file order among equal priorities.
    rules: Vec<Rule>,
    /// Holds one template per custom rule, named after the rule.
    env: Environment<'static>,
}

#[derive(Clone, Debug)]
struct Rule {
    name: String,
    priority: u32,
    enabled: bool,
    action: Action,
}

#[derive(Clone, Debug)]
enum Action {
    /// Dial `<meeting code>@domain`, or a SIP URI found in the body.
    MeetGuestJoin { domain: String },
    /// Render the template named after the rule.
    Custom,
}

/// The context a custom template is rendered with.
#[derive(Serialize)]
struct TemplateContext<'a> {
    calendar_event: &'a CalendarEvent,
}

impl Default for OtjRules {
    /// No rules: every event gets no join URI.
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            env: template_environment(),
        }
    }
}

impl OtjRules {
    /// Checks and compiles the rules. The error names the first rule that cannot be used, as
    /// `routing.otj_rules[<name>]`, and the field at fault.
    pub fn new(configs: &[OtjRuleConfig]) -> Result<Self, ConfigError> {
        let mut rules = Self::default();
        let mut names = HashSet::new();
        for config in configs {
            let item = format!("routing.otj_rules[{}]", config.name);
            check_name(&item, config, &mut names)?;
            check_priority(&item, config.priority)?;
            let action = rules.action(&item, config)?;
            rules.rules.push(Rule {
                name: config.name.clone(),
                priority: config.priority,
                enabled: config.enabled,
                action,
            });
        }
        rules.rules.sort_by_key(|rule| rule.priority);
        Ok(rules)
    }

    /// The URI to dial for `event`: the result of the first enabled rule, in priority order,
    /// that produces a non-empty one. `None` when no rule does.
    pub fn process(&self, event: &CalendarEvent) -> Option<OtjMatch> {
        self.rules
            .iter()
            .filter(|rule| rule.enabled)
            .find_map(|rule| {
                let uri = match &rule.action {
                    Action::MeetGuestJoin { domain } => meet_guest_join(&event.body, domain),
                    Action::Custom => self.render(&rule.name, event),
                }?;
                Some(OtjMatch {
                    rule: rule.name.clone(),
                    uri,
                })
            })
    }

    /// The number of rules, enabled or not.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Checks the kind-specific fields of `config` and, for a custom rule, compiles its template.
    fn action(&mut self, item: &str, config: &OtjRuleConfig) -> Result<Action, ConfigError> {
        match config.kind {
            OtjKind::MeetGuestJoin => {
                if config.template.is_some() {
                    return Err(ConfigError::new(
                        item,
                        "template",
                        "only `custom` rules have a template",
                    ));
                }
                let domain = config
                    .domain
                    .as_deref()
                    .unwrap_or(DEFAULT_GUEST_JOIN_DOMAIN);
                check_domain(item, domain)?;
                Ok(Action::MeetGuestJoin {
                    domain: domain.to_owned(),
                })
            }
            OtjKind::Custom => {
                if config.domain.is_some() {
                    return Err(ConfigError::new(
                        item,
                        "domain",
                        "only `meet_guest_join` rules have a domain; write it in the template",
                    ));
                }
                let template = config.template.as_deref().unwrap_or_default();
                if template.trim().is_empty() {
                    return Err(ConfigError::new(
                        item,
                        "template",
                        "a `custom` rule needs a template",
                    ));
                }
                self.env
                    .add_template_owned(config.name.clone(), template.to_owned())
                    .map_err(|e| ConfigError::new(item, "template", e.to_string()))?;
                Ok(Action::Custom)
            }
        }
    }

    /// Renders the custom rule `name` for `event`: its trimmed output, or `None` when it is empty
    /// or rendering fails (out of fuel, too much output, an invalid pattern, a type error).
    fn render(&self, name: &str, event: &CalendarEvent) -> Option<String> {
        let template = self.env.get_template(name).ok()?;
        let mut output = BoundedOutput::default();
        let context = TemplateContext {
            calendar_event: event,
        };
        template.render_captured_to(context, &mut output).ok()?;
        let text = String::from_utf8(output.0).ok()?;
        non_empty(text.trim())
    }
}

/// Refuses an empty or duplicate name; `names` collects the names seen so far.
fn check_name<'a>(
    item: &str,
    config: &'a OtjRuleConfig,
    names: &mut HashSet<&'a str>,
) -> Result<(), ConfigError> {
    if config.name.trim().is_empty() {
        return Err(ConfigError::new(item, "name", "must not be empty"));
    }
    if !names.insert(&config.name) {
        return Err(ConfigError::new(
            item,
            "name",
            "another OTJ rule has the same name",
        ));
    }
    Ok(())
}

fn check_priority(item: &str, priority: u32) -> Result<(), ConfigError> {
    if PRIORITY_RANGE.contains(&priority) {
        return Ok(());
    }
    Err(ConfigError::new(
        item,
        "priority",
        format!(
            "{priority} is out of range {}..={}",
            PRIORITY_RANGE.start(),
            PRIORITY_RANGE.end()
        ),
    ))
}

/// A guest-join domain is the host part of the URI dialled: no user part, path or spaces.
fn check_domain(item: &str, domain: &str) -> Result<(), ConfigError> {
    if domain.is_empty() {
        return Err(ConfigError::new(item, "domain", "must not be empty"));
    }
    if domain
        .chars()
        .any(|c| c.is_whitespace() || c == '@' || c == '/')
    {
        return Err(ConfigError::new(
            item,
            "domain",
            format!(
                "`{domain}` is not a domain (no spaces, `@` or `/`), e.g. `{DEFAULT_GUEST_JOIN_DOMAIN}`"
            ),
        ));
    }
    Ok(())
}

/// The environment custom templates live in: no auto-escaping (the output is a URI, and a rule
/// named `x.html` must not turn `&` into `&amp;`), bounded fuel, and `regex_search`.
fn template_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_function("regex_search", regex_search);
    // The vendor's name for it, so that their documented templates work unchanged.
    env.add_function("pex_regex_search", regex_search);
    env
}

/// `regex_search(pattern, text)`: the capture groups of the first match of `pattern` in `text`
/// as a list of strings (a group that did not take part is `""`), the whole match as a
/// one-element list when the pattern has no group, or `none` when nothing matches.
fn regex_search(pattern: &str, text: &str) -> Result<Value, minijinja::Error> {
    let regex = RegexBuilder::new(pattern)
        .size_limit(TEMPLATE_REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("regex_search: invalid pattern `{pattern}`: {e}"),
            )
        })?;
    Ok(regex.captures(text).map_or_else(
        || Value::from(()),
        |captures| Value::from(groups(&captures)),
    ))
}

/// Groups 1..n of a match, or group 0 (the whole match) when there are no others.
fn groups(captures: &Captures<'_>) -> Vec<String> {
    let skip = usize::from(captures.len() > 1);
    captures
        .iter()
        .skip(skip)
        .map(|group| group.map_or_else(String::new, |m| m.as_str().to_owned()))
        .collect()
}

/// A template's output, refusing writes past [`MAX_TEMPLATE_OUTPUT`]. minijinja writes whole
/// strings, and a refused write adds nothing, so the buffer stays UTF-8.
#[derive(Default)]
struct BoundedOutput(Vec<u8>);

impl io::Write for BoundedOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.0.len() + data.len() > MAX_TEMPLATE_OUTPUT {
            return Err(io::Error::other("template output too long"));
        }
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SIP Guest Join: a SIP URI in the body first, as the vendor template does, else a Meet link.
fn meet_guest_join(body: &str, domain: &str) -> Option<String> {
    sip_uri(body).or_else(|| meet_code(body).map(|code| format!("{code}@{domain}")))
}

/// The first `sip:<digits>@<domain>` in `body`, as `<digits>@<domain>` with the domain
/// lowercased. A sentence's full stop after the URI is not part of the domain.
fn sip_uri(body: &str) -> Option<String> {
    SIP_URI.captures_iter(body).find_map(|captures| {
        let user = captures.get(1)?.as_str();
        let host = captures.get(2)?.as_str().trim_end_matches(['.', '-']);
        let host = non_empty(host)?;
        Some(format!("{user}@{}", host.to_ascii_lowercase()))
    })
}

/// The meeting code of the first Meet link in `body`, lowercased.
fn meet_code(body: &str) -> Option<String> {
    let code = MEET_LINK.captures(body)?.get(1)?.as_str();
    Some(code.to_ascii_lowercase())
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str, template: &str) -> OtjRuleConfig {
        OtjRuleConfig {
            name: name.to_owned(),
            priority: 10,
            enabled: true,
            kind: OtjKind::Custom,
            template: Some(template.to_owned()),
            domain: None,
        }
    }

    /// Renders `template` and returns the fuel it consumed, to check [`TEMPLATE_FUEL`]'s margin.
    fn fuel_used(template: &str, body: &str) -> u64 {
        let rules = OtjRules::new(&[custom("t", template)]).unwrap();
        let event = CalendarEvent {
            subject: String::new(),
            body: body.to_owned(),
        };
        let template = rules.env.get_template("t").unwrap();
        let captured = template
            .render_captured_to(
                TemplateContext {
                    calendar_event: &event,
                },
                &mut BoundedOutput::default(),
            )
            .unwrap();
        captured.state().fuel_levels().unwrap().0
    }

    #[test]
    fn vendor_template_uses_a_small_fraction_of_the_fuel() {
        let vendor = r#"{% set sipJoin = pex_regex_search("https:\/\/meet\.google\.com\/([a-z\-]+)", calendar_event.body) %}
{% set sipMatch = pex_regex_search("sip:([0-9]+@[a-z\-.]+)", calendar_event.body) %}
{% if sipMatch %}{{sipMatch[0]}}{% elif sipJoin %}{{sipJoin[0]}}@google.pexip.me{% endif %}"#;
        let used = fuel_used(vendor, "https://meet.google.com/abc-defg-hij");
        assert!(used > 0 && used < TEMPLATE_FUEL / 100, "{used}");
    }

    #[test]
    fn groups_of_a_pattern_without_groups_is_the_whole_match() {
        let regex = Regex::new("[0-9]+").unwrap();
        assert_eq!(groups(&regex.captures("ab 123 cd").unwrap()), ["123"]);
    }

    #[test]
    fn groups_that_did_not_take_part_are_empty() {
        let regex = Regex::new("(a)|(b)").unwrap();
        assert_eq!(groups(&regex.captures("b").unwrap()), ["", "b"]);
    }

    #[test]
    fn bounded_output_refuses_past_the_limit() {
        use std::io::Write as _;
        let mut output = BoundedOutput::default();
        output.write_all(&[b'x'; MAX_TEMPLATE_OUTPUT]).unwrap();
        assert!(output.write_all(b"y").is_err());
        assert_eq!(output.0.len(), MAX_TEMPLATE_OUTPUT);
    }
}
