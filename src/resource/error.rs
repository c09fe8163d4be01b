//! Resource-layer errors, and their conversion into Terraform diagnostics.

use c1_client::ClientError;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::config::{rejected_credentials_hint, ENV_ACCESS_TOKEN};

/// Something an integration resource could not do.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("The ConductorOne provider is not configured")]
    NotConfigured,

    #[error("Could not {action} the {integration} integration")]
    Api {
        action: &'static str,
        integration: &'static str,
        #[source]
        source: Box<ClientError>,
    },

    #[error("Invalid import id")]
    InvalidImportId,

    #[error("No {integration} integration with the ids of the import id")]
    ImportNotFound { integration: &'static str },

    #[error("Connector {id} is not a {integration} integration")]
    WrongCatalog {
        integration: &'static str,
        id: String,
        catalog_id: String,
    },

    #[error("Could not tell whether the {integration} integration was created")]
    CreateOutcomeUnknown {
        integration: &'static str,
        rounds: u32,
        /// The description every create of this apply carried.
        marker: String,
        #[source]
        source: Box<ClientError>,
    },
}

impl ResourceError {
    /// The diagnostic a Terraform user sees: the summary above, the detail says what to do.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let detail = match self {
            ResourceError::NotConfigured => {
                "The provider block could not be configured; see the errors reported for it.".into()
            }
            ResourceError::Api { source, .. } => client_error_detail(source),
            ResourceError::InvalidImportId => {
                format!(
                    "Import ids have the form `<app_id>/<connector_id>`: two C1 ids ({}) joined by one `/`, e.g. `terraform import conductorone_integration_twingate.example 2abc.../2def...`.",
                    c1_contract::object_id::CHARACTERS
                )
            }
            ResourceError::ImportNotFound { .. } => {
                "C1 has no live connector of this integration with that connector id in that app. Check both ids in C1 (Apps > the app > Connectors).".into()
            }
            ResourceError::WrongCatalog { catalog_id, .. } => format!(
                "Its catalog id is {catalog_id}: import it with the resource type of that integration."
            ),
            ResourceError::CreateOutcomeUnknown {
                rounds,
                marker,
                source,
                ..
            } => format!(
                "{}. Tried {rounds} times; after each try, the app had no connector from this request. \
                 A create still on its way in C1 could land after the last look: such a connector has the description \"{marker}\"; \
                 delete it in C1 should it appear. Run apply again.",
                client_error_detail(source)
            ),
        };
        diagnostic(self.to_string(), detail, AttributePath::root())
    }

    /// Adds this error to `diags` as an error.
    pub fn report(&self, diags: &mut Diagnostics) {
        diags.add_error(self.to_diagnostic());
    }
}

/// What a user reads about a client error: the client's account of what happened in C1 or on
/// the way there, and which provider settings to check when they are the cause.
pub fn client_error_detail(err: &ClientError) -> String {
    match err {
        ClientError::Unauthenticated { .. } => format!("{err}. {}", rejected_credentials_hint()),
        ClientError::AccessTokenNotHeaderSafe => format!("invalid {ENV_ACCESS_TOKEN}: {err}"),
        _ => err.to_string(),
    }
}

/// A diagnostic without the backtrace `Diagnostic::new` appends when `RUST_BACKTRACE` is set:
/// users read these in `terraform` output.
pub fn diagnostic(summary: String, detail: String, attribute: AttributePath) -> Diagnostic {
    Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_credentials_say_which_settings_to_check() {
        let err = ResourceError::Api {
            action: "read",
            integration: "Twingate",
            source: Box::new(ClientError::Unauthenticated {
                operation: "get access token".into(),
                message: "invalid_client: unknown client".into(),
            }),
        };
        assert_eq!(
            err.to_diagnostic().detail,
            "get access token: C1 rejected the credentials: invalid_client: unknown client. \
             Check client_id and client_secret (or CONDUCTORONE_CLIENT_ID / \
             CONDUCTORONE_CLIENT_SECRET / CONDUCTORONE_ACCESS_TOKEN) and that the API credential \
             still exists in C1"
        );
        let other = ResourceError::Api {
            action: "read",
            integration: "Twingate",
            source: Box::new(ClientError::Decode {
                operation: "read connector".into(),
                message: "truncated JSON at line 1 column 3".into(),
            }),
        };
        assert!(!other.to_diagnostic().detail.contains("Check client_id"));
    }

    #[test]
    fn an_unknown_create_outcome_says_what_is_known_and_names_the_marker() {
        let err = ResourceError::CreateOutcomeUnknown {
            integration: "Twingate",
            rounds: 3,
            marker: "Managed by Terraform (create 00000000000000ab)".into(),
            source: Box::new(ClientError::Ambiguous {
                operation: "create connector".into(),
                message: "HTTP 503 after the request was sent: HTTP 503: unavailable".into(),
            }),
        };
        let detail = err.to_diagnostic().detail;
        assert!(detail.contains("Tried 3 times"), "{detail}");
        assert!(detail.contains("(create 00000000000000ab)"), "{detail}");
        assert!(!detail.contains("nothing was left behind"), "{detail}");
    }
}
