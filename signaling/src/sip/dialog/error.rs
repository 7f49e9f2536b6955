//! What can go wrong when a dialog is created or a message is matched to one, and the status
//! each answer carries.

use crate::sip::message::{ParseError, StatusCode};

/// A dialog could not be created, or a message does not fit the dialog.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// The Call-ID, the local tag or the remote tag does not match the dialog (RFC 3261
    /// §12.2.2): answered 481 Call/Transaction Does Not Exist.
    #[error("the message does not belong to this dialog")]
    NoSuchDialog,
    /// The request's CSeq is lower than the remote sequence number (RFC 3261 §12.2.2: "out of
    /// order"): answered 500 Server Internal Error.
    #[error("CSeq {received} is lower than the dialog's remote CSeq {remote}")]
    OutOfOrder {
        /// The CSeq number of the request.
        received: u32,
        /// The dialog's remote sequence number.
        remote: u32,
    },
    /// A header field the dialog needs is missing, e.g. the Contact of an INVITE (RFC 3261
    /// §8.1.1.8): answered 400 Bad Request.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header field the dialog needs is malformed: a Contact that is not exactly one SIP or
    /// SIPS URI, an unparsable Record-Route, From, To or CSeq: answered 400 Bad Request.
    #[error("invalid {name}: {detail}")]
    BadHeader {
        /// The header field.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A response that must carry a tag does not: the To tag of the response that creates the
    /// dialog (RFC 3261 §12.1.1, §12.1.2), or the From tag of our own INVITE. Maps to 500:
    /// there is no request to answer, and when it is our own response it is our bug.
    #[error("the {0} header has no tag")]
    MissingTag(&'static str),
    /// The response does not create a dialog: only 101-199 with a To tag (early) and 2xx
    /// (confirmed) do (RFC 3261 §12.1). Maps to 500.
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(StatusCode),
}

impl DialogError {
    /// The status to answer the offending request with (RFC 3261 §12.2.2: 481 for an unknown
    /// dialog, 500 for an out-of-order CSeq; 400 for a malformed request). Errors raised on a
    /// response have no request to answer; they map to 500, naming an internal failure.
    pub fn sip_status(&self) -> StatusCode {
        match self {
            Self::NoSuchDialog => StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST,
            Self::OutOfOrder { .. } | Self::MissingTag(_) | Self::NotDialogCreating(_) => {
                StatusCode::SERVER_INTERNAL_ERROR
            }
            Self::MissingHeader(_) | Self::BadHeader { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// A [`BadHeader`](Self::BadHeader) from a parse error of header `name`.
    pub(crate) fn bad(name: &'static str, error: &ParseError) -> Self {
        Self::BadHeader {
            name,
            detail: error.detail.clone(),
        }
    }
}
