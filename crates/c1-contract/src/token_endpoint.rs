//! C1's token endpoint (OAuth 2.0): where it is, the form fields of a client-credentials
//! request and the claims of the signed client assertion that request carries, and the form
//! fields of a token exchange (RFC 8693) of a workload's OIDC token.

use serde_json::{json, Value};

/// Path of the token endpoint on the tenant's host.
pub const PATH: &str = "/auth/v1/token";
/// `grant_type` of a client-credentials request.
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
/// `client_assertion_type` of a signed client assertion.
pub const ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `grant_type` of a token exchange (RFC 8693): a CI system's OIDC token for an access token.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `subject_token_type` of a token exchange whose subject token is a JWT (an OIDC ID token).
pub const SUBJECT_TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// How far either side of now a client assertion is valid (`nbf`, `exp`), in seconds.
pub const ASSERTION_LIFETIME_SECS: u64 = 120;

/// The claims of a client assertion made at `now_secs`: `iss` = `sub` = the client id, `aud` =
/// the token host without its port, `iat` = now, `nbf` and `exp` two minutes either side.
pub fn assertion_claims(client_id: &str, audience: &str, now_secs: u64) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now_secs,
        "nbf": now_secs.saturating_sub(ASSERTION_LIFETIME_SECS),
        "exp": now_secs + ASSERTION_LIFETIME_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_as_the_contract_lists_them() {
        let claims = assertion_claims("tf@acme.conductor.one/x", "acme.conductor.one", 1_000);
        assert_eq!(
            claims,
            json!({"iss": "tf@acme.conductor.one/x", "sub": "tf@acme.conductor.one/x",
                   "aud": "acme.conductor.one", "iat": 1000, "nbf": 880, "exp": 1120})
        );
    }
}
