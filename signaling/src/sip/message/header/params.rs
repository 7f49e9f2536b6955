//! Header parameters: `*( SEMI generic-param )` (RFC 3261 §25.1), shared by Via and
//! name-addr values.

use crate::sip::message::grammar::{Cursor, is_token_char};

/// Parameters in order: name as written, value as written (a quoted-string value keeps its
/// quotes and escapes, so that it prints back unchanged).
pub(crate) type Params = Vec<(String, Option<String>)>;

/// Parses `*( SEMI generic-param )` up to the end of the cursor, allowing whitespace around
/// `;` and `=` (SEMI and EQUAL include SWS). `generic-param = token [ EQUAL gen-value ]`,
/// `gen-value = token / host / quoted-string`.
pub(crate) fn parse_params(c: &mut Cursor<'_>) -> Result<Params, String> {
    let mut params = Vec::new();
    loop {
        c.skip_wsp();
        if c.is_empty() {
            return Ok(params);
        }
        if !c.eat(b';') {
            return Err(format!("unexpected {:?} before parameters", c.rest()));
        }
        c.skip_wsp();
        let name = c.take_while(is_token_char);
        if name.is_empty() {
            return Err("empty parameter".into());
        }
        c.skip_wsp();
        let value = if c.eat(b'=') {
            c.skip_wsp();
            Some(gen_value(c)?)
        } else {
            None
        };
        params.push((name.to_owned(), value));
    }
}

/// `gen-value = token / host / quoted-string`; a host may be an IPv6 reference, so `[`, `]`
/// and `:` are accepted besides token characters.
fn gen_value(c: &mut Cursor<'_>) -> Result<String, String> {
    if c.peek() == Some(b'"') {
        let (raw, _) = c.quoted_string()?;
        return Ok(raw.to_owned());
    }
    let value = c.take_while(|b| is_token_char(b) || b == b'[' || b == b']' || b == b':');
    if value.is_empty() {
        return Err("empty parameter value".into());
    }
    Ok(value.to_owned())
}

/// Appends `;name[=value]` for each parameter.
pub(crate) fn write_params(out: &mut String, params: &Params) {
    for (name, value) in params {
        out.push(';');
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
}

/// The first parameter called `name` (case-insensitive).
pub(crate) fn find_param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}
