//! Serde helpers for protobuf integers in JSON: read a number **or** a string, write a number.
//!
//! Google's JSON mapping of proto3 renders `int64`/`uint64` as JSON strings (`"7"`) and
//! accepts either form for every integer type, while Google's Meet Media API reference clients
//! read and write plain numbers (`7`). meet-side.md §1.4 ("Interop note") settles it for tcn:
//! accept number or string, **emit numbers**. Every integer field of the data-channel types
//! goes through this module, whatever its width, so a peer that follows either convention is
//! understood.
//!
//! What is accepted on input, for a target type `T` (`i32`, `i64`, `u32` or `u64`):
//! - a JSON integer that fits in `T`: `7`, `-3`;
//! - a JSON number with an exponent or a zero fraction whose value is an integer no larger in
//!   magnitude than 2^53 (exactly representable in an `f64`) and fits in `T`: `1e3`, `7.0`
//!   (proto3 JSON allows exponent notation);
//! - a JSON string holding a decimal integer that fits in `T`, optional leading `-` or `+`,
//!   nothing else (no spaces, no exponent): `"7"`, `"-3"`, `"9007199254740993"`.
//!
//! Anything else (fractions, out-of-range values, `true`, `null` for a required field) is an
//! error that names what was found.
//!
//! Use it with serde's `with` attribute:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Example {
//!     #[serde(with = "meet::protocol::int64")]
//!     id: i64,
//!     #[serde(default, with = "meet::protocol::int64::option")]
//!     maybe: Option<u32>,
//!     #[serde(default, with = "meet::protocol::int64::vec")]
//!     many: Vec<u32>,
//! }
//!
//! let parsed: Example = serde_json::from_str(r#"{"id":"7","maybe":3,"many":["1",2]}"#).unwrap();
//! assert_eq!((parsed.id, parsed.maybe, parsed.many.as_slice()), (7, Some(3), &[1, 2][..]));
//! assert_eq!(
//!     serde_json::to_string(&parsed).unwrap(),
//!     r#"{"id":7,"maybe":3,"many":[1,2]}"#
//! );
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The largest integer magnitude an `f64` holds exactly (2^53); integral floats above it are
/// refused because they may already have been rounded by the JSON parser.
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// An integer type this module can read and write. Implemented for `i32`, `i64`, `u32` and
/// `u64`; sealed, so it cannot be implemented outside this crate.
pub trait Integer: sealed::Sealed + Copy + Serialize + TryFrom<i64> + TryFrom<u64> {
    /// The protobuf name of the type, used in error messages (`"int64"`, `"uint32"`, ...).
    const PROTO_NAME: &'static str;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

impl Integer for i32 {
    const PROTO_NAME: &'static str = "int32";
}
impl Integer for i64 {
    const PROTO_NAME: &'static str = "int64";
}
impl Integer for u32 {
    const PROTO_NAME: &'static str = "uint32";
}
impl Integer for u64 {
    const PROTO_NAME: &'static str = "uint64";
}

/// Writes `value` as a JSON number.
pub fn serialize<T: Integer, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize(serializer)
}

/// Reads a JSON number or a JSON string holding a decimal integer (see the module docs).
pub fn deserialize<'de, T: Integer, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(IntegerVisitor::<T>(PhantomData))
}

/// The same for `Option<T>`: absent (with `#[serde(default)]`) or `null` reads as `None`;
/// `None` is written as `null`, so pair it with `skip_serializing_if = "Option::is_none"`.
pub mod option {
    use super::*;

    /// Writes `Some(v)` as a number and `None` as `null`.
    pub fn serialize<T: Integer, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => v.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `null` as `None`, anything else as [`super::deserialize`] does.
    pub fn deserialize<'de, T: Integer, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<Lenient<T>>::deserialize(deserializer)?.map(|Lenient(v)| v))
    }
}

/// The same for `Vec<T>` (a JSON array whose elements may mix numbers and strings); written
/// as an array of numbers.
pub mod vec {
    use super::*;

    /// Writes the elements as an array of numbers.
    pub fn serialize<T: Integer, S: Serializer>(
        values: &[T],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(v)?;
        }
        seq.end()
    }

    /// Reads an array whose elements are numbers or decimal strings.
    pub fn deserialize<'de, T: Integer, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(SeqVisitor::<T>(PhantomData))
    }

    struct SeqVisitor<T>(PhantomData<T>);

    impl<'de, T: Integer> Visitor<'de> for SeqVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "an array of {} (JSON numbers or decimal strings)",
                T::PROTO_NAME
            )
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // Cap the pre-allocation: the size hint comes from the peer's message.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(Lenient(v)) = seq.next_element::<Lenient<T>>()? {
                out.push(v);
            }
            Ok(out)
        }
    }
}

/// A `T` read leniently; lets the `option` and `vec` helpers reuse the visitor.
struct Lenient<T>(T);

impl<'de, T: Integer> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Lenient)
    }
}

struct IntegerVisitor<T>(PhantomData<T>);

impl<T: Integer> IntegerVisitor<T> {
    fn fit<E: de::Error, V: fmt::Display + Copy>(value: V, converted: Option<T>) -> Result<T, E> {
        converted.ok_or_else(|| {
            E::custom(format_args!(
                "{value} is out of range for {}",
                T::PROTO_NAME
            ))
        })
    }
}

impl<'de, T: Integer> Visitor<'de> for IntegerVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (a JSON number or a decimal string)", T::PROTO_NAME)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::fit(v, T::try_from(v).ok())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::fit(v, T::try_from(v).ok())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if !v.is_finite() || v.fract() != 0.0 || v.abs() > MAX_EXACT_F64 {
            return Err(E::invalid_value(de::Unexpected::Float(v), &self));
        }
        // In range by the check above: |v| <= 2^53 converts to i64 exactly.
        let whole = v as i64;
        Self::fit(v, T::try_from(whole).ok())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        // Parse through i128 so that "too large" and "negative for an unsigned type" both read
        // as out of range rather than as a syntax error.
        let wide: i128 = match v.strip_prefix('+').unwrap_or(v).parse() {
            Ok(wide) => wide,
            Err(_) => {
                return Err(E::custom(format_args!(
                    "{v} is out of range for {}",
                    T::PROTO_NAME
                )));
            }
        };
        let converted = i64::try_from(wide)
            .ok()
            .and_then(|w| T::try_from(w).ok())
            .or_else(|| u64::try_from(wide).ok().and_then(|w| T::try_from(w).ok()));
        Self::fit(v, converted)
    }
}
