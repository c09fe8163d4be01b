//! The request log: one entry per `/api/` and `/auth/` call (never bodies, tokens or secrets).

use serde::{Deserialize, Serialize};

/// One logged call. `status` 0 means the connection was dropped without an answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestLogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub client_id: Option<String>,
    pub operation: String,
    /// How a token request authenticated: `client_credentials` or `token_exchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
}

#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Vec<RequestLogEntry>,
    next_seq: u64,
}

impl RequestLog {
    pub fn push(&mut self, mut entry: RequestLogEntry) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        self.entries.push(entry);
    }

    pub fn entries(&self) -> &[RequestLogEntry] {
        &self.entries
    }

    /// Empties the log; sequence numbers keep counting.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The API operation a call names, e.g. `ConnectorService.Create`, or `unknown`.
pub fn operation_name(method: &str, path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match (method, segments.as_slice()) {
        ("POST", ["auth", "v1", "token"]) => "Auth.Token",
        ("GET", ["api", "v1", "apps"]) => "Apps.List",
        ("POST", ["api", "v1", "apps"]) => "Apps.Create",
        ("GET", ["api", "v1", "apps", _]) => "Apps.Get",
        ("POST", ["api", "v1", "apps", _]) => "Apps.Update",
        ("DELETE", ["api", "v1", "apps", _]) => "Apps.Delete",
        ("POST", ["api", "v1", "search", "apps"]) => "AppSearch.Search",
        ("POST", ["api", "v1", "apps", "connectors", "credentials"]) => {
            "ConnectorService.RotateCredential"
        }
        ("GET", ["api", "v1", "apps", _, "connectors", _, "credentials", _]) => {
            "ConnectorService.GetCredentials"
        }
        ("POST", ["api", "v1", "apps", _, "connectors", _, "credentials", _]) => {
            "ConnectorService.RevokeCredential"
        }
        ("GET", ["api", "v1", "apps", _, "connectors"]) => "ConnectorService.List",
        ("POST", ["api", "v1", "apps", _, "connectors"]) => "ConnectorService.CreateDelegated",
        ("POST", ["api", "v1", "apps", _, "connectors", "create"]) => "ConnectorService.Create",
        ("GET", ["api", "v1", "apps", _, "connectors", _]) => "ConnectorService.Get",
        ("POST", ["api", "v1", "apps", _, "connectors", _]) => "ConnectorService.Update",
        ("DELETE", ["api", "v1", "apps", _, "connectors", _]) => "ConnectorService.Delete",
        ("POST", ["api", "v1", "apps", _, "connectors", _, "delegated"]) => {
            "ConnectorService.UpdateDelegated"
        }
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::operation_name;

    #[test]
    fn names_operations() {
        assert_eq!(
            operation_name("POST", "/api/v1/apps/a/connectors/create"),
            "ConnectorService.Create"
        );
        assert_eq!(
            operation_name("POST", "/api/v1/apps/a/connectors/c/delegated"),
            "ConnectorService.UpdateDelegated"
        );
        assert_eq!(
            operation_name("POST", "/api/v1/apps/connectors/credentials"),
            "ConnectorService.RotateCredential"
        );
        assert_eq!(
            operation_name("POST", "/api/v1/apps/a/connectors/c/credentials/k"),
            "ConnectorService.RevokeCredential"
        );
        assert_eq!(
            operation_name("GET", "/api/v1/apps/a/connectors/c/credentials/k"),
            "ConnectorService.GetCredentials"
        );
        assert_eq!(operation_name("PUT", "/api/v1/apps"), "unknown");
    }
}
