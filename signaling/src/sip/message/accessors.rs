//! The typed header accessors of [`Headers`](super::Headers), offered on requests and
//! responses through one macro so that there is a single implementation.

/// Implements the typed header accessors on a type with a `headers: Headers` field, each
/// forwarding to the [`Headers`](super::Headers) method of the same name.
macro_rules! header_accessors {
    ($ty:ty) => {
        impl $ty {
            /// Every Via, parsed, top first ([`Headers::vias`]).
            pub fn vias(
                &self,
            ) -> Result<Vec<$crate::sip::message::Via>, $crate::sip::message::ParseError> {
                self.headers.vias()
            }

            /// The top Via, parsed ([`Headers::top_via`]).
            pub fn top_via(
                &self,
            ) -> Result<$crate::sip::message::Via, $crate::sip::message::ParseError> {
                self.headers.top_via()
            }

            /// From, parsed ([`Headers::from`]).
            pub fn from(
                &self,
            ) -> Result<$crate::sip::message::NameAddr, $crate::sip::message::ParseError> {
                self.headers.from()
            }

            /// To, parsed ([`Headers::to`]).
            pub fn to(
                &self,
            ) -> Result<$crate::sip::message::NameAddr, $crate::sip::message::ParseError> {
                self.headers.to()
            }

            /// Call-ID ([`Headers::call_id`]).
            pub fn call_id(&self) -> Result<&str, $crate::sip::message::ParseError> {
                self.headers.call_id()
            }

            /// CSeq, parsed ([`Headers::cseq`]).
            pub fn cseq(
                &self,
            ) -> Result<$crate::sip::message::CSeq, $crate::sip::message::ParseError> {
                self.headers.cseq()
            }

            /// Max-Forwards ([`Headers::max_forwards`]).
            pub fn max_forwards(&self) -> Result<Option<u8>, $crate::sip::message::ParseError> {
                self.headers.max_forwards()
            }

            /// Every Contact, parsed ([`Headers::contacts`]).
            pub fn contacts(
                &self,
            ) -> Result<Vec<$crate::sip::message::ContactValue>, $crate::sip::message::ParseError>
            {
                self.headers.contacts()
            }

            /// Every Route, parsed ([`Headers::routes`]).
            pub fn routes(
                &self,
            ) -> Result<Vec<$crate::sip::message::NameAddr>, $crate::sip::message::ParseError> {
                self.headers.routes()
            }

            /// Every Record-Route, parsed ([`Headers::record_routes`]).
            pub fn record_routes(
                &self,
            ) -> Result<Vec<$crate::sip::message::NameAddr>, $crate::sip::message::ParseError> {
                self.headers.record_routes()
            }

            /// Content-Type ([`Headers::content_type`]).
            pub fn content_type(&self) -> Option<&str> {
                self.headers.content_type()
            }

            /// Expires ([`Headers::expires`]).
            pub fn expires(&self) -> Result<Option<u32>, $crate::sip::message::ParseError> {
                self.headers.expires()
            }
        }
    };
}

pub(crate) use header_accessors;
