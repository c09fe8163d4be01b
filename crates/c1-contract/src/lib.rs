//! Facts of the C1 API contract that more than one part of the workspace needs: the integrations
//! (catalog entries and their settings), the client secret's format, the signed client assertion
//! (EdDSA JWS), the token endpoint's form fields, the rule for a DNS label and the one for an
//! object id. Each fact has its one home here; the provider, its client and the simulator import
//! it. Wire bodies are not here: the client and the simulator each read and write them on their
//! own, so one is never tested against the other's types.

pub mod client_secret;
pub mod dns_label;
pub mod integrations;
pub mod jws;
pub mod object_id;
pub mod token_endpoint;

/// `@type` of the envelope a connector's settings travel in (`config`).
pub const ENV_CONFIG_TYPE: &str = "type.googleapis.com/c1.api.app.v1.EnvConfig";
