//! Session timers (RFC 4028) with literal SIP messages and fake time: the UAS negotiation
//! (§9), the UAC side (§7: our INVITE, the 422 retry, the 2xx), and the timer itself (§10).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use signaling::sip::dialog::{Dialog, dialog_response};
use signaling::sip::message::{Host, Method, Request, Response, StatusCode, Via};
use signaling::sip::session_timer::{
    MinSe, Negotiated, Refresher, SessionExpires, SessionTimer, SessionTimerConfig,
    SessionTimerError, TimerAction, UacSessionTimer, UasDecision, negotiate_uas, requires_timer,
    supports_timer,
};

#[allow(clippy::disallowed_methods)] // one real instant; everything else is fake time
fn t0() -> Instant {
    Instant::now()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn invite(extra: &str) -> Request {
    let text = format!(
        "INVITE sip:meet@gw.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKvtc1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:room1@example.com>;tag=vtc-tag\r\n\
         To: <sip:meet@gw.example.com>\r\n\
         Call-ID: st-1@192.0.2.10\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:room1@192.0.2.10:5060>\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    );
    Request::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn response(text: &str) -> Response {
    Response::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn uas(extra: &str) -> UasDecision {
    negotiate_uas(&SessionTimerConfig::default(), &invite(extra)).unwrap()
}

/// Our 2xx (or 422) to `request` with the decision applied, printed and parsed back.
fn answered(request: &Request, decision: &UasDecision) -> Response {
    let status = decision.rejection().unwrap_or(StatusCode::OK);
    let mut answer = request.response(status);
    decision.apply(&mut answer);
    let parsed = Response::parse(&answer.to_bytes()).unwrap();
    assert_eq!(parsed, answer, "round trip");
    parsed
}

#[test]
fn interval_below_min_se_is_answered_422_with_min_se() {
    let request = invite("Supported: timer\r\nSession-Expires: 60\r\n");
    let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
    assert_eq!(decision, UasDecision::Reject422 { min_se: 90 });
    assert_eq!(decision.negotiated(), None);
    let reject = answered(&request, &decision);
    assert_eq!(reject.status, StatusCode::SESSION_INTERVAL_TOO_SMALL);
    assert_eq!(reject.headers.get("Min-SE"), Some("90"));
    assert_eq!(reject.headers.get("Session-Expires"), None);

    // Our own, larger Min-SE.
    let config = SessionTimerConfig {
        min_se: 300,
        ..SessionTimerConfig::default()
    };
    let request = invite("Supported: timer\r\nSession-Expires: 299;refresher=uac\r\n");
    assert_eq!(
        negotiate_uas(&config, &request).unwrap(),
        UasDecision::Reject422 { min_se: 300 }
    );
    let request = invite("Supported: timer\r\nSession-Expires: 300;refresher=uac\r\n");
    assert_eq!(
        negotiate_uas(&config, &request).unwrap(),
        UasDecision::Accept {
            interval: 300,
            refresher: Refresher::Uac,
            require_timer: true,
        }
    );
}

#[test]
fn uac_asking_to_refresh_gets_refresher_uac_and_require_timer() {
    let request =
        invite("Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\nMin-SE: 90\r\n");
    let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
    assert_eq!(
        decision,
        UasDecision::Accept {
            interval: 1800,
            refresher: Refresher::Uac,
            require_timer: true,
        }
    );
    let ok = answered(&request, &decision);
    assert_eq!(
        ok.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    assert!(requires_timer(&ok.headers));
    // The peer refreshes: we only watch for expiry.
    assert_eq!(
        decision.negotiated(),
        Some(Negotiated {
            interval: 1800,
            refresher: Refresher::Uac,
            local_refresh: false,
        })
    );
}

#[test]
fn uac_leaving_the_choice_gets_refresher_uas() {
    let decision = uas("Supported: timer\r\nSession-Expires: 1800\r\n");
    assert_eq!(
        decision,
        UasDecision::Accept {
            interval: 1800,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
    assert!(decision.negotiated().unwrap().local_refresh);

    // Compact forms: `x` for Session-Expires, `k` for Supported.
    let request = invite("k: timer\r\nx: 600\r\n");
    assert!(supports_timer(&request.headers));
    let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
    assert_eq!(
        decision,
        UasDecision::Accept {
            interval: 600,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
    let ok = answered(&request, &decision);
    assert_eq!(ok.headers.get("Session-Expires"), Some("600;refresher=uas"));

    // A UAC may name the UAS as refresher, too.
    assert_eq!(
        uas("Supported: timer, 100rel\r\nSession-Expires: 900;refresher=uas\r\n"),
        UasDecision::Accept {
            interval: 900,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
}

#[test]
fn uas_shortens_long_intervals_but_never_below_min_se() {
    assert_eq!(
        uas("Supported: timer\r\nSession-Expires: 7200\r\n"),
        UasDecision::Accept {
            interval: 1800,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
    assert_eq!(
        uas("Supported: timer\r\nSession-Expires: 7200\r\nMin-SE: 3600\r\n"),
        UasDecision::Accept {
            interval: 3600,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
    // Supported without Session-Expires: our interval, at least the request's Min-SE.
    assert_eq!(
        uas("Supported: timer\r\n"),
        UasDecision::Accept {
            interval: 1800,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
    assert_eq!(
        uas("Supported: timer\r\nMin-SE: 2000\r\n"),
        UasDecision::Accept {
            interval: 2000,
            refresher: Refresher::Uas,
            require_timer: true,
        }
    );
}

#[test]
fn uac_without_timer_support() {
    // A proxy asked for the timer: the UAC cannot act on a 422 nor refresh.
    let request = invite("Session-Expires: 120;refresher=uac\r\n");
    let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
    assert_eq!(
        decision,
        UasDecision::Accept {
            interval: 120,
            refresher: Refresher::Uas,
            require_timer: false,
        }
    );
    let ok = answered(&request, &decision);
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uas"));
    // Below the RFC's 90 s floor the value is invalid: raised to 90, never 0 (which would
    // end the call at once).
    for short in ["60", "0"] {
        let request = invite(&format!("Session-Expires: {short}\r\n"));
        let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
        assert_eq!(decision.negotiated().unwrap().interval, 90, "{short}");
    }
    assert_eq!(ok.headers.get("Require"), None);

    // Nobody asked: no timer, unless configured to run one for ourselves.
    assert_eq!(uas(""), UasDecision::NoTimer);
    let config = SessionTimerConfig {
        refresh_unsupported_peers: true,
        ..SessionTimerConfig::default()
    };
    assert_eq!(
        negotiate_uas(&config, &invite("")).unwrap(),
        UasDecision::Accept {
            interval: 1800,
            refresher: Refresher::Uas,
            require_timer: false,
        }
    );
}

#[test]
fn malformed_session_timer_headers_are_400() {
    for extra in [
        "Supported: timer\r\nSession-Expires: soon\r\n",
        "Supported: timer\r\nSession-Expires: 1800;refresher=both\r\n",
        "Supported: timer\r\nSession-Expires: 1800\r\nSession-Expires: 900\r\n",
        "Supported: timer\r\nMin-SE: -5\r\n",
    ] {
        let err = negotiate_uas(&SessionTimerConfig::default(), &invite(extra)).unwrap_err();
        assert!(matches!(err, SessionTimerError::Parse(_)), "{extra}");
        assert_eq!(err.sip_status(), StatusCode::BAD_REQUEST, "{extra}");
    }
    // Other methods are not negotiated.
    let mut info = invite("Supported: timer\r\nSession-Expires: 10\r\n");
    info.method = Method::Info;
    info.headers.set("CSeq", "2 INFO");
    assert_eq!(
        negotiate_uas(&SessionTimerConfig::default(), &info).unwrap(),
        UasDecision::NoTimer
    );
}

#[test]
fn header_values_round_trip() {
    let se: SessionExpires = "1800 ; refresher = UAS".parse().unwrap();
    assert_eq!(se, SessionExpires::new(1800, Some(Refresher::Uas)));
    assert_eq!(se.to_string(), "1800;refresher=uas");
    assert_eq!("90".parse::<SessionExpires>().unwrap().to_string(), "90");
    assert_eq!("4000".parse::<MinSe>().unwrap(), MinSe(4000));
    assert_eq!(MinSe(4000).to_string(), "4000");
}

fn outgoing() -> Request {
    invite("")
}

fn from_callee(status: &str, extra: &str) -> Response {
    response(&format!(
        "SIP/2.0 {status}\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKvtc1\r\n\
         From: <sip:room1@example.com>;tag=vtc-tag\r\n\
         To: <sip:meet@gw.example.com>;tag=callee\r\n\
         Call-ID: st-1@192.0.2.10\r\n\
         CSeq: 1 INVITE\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    ))
}

#[test]
fn uac_headers_and_422_retry() {
    let mut uac = UacSessionTimer::new(SessionTimerConfig::default());
    let mut request = outgoing();
    uac.apply(&mut request);
    let request = Request::parse(&request.to_bytes()).unwrap();
    assert_eq!(request.headers.get("Supported"), Some("timer"));
    assert_eq!(request.headers.get("Session-Expires"), Some("1800"));
    assert_eq!(request.headers.get("Min-SE"), Some("90"));

    // A 422 asking for an hour: retry with an hour as both interval and Min-SE.
    uac.handle_422(&from_callee(
        "422 Session Interval Too Small",
        "Min-SE: 3600\r\n",
    ))
    .unwrap();
    assert_eq!((uac.interval(), uac.min_se()), (3600, 3600));
    let mut retry = outgoing();
    retry.headers.set("CSeq", "2 INVITE");
    uac.apply(&mut retry);
    uac.apply(&mut retry); // idempotent
    assert_eq!(retry.headers.get_all("Supported").count(), 1);
    assert_eq!(retry.headers.get("Session-Expires"), Some("3600"));
    assert_eq!(retry.headers.get("Min-SE"), Some("3600"));

    // A second 422 that asks for no more would loop.
    assert_eq!(
        uac.handle_422(&from_callee(
            "422 Session Interval Too Small",
            "Min-SE: 3600\r\n"
        )),
        Err(SessionTimerError::MinSeNotLarger {
            min_se: 3600,
            interval: 3600
        })
    );
    assert_eq!(
        uac.handle_422(&from_callee("422 Session Interval Too Small", "")),
        Err(SessionTimerError::MissingMinSe)
    );

    // Asking to refresh ourselves.
    let config = SessionTimerConfig {
        interval: 600,
        uac_refresher: Some(Refresher::Uac),
        ..SessionTimerConfig::default()
    };
    let mut request = outgoing();
    UacSessionTimer::new(config).apply(&mut request);
    assert_eq!(
        request.headers.get("Session-Expires"),
        Some("600;refresher=uac")
    );
}

#[test]
fn uac_reads_the_2xx() {
    let uac = UacSessionTimer::new(SessionTimerConfig::default());
    let ours = uac
        .handle_2xx(&from_callee(
            "200 OK",
            "Require: timer\r\nSession-Expires: 1200;refresher=uac\r\n",
        ))
        .unwrap();
    assert_eq!(
        ours,
        Some(Negotiated {
            interval: 1200,
            refresher: Refresher::Uac,
            local_refresh: true,
        })
    );
    let theirs = uac
        .handle_2xx(&from_callee(
            "200 OK",
            "Session-Expires: 1800;refresher=uas\r\n",
        ))
        .unwrap();
    assert_eq!(theirs.map(|n| n.local_refresh), Some(false));
    // No Session-Expires: the UAS does not do timers.
    assert_eq!(uac.handle_2xx(&from_callee("200 OK", "")).unwrap(), None);
    let keen = UacSessionTimer::new(SessionTimerConfig {
        refresh_unsupported_peers: true,
        ..SessionTimerConfig::default()
    });
    assert_eq!(
        keen.handle_2xx(&from_callee("200 OK", "")).unwrap(),
        Some(Negotiated {
            interval: 1800,
            refresher: Refresher::Uac,
            local_refresh: true,
        })
    );
}

fn negotiated(interval: u32, local_refresh: bool) -> Negotiated {
    Negotiated {
        interval,
        refresher: if local_refresh {
            Refresher::Uas
        } else {
            Refresher::Uac
        },
        local_refresh,
    }
}

#[test]
fn refresh_fires_at_half_the_interval() {
    let t = t0();
    let mut timer = SessionTimer::new(negotiated(1800, true), t);
    assert_eq!(timer.interval(), secs(1800));
    assert_eq!(timer.expires_at(), t + secs(1800));
    assert_eq!(timer.poll_timeout(), Some(t + secs(900)));
    assert_eq!(timer.handle_timeout(t + secs(899)), None);
    assert_eq!(
        timer.handle_timeout(t + secs(900)),
        Some(TimerAction::Refresh)
    );
    // Refresh sent; if it never succeeds, we give up at 1800 - 32 s.
    assert_eq!(timer.poll_timeout(), Some(t + secs(1768)));
    assert_eq!(timer.handle_timeout(t + secs(1000)), None);
    assert_eq!(
        timer.handle_timeout(t + secs(1768)),
        Some(TimerAction::Expire)
    );
    assert_eq!(timer.poll_timeout(), None);
    assert_eq!(timer.handle_timeout(t + secs(5000)), None);

    // An odd interval: half of 91 s.
    let timer = SessionTimer::new(negotiated(91, true), t);
    assert_eq!(
        timer.poll_timeout(),
        Some(t + Duration::from_millis(45_500))
    );
}

#[test]
fn expire_at_interval_minus_min_of_32_s_and_a_third() {
    let t = t0();
    for (interval, expire_after) in [(1800, 1768), (96, 64), (90, 60), (60, 40)] {
        let mut timer = SessionTimer::new(negotiated(interval, false), t);
        assert_eq!(
            timer.poll_timeout(),
            Some(t + secs(expire_after)),
            "{interval}"
        );
        assert_eq!(
            timer.handle_timeout(t + secs(expire_after) - Duration::from_millis(1)),
            None
        );
        assert_eq!(
            timer.handle_timeout(t + secs(expire_after)),
            Some(TimerAction::Expire),
            "{interval}"
        );
        assert_eq!(timer.poll_timeout(), None);
    }
    // A refresher woken after the expiry gives up at once.
    let mut late = SessionTimer::new(negotiated(1800, true), t);
    assert_eq!(
        late.handle_timeout(t + secs(1790)),
        Some(TimerAction::Expire)
    );
}

#[test]
fn a_refresh_restarts_the_timer() {
    let t = t0();
    let mut timer = SessionTimer::new(negotiated(1800, false), t);
    timer.refreshed(t + secs(1000));
    assert_eq!(timer.poll_timeout(), Some(t + secs(2768)));
    assert_eq!(timer.handle_timeout(t + secs(1768)), None);
    assert_eq!(timer.expires_at(), t + secs(2800));

    // We refresh: after the Refresh action, the 2xx to our re-INVITE starts it over.
    let mut timer = SessionTimer::new(negotiated(1800, true), t);
    assert_eq!(
        timer.handle_timeout(t + secs(900)),
        Some(TimerAction::Refresh)
    );
    timer.refreshed(t + secs(901));
    assert_eq!(timer.poll_timeout(), Some(t + secs(1801)));

    // A refresh that renegotiates: the peer takes over, with a shorter interval.
    timer.renegotiated(negotiated(600, false), t + secs(1000));
    assert!(!timer.local_refresh());
    assert_eq!(timer.poll_timeout(), Some(t + secs(1568)));
}

#[test]
fn refresh_request_and_its_2xx() {
    let t = t0();
    // We answered the call and refresh (refresher=uas in the INVITE transaction) ...
    let request = invite("Supported: timer\r\nSession-Expires: 1800\r\n");
    let decision = negotiate_uas(&SessionTimerConfig::default(), &request).unwrap();
    let mut timer = SessionTimer::new(decision.negotiated().unwrap(), t);
    let contact = "<sip:gw@198.51.100.1:5060>".parse().unwrap();
    let mut ok = dialog_response(&request, StatusCode::OK, "gw-tag", &contact);
    decision.apply(&mut ok);
    let mut dialog = Dialog::from_uas(&request, &ok, 1).unwrap();

    // ... so at half time we send a re-INVITE, as its UAC: refresher=uac.
    assert_eq!(
        timer.handle_timeout(t + secs(900)),
        Some(TimerAction::Refresh)
    );
    let via = Via::new(
        "UDP",
        Host::Ipv4(Ipv4Addr::new(198, 51, 100, 1)),
        Some(5060),
        "z9hG4bKrefresh",
    );
    let mut refresh = dialog.request(Method::Update, via);
    timer.refresh_headers(&mut refresh);
    let refresh = Request::parse(&refresh.to_bytes()).unwrap();
    assert_eq!(
        refresh.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert_eq!(refresh.headers.get("Supported"), Some("timer"));
    assert_eq!(refresh.headers.get("CSeq"), Some("1 UPDATE"));

    // The peer, as UAS of the UPDATE, takes the refresher role with 900 s.
    let mut updated = refresh.response(StatusCode::OK);
    updated.headers.push("Session-Expires", "900;refresher=uas");
    timer
        .handle_refresh_response(&updated, t + secs(901))
        .unwrap();
    assert!(!timer.local_refresh());
    assert_eq!(timer.interval(), secs(900));
    assert_eq!(timer.poll_timeout(), Some(t + secs(901 + 900 - 32)));

    // A 2xx without Session-Expires: we keep refreshing at the current interval.
    let bare = refresh.response(StatusCode::OK);
    timer
        .handle_refresh_response(&bare, t + secs(1000))
        .unwrap();
    assert!(timer.local_refresh());
    assert_eq!(timer.poll_timeout(), Some(t + secs(1450)));
}
