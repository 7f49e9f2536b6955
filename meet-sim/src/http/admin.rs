//! Control API, admin side: gateway enrolment (a public key, or a CSR the test CA signs), the
//! test CA's certificate, organisations, interop tokens and OAuth test tokens (meet-side.md
//! §5.b "Gateway authentication" items 1 and 2).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult, no_such_endpoint, parse_body};
use super::state::Shared;
use crate::model::{InteropTokenInfo, IssuedInteropToken, RpcCode, SimError};
use meet::jwt::{JwtError, SigningAlgorithm, VerifyingKey};

/// `POST /sim/gateways`: a public key as a JWK (object or string) with its `kid`, or a PEM
/// with `kid` and `alg`; or a PKCS#10 `csr` (PEM) with an optional `kid` (default: its
/// subject CN) and `alg` (which must match its key).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct EnrollRequest {
    issuer: String,
    jwk: Option<Value>,
    public_key_pem: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    csr: Option<String>,
}

fn invalid_key(err: JwtError) -> ApiError {
    ApiError(SimError::new(
        RpcCode::InvalidArgument,
        "INVALID_KEY",
        err.to_string(),
    ))
}

/// `POST /sim/gateways` → 201 `{"issuer","kid","alg"}`, plus `"certificateChainPem"` (the
/// signed certificate, then the CA's) for a CSR.
pub(super) async fn enroll(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult<Response> {
    let request: EnrollRequest = parse_body(&body)?;
    let key = match (request.jwk, request.public_key_pem, request.csr) {
        (None, None, Some(csr)) => {
            let (kid, alg) = (request.kid.as_deref(), request.alg.as_deref());
            let enrolled =
                shared.run(|model, now| model.enroll_csr(&request.issuer, &csr, kid, alg, now))?;
            return Ok((StatusCode::CREATED, Json(enrolled)).into_response());
        }
        (Some(jwk), None, None) => {
            let text = match jwk {
                Value::String(text) => text,
                other => other.to_string(),
            };
            VerifyingKey::from_jwk_json(&text).map_err(invalid_key)?
        }
        (None, Some(pem), None) => {
            let kid = request.kid.unwrap_or_default();
            let alg = request.alg.as_deref().unwrap_or("ES256");
            let alg = SigningAlgorithm::from_name(alg)
                .ok_or_else(|| ApiError(SimError::bad_request("alg must be ES256 or RS256")))?;
            VerifyingKey::from_pem(kid, alg, &pem).map_err(invalid_key)?
        }
        _ => {
            return Err(ApiError(SimError::bad_request(
                "give exactly one of jwk, publicKeyPem or csr",
            )));
        }
    };
    let enrolled = shared.run(|model, now| model.enroll_gateway(&request.issuer, key, now))?;
    Ok((StatusCode::CREATED, Json(enrolled)).into_response())
}

/// `GET /sim/ca` → `{"certificatePem"}`: the test CA that signs CSR enrolments.
pub(super) async fn ca(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Value>> {
    let pem = shared.run(|model, now| model.ca_certificate_pem(now))?;
    Ok(Json(json!({ "certificatePem": pem })))
}

/// `GET /sim/gateways` → `{"gateways":[{"issuer","kid","alg"}]}`.
pub(super) async fn list_gateways(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let keys = shared.lock().model.gateway_keys();
    Json(json!({ "gateways": keys }))
}

/// `DELETE /sim/gateways/{kid}` → 204.
pub(super) async fn remove_gateway(
    State(shared): State<Arc<Shared>>,
    Path(kid): Path<String>,
) -> ApiResult<StatusCode> {
    shared.run(|model, now| model.remove_gateway_key(&kid, now))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /sim/orgs/{org}:setInterop` `{"enabled":bool}` → `{"org","interopEnabled"}`.
pub(super) async fn org_verb(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    struct SetInterop {
        enabled: bool,
    }
    let org = super::meet_api::split_verb(&segment, "setInterop")?;
    let request: SetInterop = parse_body(&body)?;
    shared.run(|model, now| model.set_org_interop(org, request.enabled, now));
    Ok(Json(
        json!({ "org": org, "interopEnabled": request.enabled }),
    ))
}

/// `POST /sim/orgs/{org}/interopTokens` `{"name","type":"GATEWAY","trusted"}` → 201 with the
/// token value, shown this once.
pub(super) async fn issue_token(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<IssuedInteropToken>)> {
    #[derive(Deserialize)]
    #[serde(default)]
    struct Issue {
        name: String,
        #[serde(rename = "type")]
        token_type: String,
        trusted: bool,
    }
    impl Default for Issue {
        fn default() -> Self {
            Self {
                name: String::new(),
                token_type: "GATEWAY".to_owned(),
                trusted: false,
            }
        }
    }
    let request: Issue = parse_body(&body)?;
    let issued = shared.run(|model, now| {
        model.issue_interop_token(
            &org,
            &request.name,
            &request.token_type,
            request.trusted,
            now,
        )
    })?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `GET /sim/orgs/{org}/interopTokens` → `{"interopTokens":[...]}` (no values).
pub(super) async fn list_tokens(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
) -> Json<Value> {
    let tokens = shared.lock().model.interop_tokens(&org);
    Json(json!({ "interopTokens": tokens }))
}

/// `POST /sim/orgs/{org}/interopTokens/{id}:revoke` and `…:setTrusted {"trusted":bool}` →
/// the token (no value).
pub(super) async fn token_verb(
    State(shared): State<Arc<Shared>>,
    Path((org, segment)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<InteropTokenInfo>> {
    #[derive(Deserialize)]
    struct SetTrusted {
        trusted: bool,
    }
    let (id, verb) = segment.rsplit_once(':').ok_or_else(no_such_endpoint)?;
    let id: u64 = id.parse().map_err(|_| no_such_endpoint())?;
    let info = match verb {
        "revoke" => shared.run(|model, now| model.revoke_interop_token(&org, id, now))?,
        "setTrusted" => {
            let request: SetTrusted = parse_body(&body)?;
            shared
                .run(|model, now| model.set_interop_token_trusted(&org, id, request.trusted, now))?
        }
        _ => return Err(no_such_endpoint()),
    };
    Ok(Json(info))
}

/// An issued OAuth test token.
#[derive(Debug, Serialize)]
pub(super) struct OauthToken {
    token: String,
    scopes: Vec<String>,
}

/// `POST /sim/oauthTokens` `{"scopes":[...]}` → 201 `{"token","scopes"}`.
pub(super) async fn issue_oauth(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<OauthToken>)> {
    #[derive(Deserialize)]
    struct Issue {
        scopes: Vec<String>,
    }
    let request: Issue = parse_body(&body)?;
    let scopes = request.scopes;
    let token = shared.run(|model, now| model.issue_oauth_token(scopes.clone(), now));
    Ok((StatusCode::CREATED, Json(OauthToken { token, scopes })))
}
