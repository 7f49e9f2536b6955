//! `HttpConnector`: [`MeetConnector`] over plain HTTP/1.1, for meet-sim (meet-side.md §5.b).
//!
//! | step | request | answer |
//! |---|---|---|
//! | `resolve` | `GET /v1/interop/meetingIds/{id}:resolve` | `{"space":"spaces/…","meetingCode":"abc-defg-hij"}` |
//! | `connect` | `POST /v1/interop/spaces/{space}:connectGateway`, `{"offer","displayName","callerUri","protocol"}` | `{"answer","traceId","participantId"}` |
//!
//! Both carry `Authorization: Bearer <gateway JWT>`, a token minted for that request alone
//! (`sub` = the call id, or `resolve-<random>` for a resolve). Each request opens its own
//! connection (`Connection: close`): calls are few and far between next to the cost of a
//! conference, and nothing is left open between them. The whole request, connection included,
//! must finish within the timeout ([`DEFAULT_REQUEST_TIMEOUT`]), or it is a
//! [`MeetError::Timeout`].
//!
//! Only `http://` base URLs are taken: meet-sim listens on loopback. A real-Meet adapter adds
//! TLS. The JWT and the interop token never appear in logs, errors or `Debug` output.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use super::{
    ConferenceRef, ConnectOutcome, DialString, GatewayCredential, JoinInfo, MeetConnector,
    MeetError, MeetProfile,
};
use crate::jwt::GatewayToken;

/// How long a request may take, connection included: 10 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer body read: 1 MiB (an SDP answer for 13 m-lines is a few KiB).
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Where the backend is: from an `http://host[:port]` base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BaseUrl {
    host: String,
    port: u16,
    /// `host[:port]` as given, for the `Host` header.
    authority: String,
}

impl BaseUrl {
    fn parse(url: &str) -> Result<Self, MeetError> {
        let bad = |reason: &str| MeetError::Config {
            reason: format!("base URL {url:?}: {reason}"),
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| bad("not a URL (expected http://host:port)"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(bad(&format!(
                    "scheme {other:?} is not supported: only http:// (TLS comes with the real-Meet adapter)"
                )));
            }
            None => return Err(bad("no scheme (expected http://host:port)")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("user information is not allowed"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("a path or query is not allowed"));
        }
        let host = authority.host();
        // `Uri` keeps the brackets of an IPv6 literal; sockets want the bare address.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.as_str().to_owned(),
        })
    }
}

/// The time source for minting tokens.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The default [`Clock`]: the wall clock, read once per request to date the token minted for
/// it. The connector is the crate's one I/O edge (feature `http`); everything else takes `now`
/// in, and `clippy.toml` forbids reading the clock anywhere but here.
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

/// The [`MeetConnector`] for meet-sim: HTTP/1.1 over TCP (see the module docs).
pub struct HttpConnector {
    base: BaseUrl,
    credential: GatewayCredential,
    profile: MeetProfile,
    timeout: Duration,
    clock: Clock,
}

impl HttpConnector {
    /// A connector to the backend at `base_url` (`http://127.0.0.1:PORT`), signing with
    /// `credential`, with the default profile and timeout and the system clock. A base URL
    /// that is not `http://host[:port]` is a [`MeetError::Config`].
    pub fn new(base_url: &str, credential: GatewayCredential) -> Result<Self, MeetError> {
        Ok(Self {
            base: BaseUrl::parse(base_url)?,
            credential,
            profile: MeetProfile::default(),
            timeout: DEFAULT_REQUEST_TIMEOUT,
            clock: Arc::new(wall_clock),
        })
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the profile.
    pub fn with_profile(mut self, profile: MeetProfile) -> Self {
        self.profile = profile;
        self
    }

    /// Sets the clock tokens are minted with (tests use the simulator's manual clock).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The base URL, `http://host[:port]`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.base.authority)
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The credential requests are signed with.
    pub fn credential(&self) -> &GatewayCredential {
        &self.credential
    }

    /// Sends one request with a fresh bearer token and returns the status and body; an error
    /// status becomes [`MeetError::Refused`].
    async fn call(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        token: &GatewayToken,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Bytes), MeetError> {
        // The request's duration, for the log line only: the I/O edge may read the clock.
        #[allow(clippy::disallowed_methods)]
        let started = Instant::now();
        let result = match tokio::time::timeout(
            self.timeout,
            self.exchange(method, path, token, body),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(MeetError::Timeout {
                timeout: self.timeout,
            }),
        };
        let elapsed_ms = started.elapsed().as_millis();
        let result = result.and_then(|(status, body)| {
            if (200..300).contains(&status) {
                Ok((status, body))
            } else {
                Err(MeetError::from_error_answer(status, &body))
            }
        });
        match &result {
            Ok((status, _)) => {
                tracing::debug!(
                    endpoint,
                    status,
                    jti = token.jti(),
                    elapsed_ms,
                    "meet request"
                );
            }
            Err(err) => {
                tracing::debug!(endpoint, jti = token.jti(), elapsed_ms, error = %err, "meet request failed");
            }
        }
        result
    }

    /// One request on a new connection, without the timeout.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        token: &GatewayToken,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Bytes), MeetError> {
        let transport = |what: &str, err: &dyn fmt::Display| MeetError::Transport {
            detail: format!("{what} {}: {err}", self.base.authority),
        };
        let stream = TcpStream::connect((self.base.host.as_str(), self.base.port))
            .await
            .map_err(|e| transport("connect to", &e))?;
        // Small requests, answered at once: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport("HTTP handshake with", &e))?;

        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.base.authority.as_str())
            .header(AUTHORIZATION, format!("Bearer {}", token.expose()))
            .header(ACCEPT, "application/json")
            .header(CONNECTION, "close");
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| MeetError::Config {
                reason: format!("cannot build the request: {e}"),
            })?;

        let answer = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| transport("request to", &e))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<LengthLimitError>().is_some() {
                        MeetError::BadAnswer {
                            http_status: status,
                            detail: format!("body over {MAX_ANSWER_BYTES} bytes"),
                        }
                    } else {
                        transport("reading the answer from", &e)
                    }
                })?
                .to_bytes();
            Ok((status, body))
        };
        // The connection future moves the bytes; it ends when the server closes. The answer
        // may still be buffered then, so finish reading it whichever ends first.
        let mut connection = std::pin::pin!(connection);
        let mut answer = std::pin::pin!(answer);
        tokio::select! {
            result = &mut answer => result,
            _ = &mut connection => answer.await,
        }
    }
}

#[async_trait::async_trait]
impl MeetConnector for HttpConnector {
    async fn resolve(&self, dial: &DialString) -> Result<ConferenceRef, MeetError> {
        let token = self
            .credential
            .mint(&fresh_subject("resolve"), None, None, (self.clock)())?;
        let mut path = "/v1/interop/meetingIds/".to_owned();
        push_segment(&mut path, &dial.to_string());
        path.push_str(":resolve");
        let (status, body) = self
            .call("resolve", Method::GET, &path, &token, None)
            .await?;
        let resolved: ResolveAnswer = parse_answer(status, &body)?;
        let valid_space = resolved
            .space
            .strip_prefix("spaces/")
            .is_some_and(|id| !id.is_empty());
        if !valid_space {
            return Err(MeetError::BadAnswer {
                http_status: status,
                detail: "\"space\" is not a spaces/{id} name".to_owned(),
            });
        }
        Ok(ConferenceRef {
            space: resolved.space,
            meeting_code: resolved.meeting_code.filter(|c| !c.is_empty()),
        })
    }

    async fn connect(
        &self,
        conf: &ConferenceRef,
        offer: &str,
        join: &JoinInfo,
    ) -> Result<ConnectOutcome, MeetError> {
        // A SIP Call-ID is never empty; should one be, the token still needs a subject.
        let subject = if join.call_id.is_empty() {
            fresh_subject("call")
        } else {
            join.call_id.clone()
        };
        let token = self.credential.mint(
            &subject,
            Some(join.display_name.as_str()).filter(|n| !n.is_empty()),
            Some(join.caller_uri.as_str()).filter(|u| !u.is_empty()),
            (self.clock)(),
        )?;
        let mut path = "/v1/interop/spaces/".to_owned();
        push_segment(&mut path, conf.space_id());
        path.push_str(":connectGateway");
        let request = ConnectRequest {
            offer,
            display_name: &join.display_name,
            caller_uri: &join.caller_uri,
            protocol: join.protocol.as_str(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| MeetError::Config {
            reason: format!("cannot encode the connect request: {e}"),
        })?;
        let (status, body) = self
            .call("connectGateway", Method::POST, &path, &token, Some(body))
            .await?;
        let answer: ConnectAnswer = parse_answer(status, &body)?;
        if answer.answer.is_empty() {
            return Err(MeetError::BadAnswer {
                http_status: status,
                detail: "\"answer\" is empty".to_owned(),
            });
        }
        Ok(ConnectOutcome {
            answer: answer.answer,
            trace_id: answer.trace_id.filter(|t| !t.is_empty()),
            participant_id: answer.participant_id,
        })
    }

    fn profile(&self) -> &MeetProfile {
        &self.profile
    }
}

impl fmt::Debug for HttpConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnector")
            .field("base_url", &self.base_url())
            .field("credential", &self.credential)
            .field("profile", &self.profile)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The body of `connectGateway`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectRequest<'a> {
    offer: &'a str,
    display_name: &'a str,
    caller_uri: &'a str,
    protocol: &'a str,
}

/// The answer of `resolve`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResolveAnswer {
    space: String,
    #[serde(default)]
    meeting_code: Option<String>,
}

/// The answer of `connectGateway`; `participantId` may be a number or a string (proto3 JSON
/// int64).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectAnswer {
    answer: String,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default, with = "crate::protocol::int64::option")]
    participant_id: Option<i64>,
}

/// A success body as `T`, or [`MeetError::BadAnswer`].
fn parse_answer<T: for<'de> Deserialize<'de>>(status: u16, body: &[u8]) -> Result<T, MeetError> {
    serde_json::from_slice(body).map_err(|e| MeetError::BadAnswer {
        http_status: status,
        detail: format!("not the documented JSON: {e}"),
    })
}

/// A token subject for a request that belongs to no call: `{what}-<64 random bits in hex>`.
fn fresh_subject(what: &str) -> String {
    format!("{what}-{:016x}", rand::random::<u64>())
}

/// Appends `segment` to `path`, percent-encoding every byte outside RFC 3986's unreserved
/// set, so that a name from the backend cannot add path segments, a query or a verb.
fn push_segment(path: &mut String, segment: &str) {
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_takes_http_host_and_port_only() {
        let url = BaseUrl::parse("http://127.0.0.1:8443").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.authority.as_str()),
            ("127.0.0.1", 8443, "127.0.0.1:8443")
        );
        assert_eq!(BaseUrl::parse("http://localhost/").unwrap().port, 80);
        assert_eq!(BaseUrl::parse("http://[::1]:9000").unwrap().host, "::1");
        for bad in [
            "https://127.0.0.1:8443",
            "ws://127.0.0.1:1",
            "127.0.0.1:8443",
            "http://127.0.0.1:1/v1",
            "http://127.0.0.1:1/?x=1",
            "http://user@127.0.0.1:1",
            "",
        ] {
            let err = BaseUrl::parse(bad).unwrap_err();
            assert!(matches!(err, MeetError::Config { .. }), "{bad}: {err}");
        }
        let err = BaseUrl::parse("https://meet.example").unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
    }

    #[test]
    fn segments_are_percent_encoded() {
        let mut path = String::from("/v1/interop/spaces/");
        push_segment(&mut path, "ab-C_9.~/x:y?z");
        assert_eq!(path, "/v1/interop/spaces/ab-C_9.~%2Fx%3Ay%3Fz");
    }

    #[test]
    fn connect_answer_takes_participant_id_as_number_or_string() {
        let a: ConnectAnswer =
            serde_json::from_str(r#"{"answer":"v=0","participantId":"7"}"#).unwrap();
        let b: ConnectAnswer =
            serde_json::from_str(r#"{"answer":"v=0","participantId":7,"traceId":"t"}"#).unwrap();
        assert_eq!((a.participant_id, b.participant_id), (Some(7), Some(7)));
        assert_eq!(b.trace_id.as_deref(), Some("t"));
    }
}
