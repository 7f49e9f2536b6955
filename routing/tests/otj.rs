//! One-Touch-Join rules over realistic calendar bodies: SIP Guest Join, custom templates
//! (the vendor's verbatim), priority, fuel, and the configuration errors.

use routing::otj::{
    CalendarEvent, DEFAULT_GUEST_JOIN_DOMAIN, OtjKind, OtjMatch, OtjRuleConfig, OtjRules,
};

/// The vendor's SIP Guest Join template, verbatim.
const VENDOR_TEMPLATE: &str = r#"{% set sipJoin = pex_regex_search("https:\/\/meet\.google\.com\/([a-z\-]+)", calendar_event.body) %}
{% set sipMatch = pex_regex_search("sip:([0-9]+@[a-z\-.]+)", calendar_event.body) %}

{% if sipMatch %}
{{sipMatch[0]}}
{% elif sipJoin %}
{{sipJoin[0]}}@google.pexip.me
{% endif %}"#;

const GOOGLE_PLAIN: &str = "Quarterly planning
Friday 14 March 2025 · 10:00 – 11:00
Time zone: Europe/London

Join with Google Meet: https://meet.google.com/abc-defg-hij
Or dial: (GB) +44 20 3937 1234 PIN: 123 456 789#
More phone numbers: https://tel.meet/abc-defg-hij?pin=1234567890123

Join by phone
(US) +1 347-555-0100 PIN: 987 654 321#
";

const GOOGLE_HTML: &str = r#"<p>Weekly sync</p><br><span>Join with Google Meet</span><br>
<a href="https://meet.google.com/abc-defg-hij?authuser=0&amp;hs=122" id="meet_link" style="color:#1a73e8">meet.google.com/abc-defg-hij</a><br>
<span>Join by phone</span><br><a href="tel:+44-20-3937-1234;123456789%23">+44 20 3937 1234</a> PIN: 123456789#"#;

const SEVERAL_LINKS: &str = "Agenda: vendor review.

Zoom: https://us02web.zoom.us/j/81234567890?pwd=QWxhZGRpbjpvcGVuIHNlc2FtZQ
Meeting ID: 812 3456 7890
Join by SIP
81234567890@zoomcrc.com

Microsoft Teams meeting
Join on your computer: https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjY4ZTU1%40thread.v2/0
Join with a video conferencing device
teams@vc.example.com Video Conference ID: 123 456 789 0

Backup: https://meet.google.com/xyz-abcd-efg
";

const SIP_AND_MEET: &str = "Board meeting
Video system: sip:1234567890@vc.example.com
Or join with Google Meet: https://meet.google.com/abc-defg-hij
";

const NO_LINK: &str = "Lunch with the team at the usual place.\nCall me on +44 20 7946 0000.";

fn event(body: &str) -> CalendarEvent {
    CalendarEvent {
        subject: "Meeting".to_owned(),
        body: body.to_owned(),
    }
}

fn guest_join(name: &str, priority: u32) -> OtjRuleConfig {
    OtjRuleConfig {
        name: name.to_owned(),
        priority,
        enabled: true,
        kind: OtjKind::MeetGuestJoin,
        template: None,
        domain: None,
    }
}

fn custom(name: &str, priority: u32, template: &str) -> OtjRuleConfig {
    OtjRuleConfig {
        name: name.to_owned(),
        priority,
        enabled: true,
        kind: OtjKind::Custom,
        template: Some(template.to_owned()),
        domain: None,
    }
}

fn matched(rule: &str, uri: &str) -> Option<OtjMatch> {
    Some(OtjMatch {
        rule: rule.to_owned(),
        uri: uri.to_owned(),
    })
}

/// The URI one rule produces for `body`.
fn uri(config: OtjRuleConfig, body: &str) -> Option<String> {
    let rules = OtjRules::new(&[config]).unwrap();
    rules.process(&event(body)).map(|m| m.uri)
}

fn guest_uri(body: &str) -> Option<String> {
    uri(guest_join("guest", 10), body)
}

fn template_uri(template: &str, body: &str) -> Option<String> {
    uri(custom("custom", 10, template), body)
}

fn some(uri: &str) -> Option<String> {
    Some(uri.to_owned())
}

// --- meet_guest_join ---

#[test]
fn guest_join_reads_a_plain_text_google_invite() {
    assert_eq!(
        guest_uri(GOOGLE_PLAIN),
        some("abc-defg-hij@google.pexip.me")
    );
}

#[test]
fn guest_join_reads_an_html_invite_with_query_and_entities() {
    assert_eq!(guest_uri(GOOGLE_HTML), some("abc-defg-hij@google.pexip.me"));
}

#[test]
fn guest_join_finds_meet_among_zoom_and_teams_links() {
    assert_eq!(
        guest_uri(SEVERAL_LINKS),
        some("xyz-abcd-efg@google.pexip.me")
    );
}

#[test]
fn guest_join_prefers_a_sip_uri_like_the_vendor_template() {
    assert_eq!(guest_uri(SIP_AND_MEET), some("1234567890@vc.example.com"));
}

#[test]
fn guest_join_without_a_link_gives_nothing() {
    assert_eq!(guest_uri(NO_LINK), None);
    assert_eq!(guest_uri(""), None);
}

#[test]
fn guest_join_reads_an_uppercase_link_and_lowercases_the_code() {
    assert_eq!(
        guest_uri("Join: HTTPS://MEET.GOOGLE.COM/ABC-DEFG-HIJ"),
        some("abc-defg-hij@google.pexip.me")
    );
    assert_eq!(
        guest_uri("SIP:1234@VC.Example.COM"),
        some("1234@vc.example.com")
    );
}

#[test]
fn guest_join_takes_the_first_meet_link() {
    let body = "https://meet.google.com/aaa-bbbb-ccc then https://meet.google.com/ddd-eeee-fff";
    assert_eq!(guest_uri(body), some("aaa-bbbb-ccc@google.pexip.me"));
}

#[test]
fn guest_join_accepts_what_may_follow_a_link() {
    for tail in [
        "",
        "?authuser=0",
        "\"",
        "<",
        " ",
        "\n",
        "&amp;hs=1",
        "/",
        ")",
        ".",
        ",",
    ] {
        let body = format!("(https://meet.google.com/abc-defg-hij{tail}");
        assert_eq!(
            guest_uri(&body),
            some("abc-defg-hij@google.pexip.me"),
            "{body:?}"
        );
    }
}

#[test]
fn guest_join_refuses_what_is_not_a_meeting_code() {
    for body in [
        "https://meet.google.com/abc-defg-hijk",
        "https://meet.google.com/abc-defg-hij-x",
        "https://meet.google.com/abc-defg-hi1",
        "https://meet.google.com/ab-cdefg-hij",
        "https://meet.google.com/lookup/abcdefghij",
        "https://meet.google.com/new",
        "https://tel.meet/abc-defg-hij?pin=1234567890123",
        "meet.google.com/abc-defg-hij",
    ] {
        assert_eq!(guest_uri(body), None, "{body}");
    }
}

#[test]
fn guest_join_skips_a_bad_code_to_find_a_good_one() {
    let body = "old https://meet.google.com/abc-defg-hijk new https://meet.google.com/xyz-abcd-efg";
    assert_eq!(guest_uri(body), some("xyz-abcd-efg@google.pexip.me"));
}

#[test]
fn guest_join_sip_uri_details() {
    // A sentence's full stop is not part of the domain.
    assert_eq!(
        guest_uri("Dial sip:4321@vc.example.com."),
        some("4321@vc.example.com")
    );
    // Digits in the domain are kept; `sip:` must start a word.
    assert_eq!(
        guest_uri("<sip:55@vc1.example.com>"),
        some("55@vc1.example.com")
    );
    assert_eq!(guest_uri("gossip:55@vc.example.com"), None);
    // Not digits in the user part: not a guest-join SIP URI.
    assert_eq!(guest_uri("sip:alice@example.com"), None);
}

#[test]
fn guest_join_uses_the_configured_domain() {
    let config = OtjRuleConfig {
        domain: Some("meet.gw.example.com".to_owned()),
        ..guest_join("guest", 10)
    };
    assert_eq!(
        uri(config, GOOGLE_PLAIN),
        some("abc-defg-hij@meet.gw.example.com")
    );
    assert_eq!(DEFAULT_GUEST_JOIN_DOMAIN, "google.pexip.me");
}

// --- custom templates ---

#[test]
fn vendor_template_works_verbatim_for_a_meet_link() {
    assert_eq!(
        template_uri(
            VENDOR_TEMPLATE,
            "Join: https://meet.google.com/abc-defg-hij"
        ),
        some("abc-defg-hij@google.pexip.me")
    );
    assert_eq!(
        template_uri(VENDOR_TEMPLATE, GOOGLE_PLAIN),
        some("abc-defg-hij@google.pexip.me")
    );
    assert_eq!(
        template_uri(VENDOR_TEMPLATE, GOOGLE_HTML),
        some("abc-defg-hij@google.pexip.me")
    );
}

#[test]
fn vendor_template_prefers_a_sip_uri() {
    assert_eq!(
        template_uri(VENDOR_TEMPLATE, SIP_AND_MEET),
        some("1234567890@vc.example.com")
    );
}

#[test]
fn vendor_template_without_a_link_gives_nothing() {
    assert_eq!(template_uri(VENDOR_TEMPLATE, NO_LINK), None);
}

#[test]
fn custom_and_guest_join_agree_on_the_vendor_cases() {
    for body in [
        GOOGLE_PLAIN,
        GOOGLE_HTML,
        SEVERAL_LINKS,
        SIP_AND_MEET,
        NO_LINK,
    ] {
        assert_eq!(
            template_uri(VENDOR_TEMPLATE, body),
            guest_uri(body),
            "{body}"
        );
    }
}

#[test]
fn template_string_escapes_reach_the_regex_as_expected() {
    // `\/` is decoded to `/`; `\.` and `\-` keep their backslash, so `.` is a literal dot.
    let dot = r#"{{ regex_search("a\/b\.c", calendar_event.body)[0] }}"#;
    assert_eq!(template_uri(dot, "x a/b.c y"), some("a/b.c"));
    assert_eq!(template_uri(dot, "x a/bXc y"), None);
    // `\b` is a backspace in a string literal; `\\b` is the regex word boundary.
    let backspace = r#"{{ regex_search("\bcat", calendar_event.body)[0] }}"#;
    assert_eq!(template_uri(backspace, "cat"), None);
    let boundary = r#"{{ regex_search("\\bcat", calendar_event.body)[0] }}"#;
    assert_eq!(template_uri(boundary, "a cat"), some("cat"));
    assert_eq!(template_uri(boundary, "concat"), None);
}

#[test]
fn regex_search_returns_groups_the_whole_match_or_none() {
    let groups = r#"{% set m = regex_search("([a-z]+)@([a-z.]+)", calendar_event.body) %}{{ m[1] }}/{{ m[0] }}/{{ m | length }}"#;
    assert_eq!(
        template_uri(groups, "mail bob@example.com"),
        some("example.com/bob/2")
    );
    let whole = r#"{{ regex_search("[0-9]{4,}", calendar_event.body) | join(",") }}"#;
    assert_eq!(template_uri(whole, "ID 98765 and 1234"), some("98765"));
    let none = r#"{% if regex_search("zzz", calendar_event.body) is none %}none{% endif %}"#;
    assert_eq!(template_uri(none, "abc"), some("none"));
}

#[test]
fn a_template_can_read_the_subject() {
    let template = r#"{% if "Board" in calendar_event.subject %}board@vc.example.com{% endif %}"#;
    let rules = OtjRules::new(&[custom("board", 10, template)]).unwrap();
    let board = CalendarEvent {
        subject: "Board meeting".to_owned(),
        body: String::new(),
    };
    assert_eq!(
        rules.process(&board),
        matched("board", "board@vc.example.com")
    );
    assert_eq!(rules.process(&event("")), None);
}

#[test]
fn template_output_is_not_html_escaped() {
    let rules = OtjRules::new(&[custom("uri.html", 10, r#"{{ "a&b<c>" }}"#)]).unwrap();
    assert_eq!(rules.process(&event("")), matched("uri.html", "a&b<c>"));
}

#[test]
fn an_invalid_pattern_is_no_result_and_the_next_rule_is_tried() {
    let rules = OtjRules::new(&[
        custom(
            "broken",
            1,
            r#"{{ regex_search("(", calendar_event.body) }}"#,
        ),
        guest_join("guest", 2),
    ])
    .unwrap();
    assert_eq!(
        rules.process(&event(GOOGLE_PLAIN)),
        matched("guest", "abc-defg-hij@google.pexip.me")
    );
}

#[test]
fn a_huge_pattern_is_refused_at_render() {
    let huge = r#"{{ regex_search("a{1000}{1000}", calendar_event.body) }}"#;
    assert_eq!(template_uri(huge, "aaa"), None);
}

#[test]
fn a_runaway_template_is_stopped_by_fuel() {
    let rules = OtjRules::new(&[custom(
        "loop",
        10,
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}x",
    )])
    .unwrap();
    assert_eq!(rules.process(&event(GOOGLE_PLAIN)), None);
}

#[test]
fn a_template_that_writes_too_much_is_stopped() {
    let rules = OtjRules::new(&[custom(
        "long",
        10,
        "{% for i in range(5000) %}xy{% endfor %}",
    )])
    .unwrap();
    assert_eq!(rules.process(&event("")), None);
    let short =
        OtjRules::new(&[custom("short", 10, "{% for i in range(5) %}xy{% endfor %}")]).unwrap();
    assert_eq!(short.process(&event("")), matched("short", "xyxyxyxyxy"));
}

#[test]
fn an_undefined_variable_renders_empty() {
    assert_eq!(
        template_uri("{{ calendar_event.location }}", GOOGLE_PLAIN),
        None
    );
}

// --- priority and selection ---

#[test]
fn rules_run_in_priority_order_not_file_order() {
    let rules = OtjRules::new(&[
        custom("late", 20, "late@example.com"),
        custom("early", 10, "early@example.com"),
    ])
    .unwrap();
    assert_eq!(
        rules.process(&event("")),
        matched("early", "early@example.com")
    );
    assert_eq!(rules.len(), 2);
    assert!(!rules.is_empty());
}

#[test]
fn equal_priorities_keep_file_order() {
    let rules = OtjRules::new(&[
        custom("first", 10, "first@example.com"),
        custom("second", 10, "second@example.com"),
        custom("zero", 5, "{{ '' }}"),
    ])
    .unwrap();
    assert_eq!(
        rules.process(&event("")),
        matched("first", "first@example.com")
    );
}

#[test]
fn disabled_rules_are_skipped() {
    let rules = OtjRules::new(&[
        OtjRuleConfig {
            enabled: false,
            ..custom("off", 1, "off@example.com")
        },
        guest_join("guest", 2),
    ])
    .unwrap();
    assert_eq!(
        rules.process(&event(GOOGLE_PLAIN)),
        matched("guest", "abc-defg-hij@google.pexip.me")
    );
    assert_eq!(rules.len(), 2);
}

#[test]
fn an_empty_template_result_falls_through() {
    let rules = OtjRules::new(&[
        custom(
            "zoom-only",
            1,
            r#"{% set z = regex_search("zoom\.us/j/([0-9]+)", calendar_event.body) %}{% if z %}{{ z[0] }}@zoomcrc.com{% endif %}"#,
        ),
        guest_join("guest", 2),
    ])
    .unwrap();
    assert_eq!(
        rules.process(&event(GOOGLE_PLAIN)),
        matched("guest", "abc-defg-hij@google.pexip.me")
    );
    assert_eq!(
        rules.process(&event(SEVERAL_LINKS)),
        matched("zoom-only", "81234567890@zoomcrc.com")
    );
    assert_eq!(rules.process(&event(NO_LINK)), None);
}

#[test]
fn no_rules_match_nothing() {
    let rules = OtjRules::new(&[]).unwrap();
    assert!(rules.is_empty());
    assert_eq!(rules.process(&event(GOOGLE_PLAIN)), None);
    assert!(OtjRules::default().is_empty());
}

// --- configuration ---

/// The Display of the error `OtjRules::new` gives for `configs`.
fn config_error(configs: &[OtjRuleConfig]) -> String {
    OtjRules::new(configs).unwrap_err().to_string()
}

fn assert_error(configs: &[OtjRuleConfig], prefix: &str) {
    let message = config_error(configs);
    assert!(
        message.starts_with(prefix),
        "{message:?} should start with {prefix:?}"
    );
}

#[test]
fn an_empty_or_duplicate_name_is_refused() {
    assert_error(&[guest_join("", 10)], "routing.otj_rules[].name: ");
    assert_error(&[guest_join("  ", 10)], "routing.otj_rules[  ].name: ");
    assert_error(
        &[guest_join("guest", 10), custom("guest", 20, "x")],
        "routing.otj_rules[guest].name: ",
    );
}

#[test]
fn a_priority_out_of_range_is_refused() {
    assert_error(
        &[guest_join("zero", 0)],
        "routing.otj_rules[zero].priority: ",
    );
    assert_error(
        &[guest_join("high", 201)],
        "routing.otj_rules[high].priority: ",
    );
    assert!(OtjRules::new(&[guest_join("low", 1), guest_join("top", 200)]).is_ok());
}

#[test]
fn template_must_go_with_custom_only() {
    let without = OtjRuleConfig {
        template: None,
        ..custom("bare", 10, "")
    };
    assert_error(&[without], "routing.otj_rules[bare].template: ");
    assert_error(
        &[custom("blank", 10, " \n ")],
        "routing.otj_rules[blank].template: ",
    );
    let with = OtjRuleConfig {
        template: Some("x".to_owned()),
        ..guest_join("guest", 10)
    };
    assert_error(&[with], "routing.otj_rules[guest].template: ");
}

#[test]
fn domain_must_go_with_guest_join_only_and_be_a_domain() {
    let on_custom = OtjRuleConfig {
        domain: Some("example.com".to_owned()),
        ..custom("custom", 10, "x")
    };
    assert_error(&[on_custom], "routing.otj_rules[custom].domain: ");
    for domain in [
        "",
        "a b",
        "meet@example.com",
        "example.com/meet",
        "\texample.com",
    ] {
        let config = OtjRuleConfig {
            domain: Some(domain.to_owned()),
            ..guest_join("guest", 10)
        };
        assert_error(&[config], "routing.otj_rules[guest].domain: ");
    }
}

#[test]
fn a_template_that_does_not_compile_is_refused_with_minijinjas_message() {
    let message = config_error(&[custom("bad", 10, "{% if %}x{% endif %}")]);
    assert!(
        message.starts_with("routing.otj_rules[bad].template: "),
        "{message}"
    );
    assert!(message.contains("syntax error"), "{message}");
    let unclosed = config_error(&[custom("open", 10, "{{ calendar_event.body")]);
    assert!(
        unclosed.starts_with("routing.otj_rules[open].template: "),
        "{unclosed}"
    );
}

#[test]
fn a_disabled_rule_is_checked_too() {
    let config = OtjRuleConfig {
        enabled: false,
        ..custom("off", 10, "{% for %}")
    };
    assert_error(&[config], "routing.otj_rules[off].template: ");
}

#[derive(serde::Deserialize)]
struct Routing {
    otj_rules: Vec<OtjRuleConfig>,
}

#[test]
fn rules_read_from_toml() {
    let text = r#"
[[otj_rules]]
name = "sip-guest-join"
priority = 10
kind = "meet_guest_join"

[[otj_rules]]
name = "vendor"
priority = 20
enabled = false
kind = "custom"
template = '''
{% if calendar_event.body %}x{% endif %}
'''
"#;
    let routing: Routing = toml::from_str(text).unwrap();
    assert_eq!(routing.otj_rules[0], guest_join("sip-guest-join", 10));
    assert!(!routing.otj_rules[1].enabled);
    assert_eq!(routing.otj_rules[1].kind, OtjKind::Custom);
    let serialized = toml::to_string(&routing.otj_rules[0]).unwrap();
    assert!(
        !serialized.contains("template") && !serialized.contains("domain"),
        "{serialized}"
    );
    assert_eq!(OtjRules::new(&routing.otj_rules).unwrap().len(), 2);
}

#[test]
fn toml_refuses_unknown_fields_and_kinds() {
    let unknown = "[[otj_rules]]\nname = \"a\"\npriority = 1\nkind = \"custom\"\ntemplte = \"x\"";
    assert!(toml::from_str::<Routing>(unknown).is_err());
    let kind = "[[otj_rules]]\nname = \"a\"\npriority = 1\nkind = \"guest_join\"";
    assert!(toml::from_str::<Routing>(kind).is_err());
    let missing = "[[otj_rules]]\nname = \"a\"\nkind = \"custom\"";
    assert!(toml::from_str::<Routing>(missing).is_err());
}
