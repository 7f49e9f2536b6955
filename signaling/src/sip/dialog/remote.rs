//! What the peer sends inside a dialog: requests (RFC 3261 §12.2.2) and responses to our
//! requests (§12.2.1.2, §13.2.2.4).

use super::build::is_target_refresh;
use super::{Dialog, DialogError, DialogRole, DialogState, required_contact, single_contact};
use crate::sip::message::{Method, Request, Response, StatusCode};

/// What a response did to the dialog ([`Dialog::handle_response`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogUpdate {
    /// Nothing changed.
    Unchanged,
    /// A 2xx to our INVITE confirmed an early dialog; the route set and remote target were
    /// recomputed from it (§13.2.2.4).
    Confirmed,
    /// A 2xx to our target refresh request carried a new Contact, now the remote target
    /// (§12.2.1.2).
    TargetRefreshed,
    /// The dialog is over: a 481 or 408 to a request inside it (§12.2.1.2: the UAC "SHOULD
    /// terminate the dialog"), or a final non-2xx to the INVITE of an early dialog (§12.3).
    /// Drop the dialog (after a BYE for a 408, if the call was up).
    Terminated,
}

impl Dialog {
    /// Checks a request the peer sent inside this dialog (§12.2.2) and takes what it changes:
    ///
    /// - Call-ID, To tag (ours) and From tag (the peer's) must match:
    ///   [`DialogError::NoSuchDialog`] (481) otherwise.
    /// - A CSeq number lower than the remote sequence number is out of order:
    ///   [`DialogError::OutOfOrder`] (500). Otherwise it becomes the remote sequence number.
    ///   ACK and CANCEL carry the number of the request they belong to and are not checked.
    /// - A target refresh request (re-INVITE, UPDATE...) with a Contact replaces the remote
    ///   target; a Contact that is not exactly one SIP or SIPS URI is
    ///   [`DialogError::BadHeader`] (400).
    ///
    /// On error nothing changes.
    pub fn check_remote_request(&mut self, request: &Request) -> Result<(), DialogError> {
        let call_id = request
            .call_id()
            .map_err(|e| DialogError::bad("Call-ID", &e))?;
        let to = request.to().map_err(|e| DialogError::bad("To", &e))?;
        let from = request.from().map_err(|e| DialogError::bad("From", &e))?;
        if call_id != self.id.call_id
            || to.tag() != Some(self.id.local_tag.as_str())
            || from.tag() != self.id.remote_tag.as_deref()
        {
            return Err(DialogError::NoSuchDialog);
        }
        let cseq = request.cseq().map_err(|e| DialogError::bad("CSeq", &e))?;
        let ordered = !matches!(request.method, Method::Ack | Method::Cancel);
        if ordered
            && let Some(remote) = self.remote_seq
            && cseq.seq < remote
        {
            return Err(DialogError::OutOfOrder {
                received: cseq.seq,
                remote,
            });
        }
        let new_target = if is_target_refresh(&request.method) {
            single_contact(&request.headers)?
        } else {
            None
        };
        if ordered {
            self.remote_seq = Some(cseq.seq);
        }
        if let Some(contact) = new_target {
            self.remote_target = contact.uri;
        }
        Ok(())
    }

    /// Takes a response to a request we sent inside this dialog (or to the INVITE that
    /// created it):
    ///
    /// - 2xx to the INVITE of an early dialog we created as UAC: confirmed, route set and
    ///   remote target recomputed from the 2xx (§13.2.2.4).
    /// - 2xx to any other target refresh request: the Contact, if any, becomes the remote
    ///   target (§12.2.1.2).
    /// - 481 or 408: [`DialogUpdate::Terminated`] (§12.2.1.2).
    /// - final non-2xx to the INVITE of an early dialog: [`DialogUpdate::Terminated`].
    ///
    /// A response whose Call-ID, From tag or To tag is not this dialog's is
    /// [`DialogError::NoSuchDialog`] (a 2xx from another fork creates another dialog: use
    /// [`Dialog::from_uac`]); a `100 Trying` changes nothing.
    pub fn handle_response(&mut self, response: &Response) -> Result<DialogUpdate, DialogError> {
        if response.status == StatusCode::TRYING {
            return Ok(DialogUpdate::Unchanged);
        }
        let call_id = response
            .call_id()
            .map_err(|e| DialogError::bad("Call-ID", &e))?;
        let from = response.from().map_err(|e| DialogError::bad("From", &e))?;
        let to = response.to().map_err(|e| DialogError::bad("To", &e))?;
        let to_tag = to.tag();
        if call_id != self.id.call_id
            || from.tag() != Some(self.id.local_tag.as_str())
            || to_tag.is_none()
            || to_tag != self.id.remote_tag.as_deref()
        {
            return Err(DialogError::NoSuchDialog);
        }
        let method = response
            .cseq()
            .map_err(|e| DialogError::bad("CSeq", &e))?
            .method;
        let status = response.status;
        if status == StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST
            || status == StatusCode::REQUEST_TIMEOUT
        {
            return Ok(DialogUpdate::Terminated);
        }
        let early_invite = method == Method::Invite
            && self.state == DialogState::Early
            && self.role == DialogRole::Uac;
        if status.is_success() {
            if early_invite {
                let contact = required_contact(&response.headers)?;
                let mut route_set = response
                    .record_routes()
                    .map_err(|e| DialogError::bad("Record-Route", &e))?;
                route_set.reverse();
                self.route_set = route_set;
                self.remote_target = contact.uri;
                self.state = DialogState::Confirmed;
                return Ok(DialogUpdate::Confirmed);
            }
            if is_target_refresh(&method)
                && let Some(contact) = single_contact(&response.headers)?
                && contact.uri != self.remote_target
            {
                self.remote_target = contact.uri;
                return Ok(DialogUpdate::TargetRefreshed);
            }
            return Ok(DialogUpdate::Unchanged);
        }
        if status.is_final() && early_invite {
            return Ok(DialogUpdate::Terminated);
        }
        Ok(DialogUpdate::Unchanged)
    }

    /// Marks an early dialog we created as UAS confirmed: call it when sending the 2xx to the
    /// INVITE after the 1xx the dialog came from.
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }
}
