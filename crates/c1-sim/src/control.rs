//! The control plane: what the simulator keeps about its callers and its test controls, apart
//! from the simulated tenant. The clients it trusts, the OIDC issuers it trusts (workload
//! identity), the access tokens it issued, the faults to inject and the request log.

use crate::auth::TokenStore;
use crate::credentials::ClientRecord;
use crate::faults::FaultState;
use crate::oidc::TrustedIssuer;
use crate::request_log::RequestLog;

/// Clients, tokens, faults and the request log.
#[derive(Debug, Default)]
pub struct ControlPlane {
    /// Clients whose assertions the token endpoint accepts (public halves).
    pub clients: Vec<ClientRecord>,
    /// OIDC issuers whose tokens the token endpoint exchanges for access tokens.
    pub trusted_issuers: Vec<TrustedIssuer>,
    pub tokens: TokenStore,
    pub faults: FaultState,
    pub log: RequestLog,
}

impl ControlPlane {
    /// Adds clients not known yet; returns how many were new.
    pub fn merge_clients(&mut self, clients: Vec<ClientRecord>) -> usize {
        let mut added = 0;
        for client in clients {
            if !self.clients.iter().any(|c| c.client_id == client.client_id) {
                self.clients.push(client);
                added += 1;
            }
        }
        added
    }

    /// Trusts `trust`, replacing a trust of the same issuer, audience and client.
    pub fn trust_issuer(&mut self, trust: TrustedIssuer) {
        self.trusted_issuers.retain(|t| {
            (&t.issuer, &t.audience, &t.client_id)
                != (&trust.issuer, &trust.audience, &trust.client_id)
        });
        self.trusted_issuers.push(trust);
    }

    pub fn client(&self, client_id: &str) -> Option<&ClientRecord> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}
