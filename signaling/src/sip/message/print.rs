//! Printing messages (RFC 3261 §7): start line, headers with canonical names, a correct
//! Content-Length, the empty line, the body.

use super::headers::Headers;
use super::request::Request;
use super::response::Response;

/// The bytes of a request.
pub(crate) fn write_request(request: &Request) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + request.body.len());
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.uri.to_string().as_bytes());
    out.extend_from_slice(b" SIP/2.0\r\n");
    write_rest(&mut out, &request.headers, &request.body);
    out
}

/// The bytes of a response. Control characters in the reason phrase (CR and LF above all)
/// become SP.
pub(crate) fn write_response(response: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + response.body.len());
    out.extend_from_slice(format!("SIP/2.0 {} ", response.status.code()).as_bytes());
    out.extend(response.reason.bytes().map(|b| {
        if b.is_ascii_control() && b != b'\t' {
            b' '
        } else {
            b
        }
    }));
    out.extend_from_slice(b"\r\n");
    write_rest(&mut out, &response.headers, &response.body);
    out
}

/// Headers (any Content-Length among them is skipped), Content-Length, empty line, body.
fn write_rest(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    for (name, value) in headers.iter() {
        if name.is("Content-Length") {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.push(b':');
        if !value.is_empty() {
            out.push(b' ');
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}
