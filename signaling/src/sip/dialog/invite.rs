//! The initial INVITE of a call we place (RFC 3261 §8.1.1, §13.2.1), and message bodies.

use super::MAX_FORWARDS;
use crate::sip::message::{CSeq, HeaderName, Headers, Method, NameAddr, Request, Uri, Via};

/// A message body with its Content-Type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    /// The Content-Type value, e.g. `application/sdp`.
    pub content_type: String,
    /// The octets.
    pub bytes: Vec<u8>,
}

impl Body {
    /// A body of type `content_type`.
    pub fn new(content_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }

    /// An `application/sdp` body.
    pub fn sdp(bytes: impl Into<Vec<u8>>) -> Self {
        Self::new("application/sdp", bytes)
    }

    /// Puts the body and its Content-Type into `request` (replacing any).
    pub(crate) fn apply(self, request: &mut Request) {
        request
            .headers
            .set(HeaderName::CONTENT_TYPE, self.content_type);
        request.body = self.bytes;
    }
}

/// The initial, out-of-dialog INVITE of a call we place (§8.1.1, §13.2.1):
///
/// ```text
/// INVITE <request_uri> SIP/2.0
/// Via: <via>
/// Max-Forwards: 70
/// Route: <routes...>
/// From: <from>;tag=<local_tag>
/// To: <to>
/// Call-ID: <call_id>
/// CSeq: <cseq> INVITE
/// Contact: <contact>
/// Content-Type: <body type>              (with a body)
/// ```
///
/// Tag and Call-ID are random values the caller draws (§19.3: at least 32 bits of
/// randomness; §8.1.1.4). `routes` is a preloaded route set (an outbound proxy, §8.1.2), loose
/// routing assumed. Supported, Allow, session-timer headers
/// ([`UacSessionTimer::apply`](crate::sip::session_timer::UacSessionTimer::apply)) and the like
/// go onto the built request's `headers`. To retry (after a 422, or a 401/407 challenge,
/// §8.1.3.5) raise `cseq` and build again with a new branch; Call-ID and tag stay.
///
/// Once a response with a To tag comes back, [`Dialog::from_uac`](super::Dialog::from_uac)
/// makes the dialog from the built request and that response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingInvite {
    /// The Request-URI: whom we call.
    pub request_uri: Uri,
    /// Our address (From), without tag.
    pub from: NameAddr,
    /// The From tag.
    pub local_tag: String,
    /// The callee's address (To), without tag.
    pub to: NameAddr,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq number (1 unless set; keep it below 2**31, §8.1.1.5).
    pub cseq: u32,
    /// Our Contact (§8.1.1.8: one SIP or SIPS URI).
    pub contact: NameAddr,
    /// Route values, in order (a preloaded route set).
    pub routes: Vec<NameAddr>,
    /// The body (the SDP offer), if any.
    pub body: Option<Body>,
}

impl OutgoingInvite {
    /// An INVITE to `request_uri`, with CSeq 1, no routes and no body.
    pub fn new(
        request_uri: Uri,
        from: NameAddr,
        to: NameAddr,
        contact: NameAddr,
        call_id: impl Into<String>,
        local_tag: impl Into<String>,
    ) -> Self {
        Self {
            request_uri,
            from,
            local_tag: local_tag.into(),
            to,
            call_id: call_id.into(),
            cseq: 1,
            contact,
            routes: Vec::new(),
            body: None,
        }
    }

    /// Sets the CSeq number.
    #[must_use]
    pub fn with_cseq(mut self, cseq: u32) -> Self {
        self.cseq = cseq;
        self
    }

    /// Appends a Route value.
    #[must_use]
    pub fn with_route(mut self, route: NameAddr) -> Self {
        self.routes.push(route);
        self
    }

    /// Sets the body (e.g. [`Body::sdp`] with the offer).
    #[must_use]
    pub fn with_body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }

    /// The INVITE with `via` on top (a fresh `z9hG4bK` branch, as
    /// [`TransactionLayer::send_request`](crate::sip::transaction::TransactionLayer::send_request)
    /// requires).
    pub fn build(&self, via: Via) -> Request {
        let mut headers = Headers::new();
        headers.push(HeaderName::VIA, via.to_string());
        headers.push(HeaderName::MAX_FORWARDS, MAX_FORWARDS.to_string());
        for route in &self.routes {
            headers.push(HeaderName::ROUTE, route.to_string());
        }
        let mut from = self.from.clone();
        from.set_tag(self.local_tag.clone());
        headers.push(HeaderName::FROM, from.to_string());
        let mut to = self.to.clone();
        to.params
            .retain(|(name, _)| !name.eq_ignore_ascii_case("tag"));
        headers.push(HeaderName::TO, to.to_string());
        headers.push(HeaderName::CALL_ID, self.call_id.clone());
        headers.push(
            HeaderName::CSEQ,
            CSeq {
                seq: self.cseq,
                method: Method::Invite,
            }
            .to_string(),
        );
        headers.push(HeaderName::CONTACT, self.contact.to_string());
        let mut request = Request {
            method: Method::Invite,
            uri: self.request_uri.clone(),
            headers,
            body: Vec::new(),
        };
        if let Some(body) = &self.body {
            body.clone().apply(&mut request);
        }
        request
    }
}
