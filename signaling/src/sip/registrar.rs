//! A registrar (RFC 3261 §10.3): bindings from an address of record to contacts, with expiry.
//!
//! Sans-IO like the rest of the crate: time comes in as `now`, and authentication is the
//! caller's (see [`crate::digest`]); [`Registrar::handle_register`] gets a REGISTER that is
//! already authenticated and says what to answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::message::{ContactValue, Request, Response, StatusCode, Uri};

/// Expiry limits (RFC 3261 §10.3 steps 7 and 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Shortest expiry accepted; shorter requests get 423 Interval Too Brief. Default 60 s.
    pub min_expires: u32,
    /// Longest expiry granted; longer requests are shortened. Default 3600 s.
    pub max_expires: u32,
    /// Expiry when the request names none. Default 3600 s.
    pub default_expires: u32,
    /// Most contacts one address of record may hold. Default 10.
    pub max_contacts: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 10,
        }
    }
}

/// One contact bound to an address of record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI.
    pub contact: Uri,
    /// When the binding lapses.
    pub expires_at: Instant,
    /// Call-ID and CSeq of the REGISTER that set it (§10.3 step 7: out-of-order refreshes
    /// are refused).
    pub call_id: String,
    /// CSeq number of that REGISTER.
    pub cseq: u32,
}

/// Bindings of every address of record.
#[derive(Debug, Default)]
pub struct Registrar {
    config: RegistrarConfig,
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    /// An empty registrar.
    pub fn new(config: RegistrarConfig) -> Self {
        Self {
            config,
            bindings: HashMap::new(),
        }
    }

    /// Applies an authenticated REGISTER (§10.3 steps 5-8) and returns the response: 200 with
    /// the current bindings, 423 with Min-Expires, or 400 for a malformed request.
    pub fn handle_register(&mut self, request: &Request, now: Instant) -> Response {
        self.purge(now);
        let (Ok(to), Ok(call_id), Ok(cseq)) = (request.to(), request.call_id(), request.cseq())
        else {
            return request.response(status(400));
        };
        let aor = address_of_record(&to.uri);
        let Ok(contacts) = request.contacts() else {
            return request
                .response(status(400))
                .with_reason("Bad Request - invalid Contact");
        };
        let default_expires = match request.expires() {
            Ok(expires) => expires.unwrap_or(self.config.default_expires),
            Err(_) => return request.response(status(400)),
        };
        // Step 6: `*` removes every binding, only with Expires: 0 and no other contact.
        if contacts.iter().any(|c| matches!(c, ContactValue::Wildcard)) {
            if contacts.len() != 1 || default_expires != 0 {
                return request
                    .response(status(400))
                    .with_reason("Bad Request - Contact * needs Expires: 0");
            }
            self.bindings.remove(&aor);
            return self.ok(request, &aor, now);
        }
        let mut updates = Vec::new();
        for contact in &contacts {
            let ContactValue::Address(address) = contact else {
                continue;
            };
            let expires = match address.param("expires").flatten() {
                Some(value) => match value.parse::<u32>() {
                    Ok(expires) => expires,
                    Err(_) => return request.response(status(400)),
                },
                None => default_expires,
            };
            // Step 7: too brief (but 0, which removes) is refused with Min-Expires.
            if expires != 0 && expires < self.config.min_expires {
                let mut response = request.response(status(423));
                response
                    .headers
                    .push("Min-Expires", self.config.min_expires.to_string());
                return response;
            }
            updates.push((address.uri.clone(), expires.min(self.config.max_expires)));
        }
        let bindings = self.bindings.entry(aor.clone()).or_default();
        // Step 7: a REGISTER older than the one that set a binding (same Call-ID, lower or
        // equal CSeq) is refused; a new Call-ID replaces.
        if bindings.iter().any(|b| {
            b.call_id == call_id
                && b.cseq >= cseq.seq
                && updates.iter().any(|(uri, _)| *uri == b.contact)
        }) {
            return request
                .response(status(500))
                .with_reason("Server Internal Error - out-of-order REGISTER");
        }
        for (uri, expires) in updates {
            bindings.retain(|b| b.contact != uri);
            if expires > 0 {
                bindings.push(Binding {
                    contact: uri,
                    expires_at: now + Duration::from_secs(u64::from(expires)),
                    call_id: call_id.to_owned(),
                    cseq: cseq.seq,
                });
            }
        }
        if bindings.len() > self.config.max_contacts {
            // Keep the newest registrations.
            let excess = bindings.len() - self.config.max_contacts;
            bindings.drain(..excess);
        }
        if bindings.is_empty() {
            self.bindings.remove(&aor);
        }
        self.ok(request, &aor, now)
    }

    /// The live bindings of an address of record.
    pub fn lookup(&self, aor: &Uri, now: Instant) -> Vec<&Binding> {
        self.bindings
            .get(&address_of_record(aor))
            .map(|bindings| bindings.iter().filter(|b| b.expires_at > now).collect())
            .unwrap_or_default()
    }

    /// Whether `contact` (host and port) is bound to any address of record now.
    pub fn is_registered_contact(&self, host: &str, now: Instant) -> bool {
        self.bindings
            .values()
            .flatten()
            .any(|b| b.expires_at > now && b.contact.host.to_string().eq_ignore_ascii_case(host))
    }

    /// Drops lapsed bindings.
    pub fn purge(&mut self, now: Instant) {
        self.bindings.retain(|_, bindings| {
            bindings.retain(|b| b.expires_at > now);
            !bindings.is_empty()
        });
    }

    /// Live bindings in all, for `tcn_registrations_active`.
    pub fn active(&self) -> usize {
        self.bindings.values().map(Vec::len).sum()
    }

    /// §10.3 step 8: 200 listing every current binding with its remaining expiry.
    fn ok(&self, request: &Request, aor: &str, now: Instant) -> Response {
        let mut response = request.response(status(200));
        for binding in self.bindings.get(aor).into_iter().flatten() {
            let left = binding.expires_at.saturating_duration_since(now).as_secs();
            response
                .headers
                .push("Contact", format!("<{}>;expires={left}", binding.contact));
        }
        response
    }
}

/// The canonical address of record of a To URI (§10.3 step 5): scheme, user and host,
/// lowercased, without port or parameters.
fn address_of_record(uri: &Uri) -> String {
    format!(
        "{}:{}@{}",
        if matches!(uri.scheme, super::message::Scheme::Sips) {
            "sips"
        } else {
            "sip"
        },
        uri.user.as_deref().unwrap_or_default().to_ascii_lowercase(),
        uri.host.to_string().to_ascii_lowercase()
    )
}

fn status(code: u16) -> StatusCode {
    // Only called with literal codes in 100..=699.
    StatusCode::new(code).unwrap_or(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // one real instant; the rest is fake time
    fn t0() -> Instant {
        Instant::now()
    }

    fn register(contact: &str, expires: Option<u32>, call_id: &str, cseq: u32) -> Request {
        let expires = expires.map_or(String::new(), |e| format!("Expires: {e}\r\n"));
        let text = format!(
            "REGISTER sip:gw.example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-{call_id}-{cseq}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:Room@gw.example.com>;tag=r\r\n\
             To: <sip:Room@gw.example.com>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: {contact}\r\n\
             {expires}Content-Length: 0\r\n\r\n"
        );
        Request::parse(text.as_bytes()).unwrap()
    }

    fn aor() -> Uri {
        "sip:room@gw.example.com".parse().unwrap()
    }

    #[test]
    fn bind_refresh_expire_and_remove() {
        let t0 = t0();
        let mut registrar = Registrar::new(RegistrarConfig::default());
        let ok = registrar.handle_register(
            &register("<sip:room@192.0.2.10:5070>", Some(600), "c1", 1),
            t0,
        );
        assert_eq!(ok.status.code(), 200);
        assert_eq!(
            ok.headers.get("Contact"),
            Some("<sip:room@192.0.2.10:5070>;expires=600")
        );
        assert_eq!(registrar.active(), 1);
        assert!(registrar.is_registered_contact("192.0.2.10", t0));
        // A refresh with a higher CSeq; a huge expiry is capped at max_expires.
        let ok = registrar.handle_register(
            &register("<sip:room@192.0.2.10:5070>", Some(99_999), "c1", 2),
            t0,
        );
        assert!(ok.headers.get("Contact").unwrap().ends_with("expires=3600"));
        assert_eq!(
            registrar
                .lookup(&aor(), t0 + Duration::from_secs(3599))
                .len(),
            1
        );
        assert_eq!(
            registrar
                .lookup(&aor(), t0 + Duration::from_secs(3600))
                .len(),
            0,
            "lapsed"
        );
        // An out-of-order REGISTER (same Call-ID, lower CSeq) is refused.
        let old = registrar.handle_register(
            &register("<sip:room@192.0.2.10:5070>", Some(600), "c1", 1),
            t0,
        );
        assert_eq!(old.status.code(), 500);
        // Expires 0 removes.
        let gone = registrar.handle_register(
            &register("<sip:room@192.0.2.10:5070>;expires=0", None, "c1", 3),
            t0,
        );
        assert_eq!(gone.status.code(), 200);
        assert_eq!(registrar.active(), 0);
    }

    #[test]
    fn too_brief_and_wildcard() {
        let t0 = t0();
        let mut registrar = Registrar::new(RegistrarConfig::default());
        let brief =
            registrar.handle_register(&register("<sip:room@192.0.2.10>", Some(10), "c2", 1), t0);
        assert_eq!(brief.status.code(), 423);
        assert_eq!(brief.headers.get("Min-Expires"), Some("60"));
        registrar.handle_register(&register("<sip:room@192.0.2.10>", None, "c2", 2), t0);
        registrar.handle_register(&register("<sip:room@192.0.2.11>", None, "c3", 1), t0);
        assert_eq!(registrar.active(), 2);
        assert_eq!(
            registrar
                .handle_register(&register("*", Some(600), "c2", 3), t0)
                .status
                .code(),
            400
        );
        assert_eq!(
            registrar
                .handle_register(&register("*", Some(0), "c2", 4), t0)
                .status
                .code(),
            200
        );
        assert_eq!(registrar.active(), 0);
    }
}
