//! SIP dialogs (RFC 3261 §12), for both sides of a call, sans-IO.
//!
//! A [`Dialog`] holds the state of RFC 3261 §12.1: Call-ID, local and remote tags, local and
//! remote URIs, the remote target, the route set, the local and remote sequence numbers and the
//! secure flag. It is created from the INVITE and the response that established it
//! ([`Dialog::from_uas`] when we answered, [`Dialog::from_uac`] when we called), builds the
//! requests we send inside it ([`Dialog::request`], [`Dialog::bye`], [`Dialog::ack_for_2xx`])
//! and checks the requests and responses the peer sends ([`Dialog::check_remote_request`],
//! [`Dialog::handle_response`]). [`dialog_response`] builds the response with which we
//! establish a dialog as UAS (To tag, Record-Route copied, Contact); [`OutgoingInvite`] builds
//! the initial INVITE of a call we place; [`Reason`] is the RFC 3326 Reason header for BYE and
//! CANCEL.
//!
//! Choices, each allowed by the RFCs:
//!
//! - **Via is the caller's.** Every builder takes the [`Via`](crate::sip::message::Via) to put
//!   on top: its sent-by is the transport's, and its branch must be fresh and start with
//!   `z9hG4bK` ([`TransactionLayer::send_request`](crate::sip::transaction::TransactionLayer::send_request)
//!   refuses anything else; the ACK for a 2xx, sent with `send_stateless`, gets its own branch
//!   too, §13.2.2.4). Tags, Call-IDs and branches are random values the caller draws; this
//!   crate never does.
//! - **Routing.** Loose routing (§12.2.1.1, first route carries `;lr`) is the normal case: the
//!   Request-URI is the remote target and the Route headers are the route set. A first route
//!   without `;lr` (an RFC 2543 strict router) gets the strict-routing rewrite of §12.2.1.1:
//!   that route becomes the Request-URI (without `method` parameter or headers) and the
//!   remote target is appended as the last Route. URI headers of the remote target (§19.1.5)
//!   are dropped from the Request-URI.
//! - **Tags and Call-IDs are compared byte for byte** (§8.1.1.4 for the Call-ID; peers echo
//!   our tags unchanged), matching [`DialogId`]'s `Eq` and `Hash`. A peer that sent no From
//!   tag (RFC 2543) gets a dialog whose remote tag is `None` (§12.1.1: "a null tag").
//! - **Target refresh requests** are INVITE and UPDATE (RFC 3261 §12.2, RFC 3311 §5) and
//!   SUBSCRIBE and NOTIFY (RFC 6665 §4): ours carry Contact, the peer's update the remote target
//!   on receipt (§12.2.2), and 2xx responses to ours update it too (§12.2.1.2).
//! - **CSeq.** ACK and CANCEL reuse the sequence number of the request they belong to; every
//!   other request takes the next local number (§12.2.1.1). A received request with the same
//!   CSeq number as the last one is accepted; only a lower one is out of order (§12.2.2 says
//!   nothing of equal numbers, and the transaction layer absorbs retransmissions before this).
//! - **MESSAGE inside a dialog** (RFC 3428 §4 allows it, though it recommends sending MESSAGE
//!   outside dialogs) is `dialog.request_with_body(Method::Message, via,
//!   Body::new("text/plain;charset=UTF-8", text))`: the same headers as any in-dialog request
//!   with the body and its Content-Type; no Contact, since MESSAGE is not a target refresh.
//! - **The secure flag** is set when the Request-URI of the INVITE is a SIPS URI (§12.1.1,
//!   §12.1.2). The transport is not known here: the caller must refuse a SIPS Request-URI that
//!   did not arrive over TLS before creating a dialog from it.

mod build;
mod error;
mod invite;
mod params;
mod reason;
mod remote;

pub use build::is_target_refresh;
pub use error::DialogError;
pub use invite::{Body, OutgoingInvite};
pub(crate) use params::{parse_u32, split_params, write_params};
pub use reason::{Reason, ReasonProtocol};
pub use remote::DialogUpdate;

use crate::sip::message::{
    ContactValue, HeaderName, Headers, NameAddr, Request, Response, Scheme, StatusCode, Uri,
};

/// Max-Forwards of every request we originate (RFC 3261 §8.1.1.6: "SHOULD be 70").
pub const MAX_FORWARDS: u8 = 70;

/// What identifies a dialog (RFC 3261 §12): Call-ID, local tag, remote tag, seen from our
/// side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag: the To tag of our responses as UAS, the From tag of our requests as UAC.
    pub local_tag: String,
    /// The peer's tag; `None` for an RFC 2543 peer that sent no From tag (§12.1.1).
    pub remote_tag: Option<String>,
}

impl DialogId {
    /// The dialog a received request belongs to, if it is inside one: its To tag is ours, its
    /// From tag the peer's (§12.2.2). `None` for a request without To tag (out of dialog) or
    /// with unreadable From, To or Call-ID.
    pub fn of_request(request: &Request) -> Option<Self> {
        let local_tag = request.to().ok()?.tag()?.to_owned();
        let remote_tag = request.from().ok()?.tag().map(str::to_owned);
        Some(Self {
            call_id: request.call_id().ok()?.to_owned(),
            local_tag,
            remote_tag,
        })
    }

    /// The dialog a received response belongs to: its From tag is ours, its To tag the peer's
    /// (§12.1.2). `None` when either tag is missing or a header is unreadable.
    pub fn of_response(response: &Response) -> Option<Self> {
        let local_tag = response.from().ok()?.tag()?.to_owned();
        let remote_tag = response.to().ok()?.tag()?.to_owned();
        Some(Self {
            call_id: response.call_id().ok()?.to_owned(),
            local_tag,
            remote_tag: Some(remote_tag),
        })
    }
}

/// Which side of the dialog-creating INVITE we were.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogRole {
    /// We sent the INVITE.
    Uac,
    /// We answered the INVITE.
    Uas,
}

/// The state of a dialog (RFC 3261 §12): early after a 1xx with To tag, confirmed after a 2xx.
/// A terminated dialog is one its owner drops (see [`DialogUpdate::Terminated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a provisional response (§12.1).
    Early,
    /// Created or confirmed by a 2xx (§12.1, §13.2.2.4).
    Confirmed,
}

/// One SIP dialog (RFC 3261 §12). See the [module docs](self) for the choices it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    role: DialogRole,
    state: DialogState,
    id: DialogId,
    /// Our address (From of our requests), without tag.
    local_uri: NameAddr,
    /// The peer's address (To of our requests), without tag.
    remote_uri: NameAddr,
    /// Our Contact, sent in target refresh requests.
    local_target: Option<NameAddr>,
    remote_target: Uri,
    route_set: Vec<NameAddr>,
    /// The CSeq number of our next request other than ACK and CANCEL.
    next_local_seq: u32,
    /// The CSeq number of our last request other than ACK and CANCEL.
    last_local_seq: Option<u32>,
    remote_seq: Option<u32>,
    secure: bool,
}

/// `addr` without its `tag` parameter.
fn without_tag(mut addr: NameAddr) -> NameAddr {
    addr.params
        .retain(|(name, _)| !name.eq_ignore_ascii_case("tag"));
    addr
}

/// The single SIP or SIPS Contact address of a message, `None` if it has none (RFC 3261
/// §8.1.1.8: a dialog-creating request carries "exactly one SIP or SIPS URI").
fn single_contact(headers: &Headers) -> Result<Option<NameAddr>, DialogError> {
    let contacts = headers
        .contacts()
        .map_err(|e| DialogError::bad("Contact", &e))?;
    let bad = |detail: String| DialogError::BadHeader {
        name: "Contact",
        detail,
    };
    match contacts.as_slice() {
        [] => Ok(None),
        [ContactValue::Address(addr)] if addr.uri.is_sip() => Ok(Some(addr.clone())),
        [ContactValue::Address(addr)] => {
            Err(bad(format!("{} is not a SIP or SIPS URI", addr.uri.scheme)))
        }
        [ContactValue::Wildcard] => Err(bad("'*' is not a target".into())),
        _ => Err(bad(format!(
            "{} values where one is allowed",
            contacts.len()
        ))),
    }
}

/// Like [`single_contact`], with a missing Contact an error.
fn required_contact(headers: &Headers) -> Result<NameAddr, DialogError> {
    single_contact(headers)?.ok_or(DialogError::MissingHeader("Contact"))
}

/// Sequence numbers we originate stay below 2**31 (RFC 3261 §8.1.1.5).
const CSEQ_LIMIT: u32 = 1 << 31;

impl Dialog {
    /// The dialog we created by answering `invite` with `response` (RFC 3261 §12.1.1):
    /// `response` is our 2xx (confirmed dialog) or a 101-199 (early dialog) that carries our To
    /// tag and, as §12.1.1 requires, our Contact.
    ///
    /// Call-ID from the INVITE; local tag = To tag of `response`; remote tag = From tag of the
    /// INVITE; remote target = Contact of the INVITE; route set = its Record-Route values in
    /// order; remote CSeq = its CSeq; local/remote URI = its To/From without tags; secure when
    /// its Request-URI is SIPS. Our first request in the dialog will carry CSeq
    /// `first_local_cseq` (draw it at random, or pass 1; values of 2**31 and above are
    /// reduced below, §8.1.1.5).
    pub fn from_uas(
        invite: &Request,
        response: &Response,
        first_local_cseq: u32,
    ) -> Result<Self, DialogError> {
        let state = dialog_state(response)?;
        let local_tag = response
            .to()
            .map_err(|e| DialogError::bad("To", &e))?
            .tag()
            .ok_or(DialogError::MissingTag("To"))?
            .to_owned();
        let from = invite.from().map_err(|e| DialogError::bad("From", &e))?;
        let to = invite.to().map_err(|e| DialogError::bad("To", &e))?;
        let cseq = invite.cseq().map_err(|e| DialogError::bad("CSeq", &e))?;
        let call_id = invite
            .call_id()
            .map_err(|e| DialogError::bad("Call-ID", &e))?
            .to_owned();
        let remote_target = required_contact(&invite.headers)?.uri;
        let route_set = invite
            .record_routes()
            .map_err(|e| DialogError::bad("Record-Route", &e))?;
        let local_target = single_contact(&response.headers)?;
        Ok(Self {
            role: DialogRole::Uas,
            state,
            id: DialogId {
                call_id,
                local_tag,
                remote_tag: from.tag().map(str::to_owned),
            },
            local_uri: without_tag(to),
            remote_uri: without_tag(from),
            local_target,
            remote_target,
            route_set,
            next_local_seq: first_local_cseq % CSEQ_LIMIT,
            last_local_seq: None,
            remote_seq: Some(cseq.seq),
            secure: invite.uri.scheme == Scheme::Sips,
        })
    }

    /// The dialog created by `response` to the INVITE we sent (RFC 3261 §12.1.2): a 2xx
    /// (confirmed) or a 101-199 with a To tag (early; a later 2xx confirms it through
    /// [`handle_response`](Self::handle_response)).
    ///
    /// Call-ID and local tag from the INVITE (From tag); remote tag = To tag of the response;
    /// remote target = Contact of the response; route set = its Record-Route values in reverse
    /// order; local CSeq = the INVITE's (the next request takes the one after); remote CSeq
    /// empty until the peer sends a request; local/remote URI = From/To of the INVITE without
    /// tags; local target = Contact of the INVITE; secure when its Request-URI is SIPS.
    ///
    /// A response from another dialog (different Call-ID, From tag or CSeq) is
    /// [`DialogError::NoSuchDialog`]; one without Contact is
    /// [`DialogError::MissingHeader`] (§12.1.1 makes it mandatory, for 1xx too).
    pub fn from_uac(invite: &Request, response: &Response) -> Result<Self, DialogError> {
        let state = dialog_state(response)?;
        let from = invite.from().map_err(|e| DialogError::bad("From", &e))?;
        let to = invite.to().map_err(|e| DialogError::bad("To", &e))?;
        let cseq = invite.cseq().map_err(|e| DialogError::bad("CSeq", &e))?;
        let call_id = invite
            .call_id()
            .map_err(|e| DialogError::bad("Call-ID", &e))?
            .to_owned();
        let local_tag = from
            .tag()
            .ok_or(DialogError::MissingTag("From"))?
            .to_owned();

        let response_from = response.from().map_err(|e| DialogError::bad("From", &e))?;
        let response_cseq = response.cseq().map_err(|e| DialogError::bad("CSeq", &e))?;
        let response_call_id = response
            .call_id()
            .map_err(|e| DialogError::bad("Call-ID", &e))?;
        if response_call_id != call_id
            || response_from.tag() != Some(local_tag.as_str())
            || response_cseq.seq != cseq.seq
        {
            return Err(DialogError::NoSuchDialog);
        }
        let remote_tag = response
            .to()
            .map_err(|e| DialogError::bad("To", &e))?
            .tag()
            .ok_or(DialogError::MissingTag("To"))?
            .to_owned();
        let remote_target = required_contact(&response.headers)?.uri;
        let mut route_set = response
            .record_routes()
            .map_err(|e| DialogError::bad("Record-Route", &e))?;
        route_set.reverse();
        let local_target = single_contact(&invite.headers)?;
        Ok(Self {
            role: DialogRole::Uac,
            state,
            id: DialogId {
                call_id,
                local_tag,
                remote_tag: Some(remote_tag),
            },
            local_uri: without_tag(from),
            remote_uri: without_tag(to),
            local_target,
            remote_target,
            route_set,
            next_local_seq: cseq.seq.saturating_add(1),
            last_local_seq: Some(cseq.seq),
            remote_seq: None,
            secure: invite.uri.scheme == Scheme::Sips,
        })
    }

    /// Call-ID, local tag, remote tag.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.id.call_id
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        &self.id.local_tag
    }

    /// The peer's tag (`None` for an RFC 2543 peer without From tag).
    pub fn remote_tag(&self) -> Option<&str> {
        self.id.remote_tag.as_deref()
    }

    /// Whether we sent or answered the INVITE.
    pub fn role(&self) -> DialogRole {
        self.role
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Our address (From of our requests), without tag.
    pub fn local_uri(&self) -> &NameAddr {
        &self.local_uri
    }

    /// The peer's address (To of our requests), without tag.
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote_uri
    }

    /// Our Contact, put in the target refresh requests we send; `None` if the response or
    /// INVITE the dialog came from had none.
    pub fn local_target(&self) -> Option<&NameAddr> {
        self.local_target.as_ref()
    }

    /// Replaces our Contact (for our next target refresh request, e.g. after an address
    /// change).
    pub fn set_local_target(&mut self, contact: NameAddr) {
        self.local_target = Some(contact);
    }

    /// Where our in-dialog requests go: the peer's Contact.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The route set, in the order our requests list it in Route.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// The CSeq number of our last request other than ACK and CANCEL (for a UAC dialog, the
    /// INVITE's until another request is built); `None` before a UAS sends any.
    pub fn local_cseq(&self) -> Option<u32> {
        self.last_local_seq
    }

    /// The highest CSeq number seen in the peer's requests; `None` for a UAC dialog until the
    /// peer sends one.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// The secure flag (§12.1.1): the INVITE's Request-URI was SIPS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }
}

/// The response with which we, as UAS, establish a dialog (RFC 3261 §12.1.1):
/// `invite.response(status)` plus our To tag (unless the To already has one), every
/// Record-Route of the INVITE copied in order ("MUST copy all Record-Route header field
/// values"), and our Contact. Use it for the 2xx and for 1xx that create early dialogs, then
/// [`Dialog::from_uas`] with the same response.
pub fn dialog_response(
    invite: &Request,
    status: StatusCode,
    local_tag: &str,
    contact: &NameAddr,
) -> Response {
    let mut response = invite.response(status);
    if let Ok(mut to) = invite.to()
        && to.tag().is_none()
    {
        to.set_tag(local_tag);
        response.headers.set(HeaderName::TO, to.to_string());
    }
    for record_route in invite.headers.get_all(&HeaderName::RECORD_ROUTE) {
        response
            .headers
            .push(HeaderName::RECORD_ROUTE, record_route);
    }
    response
        .headers
        .push(HeaderName::CONTACT, contact.to_string());
    response
}

/// The state a response gives the dialog it creates: 101-199 early, 2xx confirmed.
fn dialog_state(response: &Response) -> Result<DialogState, DialogError> {
    let code = response.status.code();
    match code {
        101..=199 => Ok(DialogState::Early),
        200..=299 => Ok(DialogState::Confirmed),
        _ => Err(DialogError::NotDialogCreating(response.status)),
    }
}
