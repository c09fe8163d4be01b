//! Resource-layer errors, and their conversion into Terraform diagnostics.

use c1_client::{ClientError, EndpointProblem};
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::config::{
    rejected_credentials_hint, rejected_oidc_token_hint, ENV_ACCESS_TOKEN, SERVER_URL,
    TENANT_DOMAIN,
};

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

    /// The operation's time budget (its `timeouts` value) ran out while retrying.
    #[error("{}", out_of_time_summary(&format!("{action} the {integration} integration"), timeout, budget))]
    OutOfTime {
        action: &'static str,
        integration: &'static str,
        /// The `timeouts` attribute that applied (`create`, `read`, ...).
        timeout: &'static str,
        /// Its value, in Terraform's duration syntax.
        budget: String,
        #[source]
        source: Box<ClientError>,
    },

    /// Terraform asked the provider to stop (or it got SIGINT/SIGTERM) while this ran.
    #[error("Could not {action} the {integration} integration: interrupted")]
    Interrupted {
        action: &'static str,
        integration: &'static str,
        /// Why the provider stopped, e.g. "Terraform asked the provider to stop".
        reason: String,
    },

    /// `wait_for_sync`: the first sync after the change ended in `SYNC_STATUS_ERROR` (or cannot
    /// come). The connector is kept in the state.
    #[error("The first sync of the {integration} integration after its {action} failed")]
    SyncFailed {
        integration: &'static str,
        /// `create` or `update`.
        action: &'static str,
        id: String,
        /// C1's `lastError`, or what else ended the wait.
        why: String,
        /// The integration's `SYNC_FAILURE_HINT`, when checking its settings can help.
        hint: Option<&'static str>,
    },

    /// `wait_for_sync`: the operation's budget ended before the first sync after the change did.
    #[error("The {integration} integration did not finish its first sync after the {action} within timeouts.{action} ({budget})")]
    SyncTimedOut {
        integration: &'static str,
        /// `create` or `update` (also the `timeouts` attribute that applied).
        action: &'static str,
        id: String,
        budget: String,
        /// What the last read showed ([`super::sync_wait::describe_last_seen`]).
        last_seen: String,
    },

    #[error("Could not tell whether the {integration} integration was created")]
    CreateOutcomeUnknown {
        integration: &'static str,
        /// How many creates were sent (all with the same marker).
        tries: u32,
        /// The description every create of this resource carried.
        marker: String,
        /// Why the outcome stayed unknown: the last failure's own diagnostic detail.
        why: String,
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
            ResourceError::OutOfTime {
                timeout,
                budget,
                source,
                ..
            } => out_of_time_detail(&client_error_detail(source), timeout, budget),
            ResourceError::Interrupted { reason, .. } => format!(
                "interrupted: {reason} before this finished; what C1 holds so far is kept in the state. \
                 Run the command again to finish."
            ),
            ResourceError::CreateOutcomeUnknown {
                tries,
                marker,
                why,
                ..
            } => format!(
                "{why}\n\nThe create was sent {tries} time{} and C1 may have carried it out; the app had no connector \
                 from it when last looked up. The resource is kept in the state as tainted, with an id that stands for \
                 this create: the next apply replaces it, and destroying it deletes every connector in the app whose \
                 description is \"{marker}\", so a create C1 carries out late is removed, not left behind.",
                if *tries == 1 { "" } else { "s" }
            ),
            ResourceError::SyncFailed {
                action,
                id,
                why,
                hint,
                ..
            } => {
                let hint = hint.map(|h| format!("{h}\n\n")).unwrap_or_default();
                format!("C1 reports: {why}\n\n{hint}{}", kept_after_failed_sync(action, id))
            }
            ResourceError::SyncTimedOut {
                action,
                id,
                budget,
                last_seen,
                ..
            } => format!(
                "Last seen: {last_seen}. If C1 needs longer, set a longer timeouts.{action} than {budget}, or \
                 wait_for_sync = false to apply without waiting.\n\n{}",
                kept_after_failed_sync(action, id)
            ),
        };
        diagnostic(self.to_string(), detail, AttributePath::root())
    }

    /// Adds this error to `diags` as an error.
    pub fn report(&self, diags: &mut Diagnostics) {
        diags.add_error(self.to_diagnostic());
    }
}

/// What happens to a connector whose first sync after `action` failed or did not finish.
fn kept_after_failed_sync(action: &str, id: &str) -> String {
    if action == "create" {
        format!(
            "Connector {id} is kept in the state (nothing is left behind in C1). Terraform marks a resource \
             whose create reported an error as tainted, so the next apply replaces it: this connector is \
             deleted and a new one created. To keep this connector and apply its settings again instead, \
             run `terraform untaint` on this resource: the next plan then shows an update in place."
        )
    } else {
        format!(
            "Connector {id} is kept in the state, marked as not synced: the next plan applies its settings \
             again (an update in place) and, with wait_for_sync, waits again."
        )
    }
}

/// What a user reads about a client error: the client's account of what happened in C1 or on
/// the way there, and which provider settings to check when they are the cause.
pub fn client_error_detail(err: &ClientError) -> String {
    if let Some((_, expired)) = err.subject_token_problem() {
        return format!("{err}. {}", rejected_oidc_token_hint(expired));
    }
    if err.is_unauthenticated() {
        return format!("{err}. {}", rejected_credentials_hint());
    }
    match (err, err.endpoint_problem()) {
        (ClientError::AccessTokenNotHeaderSafe, _) => format!("invalid {ENV_ACCESS_TOKEN}: {err}"),
        (_, Some(EndpointProblem::UntrustedCertificate)) | (_, None) => err.to_string(),
        (_, Some(_)) => format!(
            "{err}. Check `{}` / `{}` (or {} / {})",
            SERVER_URL.name, TENANT_DOMAIN.name, SERVER_URL.env, TENANT_DOMAIN.env
        ),
    }
}

/// The summary of an error whose operation's time budget ran out, as every resource words it:
/// `Could not <what> within timeouts.<timeout> (<budget>)`.
pub fn out_of_time_summary(what: &str, timeout: &str, budget: &str) -> String {
    format!("Could not {what} within timeouts.{timeout} ({budget})")
}

/// The detail of such an error: what went wrong last (`why`), which budget ran out and how to
/// give C1 longer.
pub fn out_of_time_detail(why: &str, timeout: &str, budget: &str) -> String {
    format!(
        "{why}. The operation's time budget, timeouts.{timeout} = {budget}, ran out before the call succeeded; \
         if C1 needs longer, set a longer one in the resource's `timeouts` block."
    )
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
    fn a_refused_or_expired_oidc_token_says_what_to_check() {
        let refused = ClientError::SubjectTokenRefused {
            operation: "get access token".into(),
            from: "TFC_WORKLOAD_IDENTITY_TOKEN".into(),
            message: "invalid_grant: subject_token has a wrong audience".into(),
        };
        let detail = client_error_detail(&ClientError::TokenFailedEarlier {
            operation: "get access token".into(),
            source: Box::new(refused),
        });
        assert!(
            detail.contains("C1 refused the OIDC token from TFC_WORKLOAD_IDENTITY_TOKEN")
                && detail.contains("workload identity federation trusting this token"),
            "{detail}"
        );
        assert!(!detail.contains("client_secret"), "{detail}");
        let expired = ClientError::SubjectTokenExpired {
            operation: "get access token".into(),
            from: "`oidc_token`".into(),
            expired_at: "2026-11-24T10:00:00Z".into(),
            refusal: None,
        };
        let detail = client_error_detail(&expired);
        assert!(
            detail.starts_with("get access token: the OIDC token from `oidc_token` expired at 2026-11-24T10:00:00Z")
                && detail.contains("run the job again for a fresh one"),
            "{detail}"
        );
    }

    #[test]
    fn an_unknown_create_outcome_says_what_is_known_and_names_the_marker() {
        let err = ResourceError::CreateOutcomeUnknown {
            integration: "Twingate",
            tries: 3,
            marker: "Managed by Terraform (create 00000000000000ab)".into(),
            why: "create connector: the request may or may not have been applied by C1".into(),
        };
        let detail = err.to_diagnostic().detail;
        assert!(
            detail.starts_with("create connector: the request may"),
            "{detail}"
        );
        assert!(detail.contains("The create was sent 3 times"), "{detail}");
        assert!(detail.contains("(create 00000000000000ab)"), "{detail}");
        assert!(detail.contains("tainted"), "{detail}");
        assert!(!detail.contains("nothing was left behind"), "{detail}");
    }

    #[test]
    fn endpoint_problems_name_the_settings_to_check() {
        let not_tls = ClientError::Endpoint {
            operation: "get access token".into(),
            url: "https://127.0.0.1:8080/auth/v1/token".into(),
            problem: EndpointProblem::NotTls,
            message: "the server at 127.0.0.1:8080 does not speak TLS".into(),
        };
        let detail = client_error_detail(&not_tls);
        assert!(detail.ends_with("Check `server_url` / `tenant_domain` (or CONDUCTORONE_SERVER_URL / CONDUCTORONE_TENANT_DOMAIN)"), "{detail}");
        let earlier = ClientError::TokenFailedEarlier {
            operation: "get access token".into(),
            source: Box::new(not_tls),
        };
        assert!(client_error_detail(&earlier).contains("Check `server_url`"));
        let refused = ClientError::TokenFailedEarlier {
            operation: "get access token".into(),
            source: Box::new(ClientError::Unauthenticated {
                operation: "get access token".into(),
                message: "invalid_client".into(),
            }),
        };
        assert!(client_error_detail(&refused).contains("Check client_id and client_secret"));
    }

    #[test]
    fn out_of_time_and_interrupted_say_what_to_do() {
        let out = ResourceError::OutOfTime {
            action: "create",
            integration: "Twingate",
            timeout: "create",
            budget: "30s".into(),
            source: Box::new(ClientError::BudgetSpent {
                operation: "create connector".into(),
            }),
        };
        let d = out.to_diagnostic();
        assert_eq!(
            d.summary,
            "Could not create the Twingate integration within timeouts.create (30s)"
        );
        assert!(
            d.detail.contains("timeouts.create = 30s, ran out"),
            "{}",
            d.detail
        );
        let stopped = ResourceError::Interrupted {
            action: "read",
            integration: "Torq",
            reason: "Terraform asked the provider to stop".into(),
        };
        let d = stopped.to_diagnostic();
        assert_eq!(
            d.summary,
            "Could not read the Torq integration: interrupted"
        );
        assert!(
            d.detail
                .starts_with("interrupted: Terraform asked the provider to stop"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_failed_sync_quotes_c1_hints_the_setting_and_says_what_happens_next() {
        let failed = ResourceError::SyncFailed {
            integration: "Twingate",
            action: "update",
            id: "2conn".into(),
            why: "Twingate: 401 Unauthorized".into(),
            hint: Some("Check `twingate_apikey`."),
        };
        let d = failed.to_diagnostic();
        assert_eq!(
            d.summary,
            "The first sync of the Twingate integration after its update failed"
        );
        assert!(
            d.detail
                .starts_with("C1 reports: Twingate: 401 Unauthorized\n\nCheck `twingate_apikey`."),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("next plan applies its settings again"),
            "{}",
            d.detail
        );
        let created = ResourceError::SyncFailed {
            integration: "Twingate",
            action: "create",
            id: "2conn".into(),
            why: "Twingate: 401 Unauthorized".into(),
            hint: None,
        };
        let d = created.to_diagnostic();
        assert!(d.detail.contains("terraform untaint"), "{}", d.detail);
        let timed_out = ResourceError::SyncTimedOut {
            integration: "Segment",
            action: "create",
            id: "2conn".into(),
            budget: "5s".into(),
            last_seen: "sync_status = \"running\"".into(),
        };
        let d = timed_out.to_diagnostic();
        assert_eq!(
            d.summary,
            "The Segment integration did not finish its first sync after the create within timeouts.create (5s)"
        );
        assert!(
            d.detail.starts_with("Last seen: sync_status = \"running\""),
            "{}",
            d.detail
        );
    }
}
