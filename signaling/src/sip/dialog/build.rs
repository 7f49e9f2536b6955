//! The requests we send inside a dialog (RFC 3261 §12.2.1.1), the ACK for a 2xx
//! (§13.2.2.4) and BYE with a Reason (§15.1.1, RFC 3326).

use super::invite::Body;
use super::reason::Reason;
use super::{Dialog, MAX_FORWARDS};
use crate::sip::message::{CSeq, HeaderName, Headers, Method, NameAddr, Request, Uri, Via};

/// True for target refresh requests: INVITE and UPDATE (RFC 3261 §12.2, RFC 3311 §5),
/// SUBSCRIBE and NOTIFY (RFC 6665 §4). They carry Contact, and update the remote target.
pub fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify
    )
}

impl Dialog {
    /// A request inside the dialog (§12.2.1.1), with `via` on top (see the [module
    /// docs](super) for what it must hold):
    ///
    /// ```text
    /// METHOD <remote target, or first strict route> SIP/2.0
    /// Via: <via>
    /// Max-Forwards: 70
    /// Route: <route set...>
    /// From: <local URI>;tag=<local tag>
    /// To: <remote URI>;tag=<remote tag>
    /// Call-ID: <call id>
    /// CSeq: <n> METHOD
    /// Contact: <local target>            (target refresh requests only)
    /// ```
    ///
    /// Every method but ACK and CANCEL takes the next local sequence number; ACK and CANCEL
    /// reuse the last one (prefer [`ack_for_2xx`](Self::ack_for_2xx), which names it). No body;
    /// see [`request_with_body`](Self::request_with_body). Add Supported, Allow, credentials
    /// and the like to `headers` as needed.
    pub fn request(&mut self, method: Method, via: Via) -> Request {
        let seq = match method {
            Method::Ack | Method::Cancel => self.last_local_seq.unwrap_or(self.next_local_seq),
            _ => self.take_local_seq(),
        };
        self.build(method, seq, &via)
    }

    /// [`request`](Self::request) with a body and its Content-Type: a re-INVITE or UPDATE
    /// with an SDP offer, an INFO, or a MESSAGE inside the dialog (RFC 3428).
    pub fn request_with_body(&mut self, method: Method, via: Via, body: Body) -> Request {
        let mut request = self.request(method, via);
        body.apply(&mut request);
        request
    }

    /// A BYE (§15.1.1) with an optional Reason header (RFC 3326), e.g.
    /// `Reason: SIP;cause=200;text="Call completed by the node"`.
    pub fn bye(&mut self, via: Via, reason: Option<&Reason>) -> Request {
        let mut request = self.request(Method::Bye, via);
        if let Some(reason) = reason {
            request.headers.push(HeaderName::REASON, reason.to_string());
        }
        request
    }

    /// The ACK for a 2xx to our INVITE (§13.2.2.4): built like any in-dialog request, with
    /// the INVITE's sequence number and method ACK; it does not advance the local sequence
    /// number. `via` needs a branch of its own (the ACK for a 2xx is its own transaction), and
    /// the ACK goes out with `send_stateless`. `body` is the SDP answer when the INVITE had no
    /// offer. Credentials the INVITE carried must be added by the caller (§22).
    pub fn ack_for_2xx(&self, invite_cseq: u32, via: Via, body: Option<Body>) -> Request {
        let mut request = self.build(Method::Ack, invite_cseq, &via);
        if let Some(body) = body {
            body.apply(&mut request);
        }
        request
    }

    /// The next local sequence number, now used.
    fn take_local_seq(&mut self) -> u32 {
        let seq = self.next_local_seq;
        self.last_local_seq = Some(seq);
        self.next_local_seq = seq.saturating_add(1);
        seq
    }

    fn build(&self, method: Method, seq: u32, via: &Via) -> Request {
        let (uri, routes) = self.request_target();
        let mut headers = Headers::new();
        headers.push(HeaderName::VIA, via.to_string());
        headers.push(HeaderName::MAX_FORWARDS, MAX_FORWARDS.to_string());
        for route in &routes {
            headers.push(HeaderName::ROUTE, route.to_string());
        }
        let mut from = self.local_uri.clone();
        from.set_tag(self.id.local_tag.clone());
        headers.push(HeaderName::FROM, from.to_string());
        let mut to = self.remote_uri.clone();
        if let Some(tag) = &self.id.remote_tag {
            to.set_tag(tag.clone());
        }
        headers.push(HeaderName::TO, to.to_string());
        headers.push(HeaderName::CALL_ID, self.id.call_id.clone());
        headers.push(
            HeaderName::CSEQ,
            CSeq {
                seq,
                method: method.clone(),
            }
            .to_string(),
        );
        if is_target_refresh(&method)
            && let Some(contact) = &self.local_target
        {
            headers.push(HeaderName::CONTACT, contact.to_string());
        }
        Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        }
    }

    /// The Request-URI and Route values of §12.2.1.1: loose routing when the route set is
    /// empty or its first URI has `lr`; the strict-routing rewrite otherwise.
    fn request_target(&self) -> (Uri, Vec<NameAddr>) {
        // URI headers (§19.1.5) never go into a Request-URI.
        let mut target = self.remote_target.clone();
        target.headers.clear();
        match self.route_set.first() {
            Some(first) if first.uri.param("lr").is_none() => {
                let mut uri = first.uri.clone();
                uri.headers.clear();
                // §19.1.1 table: `method` is not allowed in a Request-URI.
                uri.params
                    .retain(|(name, _)| !name.eq_ignore_ascii_case("method"));
                let mut routes: Vec<NameAddr> = self.route_set.iter().skip(1).cloned().collect();
                routes.push(NameAddr::new(self.remote_target.clone()));
                (uri, routes)
            }
            _ => (target, self.route_set.clone()),
        }
    }
}
