//! Errors of the app resource and the app data source, and their Terraform diagnostics: each
//! says what was asked, what C1 holds (ids and names) and what to change, on the attribute it is
//! about.

use c1_client::ClientError;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use super::error::{client_error_detail, diagnostic, out_of_time_detail, out_of_time_summary};

/// How many apps or connectors a message lists before "and N more".
pub const LISTED: usize = 10;

/// An app or a connector as a message names it: id and display name, and what sets it apart
/// (an app that is a directory, or that C1 discovered), if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
    pub note: Option<&'static str>,
}

/// What the data source searched by, for messages and the attribute they point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// `display_name`: C1's case-insensitive match of the whole name.
    DisplayName(String),
    /// `query`: C1's fuzzy search over names and descriptions.
    Query(String),
}

impl Criterion {
    pub fn attribute(&self) -> &'static str {
        match self {
            Criterion::DisplayName(_) => "display_name",
            Criterion::Query(_) => "query",
        }
    }

    fn describe(&self) -> String {
        match self {
            Criterion::DisplayName(name) => format!("display name {name:?} (case-insensitive)"),
            Criterion::Query(query) => format!("query {query:?}"),
        }
    }
}

/// Something the app resource or data source could not do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("The ConductorOne provider is not configured")]
    NotConfigured,

    #[error("Could not {action} the app {app}")]
    Api {
        action: &'static str,
        /// The app's id, or its display name before it has one.
        app: String,
        #[source]
        source: Box<ClientError>,
    },

    /// The operation's time budget (its `timeouts` value) ran out while retrying.
    #[error("{}", out_of_time_summary(&format!("{action} the app {app}"), timeout, budget))]
    OutOfTime {
        action: &'static str,
        app: String,
        /// The `timeouts` attribute that applied (`create`, `read`, ...).
        timeout: &'static str,
        /// Its value, in Terraform's duration syntax.
        budget: String,
        #[source]
        source: Box<ClientError>,
    },

    #[error("Could not {action} the app {app}: interrupted")]
    Interrupted {
        action: &'static str,
        app: String,
        reason: String,
    },

    #[error("App {} ({}) still has {} connector{}", .app.name, .app.id, .connectors.len(), if .connectors.len() == 1 { "" } else { "s" })]
    HasConnectors { app: Named, connectors: Vec<Named> },

    /// C1 may or may not have made the app, and looking it up by name found none (or several)
    /// that were not there before.
    #[error("Could not tell whether the app {name:?} was created")]
    CreateOutcomeUnknown {
        name: String,
        /// New apps with that name (several: none could be told to be this one); None when
        /// the lookup itself failed.
        found: Option<Vec<Named>>,
        /// The `timeouts` attribute and its value, when the create's budget ran out before C1
        /// answered.
        ran_out: Option<(&'static str, String)>,
        #[source]
        source: Box<ClientError>,
    },

    #[error("Invalid import id")]
    InvalidImportId,

    #[error("No app {id} in C1")]
    ImportNotFound { id: String },

    #[error("No app matches the {}", .criterion.describe())]
    NoMatch {
        criterion: Criterion,
        /// Narrowing by `app_ids`, `exclude_app_ids`, `only_directories`, in words; empty when none.
        narrowed: String,
        /// Apps C1 answered that are not an exact match (a display-name search C1 widened).
        near: Vec<Named>,
    },

    #[error("{} apps match the {}", .found.len(), .criterion.describe())]
    SeveralMatches {
        criterion: Criterion,
        narrowed: String,
        found: Vec<Named>,
    },
}

/// `items` one per line (`- name (id)`), at most [`LISTED`], then "and N more".
pub fn listing(items: &[Named]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .take(LISTED)
        .map(|i| match i.note {
            Some(note) => format!("  - {} ({}, {note})", i.name, i.id),
            None => format!("  - {} ({})", i.name, i.id),
        })
        .collect();
    if items.len() > LISTED {
        lines.push(format!("  and {} more", items.len() - LISTED));
    }
    lines.join("\n")
}

impl AppError {
    /// The error for a client error while doing `action` to `app`; a stop of the provider
    /// becomes [`AppError::Interrupted`].
    pub fn api(
        action: &'static str,
        app: &str,
        source: ClientError,
        stop_reason: Option<String>,
    ) -> Self {
        if source.is_interrupted() {
            return AppError::Interrupted {
                action,
                app: app.to_string(),
                reason: stop_reason.unwrap_or_else(|| "the provider was asked to stop".to_string()),
            };
        }
        AppError::Api {
            action,
            app: app.to_string(),
            source: Box::new(source),
        }
    }

    /// The diagnostic a Terraform user sees.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut attribute = AttributePath::root();
        let detail = match self {
            AppError::NotConfigured => {
                "The provider block could not be configured; see the errors reported for it.".into()
            }
            AppError::Api { source, .. } => client_error_detail(source),
            AppError::OutOfTime {
                timeout,
                budget,
                source,
                ..
            } => out_of_time_detail(&client_error_detail(source), timeout, budget),
            AppError::Interrupted { reason, .. } => format!(
                "interrupted: {reason} before this finished; what C1 holds so far is kept in the state. \
                 Run the command again to finish."
            ),
            AppError::HasConnectors { app, connectors } => format!(
                "Deleting the app would delete these connectors with it:\n{}\n\n\
                 Terraform does not manage them in this configuration, so the app is kept. Either manage them here \
                 (a `conductorone_integration_*` resource with `app_id = conductorone_app.<name>.id`, imported with \
                 `terraform import <address> {}/<connector_id>`), so Terraform deletes them first, or delete them \
                 in C1 (Apps > {} > Connectors), then destroy again.",
                listing(connectors),
                app.id,
                app.name
            ),
            AppError::CreateOutcomeUnknown {
                name,
                found,
                ran_out,
                source,
            } => {
                let seen = match found.as_deref() {
                    None => "Looking it up by name right after failed too.".to_string(),
                    Some([]) => {
                        format!("No new app named {name:?} was there when looked up right after.")
                    }
                    Some(found) => format!(
                        "These new apps are named {name:?}, so none can be told to be this one:\n{}",
                        listing(found)
                    ),
                };
                let why = client_error_detail(source);
                let why = match ran_out {
                    Some((timeout, budget)) => out_of_time_detail(&why, timeout, budget),
                    None => why,
                };
                format!(
                    "{why}\n\nC1 may have made the app. {seen} Check Apps in C1: if it is there, import it \
                     (`terraform import <address> <app_id>`) instead of applying again, which would make another."
                )
            }
            AppError::InvalidImportId => format!(
                "Import ids of `conductorone_app` are the app's C1 id ({}), e.g. \
                 `terraform import conductorone_app.example 2abc...`.",
                c1_contract::object_id::CHARACTERS
            ),
            AppError::ImportNotFound { .. } => {
                "C1 has no app with that id. Check the id in C1 (Apps > the app: the id is in its URL).".into()
            }
            AppError::NoMatch {
                criterion,
                narrowed,
                near,
            } => {
                attribute = AttributePath::new(criterion.attribute());
                let mut detail = format!("C1 has no app with the {}{narrowed}.", criterion.describe());
                if !near.is_empty() {
                    detail.push_str(&format!(
                        " C1 answered these, whose names are not an exact match:\n{}\n",
                        listing(near)
                    ));
                }
                detail.push_str(match criterion {
                    Criterion::DisplayName(_) => {
                        "\nCheck the name in C1 (Apps), or use `query` for a fuzzy search instead of `display_name`."
                    }
                    Criterion::Query(_) => "\nTry fewer or other words in `query`.",
                });
                detail
            }
            AppError::SeveralMatches {
                criterion,
                narrowed,
                found,
            } => {
                attribute = AttributePath::new(criterion.attribute());
                format!(
                    "The data source needs exactly one app; C1 has these with the {}{narrowed}:\n{}\n\n\
                     Narrow the lookup to one: list the one you mean in `app_ids`, leave the others out with \
                     `exclude_app_ids`{}.",
                    criterion.describe(),
                    listing(found),
                    match criterion {
                        Criterion::DisplayName(_) => ", or rename one of them in C1",
                        Criterion::Query(_) => ", or use `display_name` for an exact name",
                    }
                )
            }
        };
        diagnostic(self.to_string(), detail, attribute)
    }

    /// Adds this error to `diags`.
    pub fn report(&self, diags: &mut Diagnostics) {
        diags.add_error(self.to_diagnostic());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: usize) -> Vec<Named> {
        (0..n)
            .map(|i| Named {
                id: format!("id{i}"),
                name: format!("App {i}"),
                note: None,
            })
            .collect()
    }

    #[test]
    fn listings_are_capped_with_the_count_left_out() {
        let mut two = named(2);
        two[1].note = Some("directory");
        assert_eq!(listing(&two), "  - App 0 (id0)\n  - App 1 (id1, directory)");
        let long = listing(&named(13));
        assert_eq!(long.lines().count(), LISTED + 1);
        assert!(long.ends_with("  and 3 more"), "{long}");
    }

    #[test]
    fn lookup_errors_point_at_their_attribute_and_list_what_was_found() {
        let several = AppError::SeveralMatches {
            criterion: Criterion::DisplayName("Torq".into()),
            narrowed: String::new(),
            found: named(2),
        };
        let d = several.to_diagnostic();
        assert_eq!(
            d.summary,
            "2 apps match the display name \"Torq\" (case-insensitive)"
        );
        assert_eq!(d.attribute, AttributePath::new("display_name"));
        assert!(d.detail.contains("  - App 1 (id1)"), "{}", d.detail);
        assert!(d.detail.contains("`app_ids`"), "{}", d.detail);
        let none = AppError::NoMatch {
            criterion: Criterion::Query("pay".into()),
            narrowed: " among the apps in `app_ids`".into(),
            near: vec![],
        };
        let d = none.to_diagnostic();
        assert_eq!(d.attribute, AttributePath::new("query"));
        assert!(
            d.detail
                .starts_with("C1 has no app with the query \"pay\" among the apps in `app_ids`."),
            "{}",
            d.detail
        );
    }

    #[test]
    fn an_unknown_create_outcome_says_how_to_find_and_import_the_app() {
        let err = AppError::CreateOutcomeUnknown {
            name: "Payroll".into(),
            found: Some(named(2)),
            ran_out: None,
            source: Box::new(ClientError::Ambiguous {
                operation: "create app".into(),
                message: "HTTP 503".into(),
            }),
        };
        let d = err.to_diagnostic();
        assert_eq!(
            d.summary,
            "Could not tell whether the app \"Payroll\" was created"
        );
        assert!(
            d.detail
                .starts_with("create app: the request may or may not"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("  - App 1 (id1)"), "{}", d.detail);
        assert!(
            d.detail.contains("terraform import <address> <app_id>"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_create_that_outlasts_its_budget_names_the_timeout() {
        let slow = AppError::CreateOutcomeUnknown {
            name: "Payroll".into(),
            found: Some(vec![]),
            ran_out: Some(("create", "2s".into())),
            source: Box::new(ClientError::Ambiguous {
                operation: "create app".into(),
                message: "timed out after the request was sent".into(),
            }),
        };
        let d = slow.to_diagnostic();
        assert!(
            d.detail
                .contains("The operation's time budget, timeouts.create = 2s, ran out"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("No new app named \"Payroll\" was there"));

        let retried = AppError::OutOfTime {
            action: "update",
            app: "a1".into(),
            timeout: "update",
            budget: "30s".into(),
            source: Box::new(ClientError::BudgetSpent {
                operation: "update app".into(),
            }),
        };
        let d = retried.to_diagnostic();
        assert_eq!(
            d.summary,
            "Could not update the app a1 within timeouts.update (30s)"
        );
        assert!(
            d.detail.contains("timeouts.update = 30s, ran out"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn an_app_with_connectors_lists_them_and_says_how_to_go_on() {
        let err = AppError::HasConnectors {
            app: Named {
                id: "a1".into(),
                name: "Payroll".into(),
                note: None,
            },
            connectors: named(1),
        };
        let d = err.to_diagnostic();
        assert_eq!(d.summary, "App Payroll (a1) still has 1 connector");
        assert!(d.detail.contains("  - App 0 (id0)"), "{}", d.detail);
        assert!(d
            .detail
            .contains("terraform import <address> a1/<connector_id>"));
        assert!(d.detail.contains("delete them in C1"));
    }
}
