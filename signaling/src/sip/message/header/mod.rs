//! Typed views of header field values, parsed on demand from the text kept in
//! [`Headers`](super::Headers): Via, name-addr (From, To, Contact, Route, Record-Route,
//! Refer-To), CSeq, and the scalar and date checks the message parser applies.

mod cseq;
mod date;
mod name_addr;
mod params;
mod scalar;
mod via;

pub use cseq::CSeq;
pub(crate) use date::check_date;
pub use name_addr::{ContactValue, NameAddr};
pub(crate) use scalar::{
    check_call_id, parse_content_length, parse_delta_seconds, parse_max_forwards,
};
pub use via::Via;
