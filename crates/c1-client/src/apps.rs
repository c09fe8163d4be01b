//! `AppClient`: the C1 app operations (search, list, get, create, update with a mask, delete)
//! and the typed App model, made of the same token source, send step and retry loop as the
//! connector calls ([`ConnectorClient`]).

use std::collections::HashSet;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::client::ConnectorClient;
use crate::error::ClientError;
use crate::model::{decode_error, normalize_timestamp};
use crate::retry::Idempotency;
use crate::send::Payload;

/// Page size asked for when searching and listing (C1's largest).
const PAGE_SIZE: u32 = 100;
/// Safety net against a server that keeps answering with next-page tokens.
const MAX_PAGES: usize = 10_000;

/// An app as read back from C1 (`c1.api.app.v1.App`): its identity and the scalar fields a
/// configuration may branch on. Absent fields read as empty, `false` or 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub display_name: String,
    /// Empty when none.
    pub description: String,
    /// RFC 3339, second precision, UTC with `Z`.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Set while/after C1 deletes the app.
    pub deleted_at: Option<String>,
    /// A directory (identity provider) whose users C1 matches to other apps.
    pub is_directory: bool,
    /// Made by hand rather than discovered (through SSO or a connector).
    pub is_manually_managed: bool,
    /// The app that created this one (the directory that discovered it), if any.
    pub parent_app_id: String,
    pub app_account_id: String,
    pub app_account_name: String,
    pub monthly_cost_usd: i64,
    /// `APP_USER_IDENTITY_MATCHING_*` as C1 sent it (values unknown today are kept).
    pub identity_matching: String,
    pub instructions: String,
    pub icon_url: String,
    pub logo_uri: String,
    pub default_request_catalog_id: String,
    pub grant_policy_id: String,
    pub revoke_policy_id: String,
    pub certify_policy_id: String,
    pub strict_access_entitlement_provisioning: bool,
    /// Users with grants to the app.
    pub user_count: i64,
}

/// What an app search asks for; paging is the client's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppSearch {
    /// C1 matches the display name case-insensitively.
    pub display_name: Option<String>,
    /// C1's fuzzy search over display names and descriptions.
    pub query: Option<String>,
    /// Only these apps (empty: all).
    pub app_ids: Vec<String>,
    pub exclude_app_ids: Vec<String>,
    pub only_directories: bool,
}

/// A new, manually managed app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateApp {
    pub display_name: String,
    pub description: Option<String>,
}

/// The fields of an app an update changes: each `Some` is set (and named in the update mask),
/// each `None` is left as C1 has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub display_name: Option<String>,
    /// `Some("")` clears it.
    pub description: Option<String>,
}

impl AppUpdate {
    /// The update mask: the paths of the fields set, in protobuf JSON names.
    pub fn mask(&self) -> String {
        let mut paths = Vec::new();
        if self.display_name.is_some() {
            paths.push("displayName");
        }
        if self.description.is_some() {
            paths.push("description");
        }
        paths.join(",")
    }

    pub fn is_empty(&self) -> bool {
        self.display_name.is_none() && self.description.is_none()
    }
}

/// The app operations of a [`ConnectorClient`] (same token cache, budget and retry policy).
#[derive(Clone, Debug)]
pub struct AppClient {
    client: ConnectorClient,
}

impl ConnectorClient {
    /// The app operations, sharing this client's token cache and budget.
    pub fn apps(&self) -> AppClient {
        AppClient {
            client: self.clone(),
        }
    }
}

impl AppClient {
    /// `POST /api/v1/search/apps`, following `nextPageToken` to the end: every match.
    pub async fn search(&self, search: &AppSearch) -> Result<Vec<App>, ClientError> {
        let op = "search apps";
        let url = self.client.api_url(op, &["search", "apps"])?;
        let mut body = WireSearchRequest {
            display_name: search.display_name.as_deref(),
            query: search.query.as_deref(),
            app_ids: (!search.app_ids.is_empty()).then_some(&search.app_ids),
            exclude_app_ids: (!search.exclude_app_ids.is_empty())
                .then_some(&search.exclude_app_ids),
            only_directories: search.only_directories.then_some(true),
            page_size: PAGE_SIZE,
            page_token: None,
        };
        let mut pages = Pages::new(op);
        loop {
            let payload = serde_json::to_value(&body).map_err(|e| decode_error(op, &e))?;
            let page: WireAppList = self
                .client
                .call_json(
                    op,
                    Method::POST,
                    url.clone(),
                    Payload::Json(&payload),
                    Idempotency::Idempotent,
                )
                .await?;
            match pages.take(page)? {
                None => return Ok(pages.apps),
                Some(token) => body.page_token = Some(token),
            }
        }
    }

    /// `GET /api/v1/apps`, following `nextPageToken` to the end.
    pub async fn list(&self) -> Result<Vec<App>, ClientError> {
        let op = "list apps";
        let mut pages = Pages::new(op);
        let mut token: Option<String> = None;
        loop {
            let mut url = self.client.api_url(op, &["apps"])?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("page_size", &PAGE_SIZE.to_string());
                if let Some(t) = &token {
                    q.append_pair("page_token", t);
                }
            }
            let page: WireAppList = self
                .client
                .call_json(
                    op,
                    Method::GET,
                    url,
                    Payload::Empty,
                    Idempotency::Idempotent,
                )
                .await?;
            match pages.take(page)? {
                None => return Ok(pages.apps),
                Some(t) => token = Some(t),
            }
        }
    }

    /// `GET /api/v1/apps/{id}`. None on 404; an app with `deleted_at` set is returned as is.
    pub async fn get(&self, id: &str) -> Result<Option<App>, ClientError> {
        let op = "read app";
        let url = self.client.api_url(op, &["apps", id])?;
        self.client
            .read_json::<WireAppResponse>(op, url)
            .await?
            .map(|resp| resp.into_app(op))
            .transpose()
    }

    /// `POST /api/v1/apps`: a new manually managed app.
    pub async fn create(&self, req: &CreateApp) -> Result<App, ClientError> {
        let op = "create app";
        let mut body = json!({ "displayName": req.display_name });
        if let Some(description) = &req.description {
            body["description"] = json!(description);
        }
        let url = self.client.api_url(op, &["apps"])?;
        self.post_for_app(op, url, &body, Idempotency::Create).await
    }

    /// `POST /api/v1/apps/{id}` with the fields of `update` and its mask.
    pub async fn update(&self, id: &str, update: &AppUpdate) -> Result<App, ClientError> {
        let op = "update app";
        let mut app = json!({ "id": id });
        if let Some(name) = &update.display_name {
            app["displayName"] = json!(name);
        }
        if let Some(description) = &update.description {
            app["description"] = json!(description);
        }
        let body = json!({ "app": app, "updateMask": update.mask() });
        let url = self.client.api_url(op, &["apps", id])?;
        self.post_for_app(op, url, &body, Idempotency::Idempotent)
            .await
    }

    /// POSTs `body` and reads the app out of the `{"app": ...}` answer.
    async fn post_for_app(
        &self,
        op: &str,
        url: url::Url,
        body: &Value,
        idempotency: Idempotency,
    ) -> Result<App, ClientError> {
        self.client
            .call_json::<WireAppResponse>(op, Method::POST, url, Payload::Json(body), idempotency)
            .await?
            .into_app(op)
    }

    /// `DELETE /api/v1/apps/{id}` with body `{}`; C1 deletes its connectors with it. Ok on 404.
    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        let op = "delete app";
        let url = self.client.api_url(op, &["apps", id])?;
        self.client.remove(op, Method::DELETE, url).await
    }
}

/// The apps of the pages read so far, and the tokens seen (a repeated one is an error).
struct Pages {
    op: &'static str,
    apps: Vec<App>,
    seen: HashSet<String>,
}

impl Pages {
    fn new(op: &'static str) -> Self {
        Self {
            op,
            apps: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Takes a page's apps; the token of the next page, if there is one.
    fn take(&mut self, page: WireAppList) -> Result<Option<String>, ClientError> {
        self.apps.extend(
            page.list
                .unwrap_or_default()
                .into_iter()
                .map(WireApp::into_app),
        );
        let Some(token) = page.next_page_token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let message = if self.seen.len() >= MAX_PAGES {
            format!("more than {MAX_PAGES} pages of apps")
        } else if !self.seen.insert(token.clone()) {
            "C1 repeated a page token while paging through apps".to_string()
        } else {
            return Ok(Some(token));
        };
        Err(ClientError::Decode {
            operation: self.op.to_string(),
            message,
        })
    }
}

// ---- wire types -------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireSearchRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_ids: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exclude_app_ids: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    only_directories: Option<bool>,
    page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WireAppList {
    list: Option<Vec<WireApp>>,
    next_page_token: Option<String>,
}

/// Get, create and update answers: `{"app": App}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireAppResponse {
    app: Option<WireApp>,
}

impl WireAppResponse {
    fn into_app(self, op: &str) -> Result<App, ClientError> {
        self.app
            .map(WireApp::into_app)
            .ok_or_else(|| ClientError::Decode {
                operation: op.to_string(),
                message: "the answer has no app".to_string(),
            })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WireApp {
    id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    deleted_at: Option<String>,
    is_directory: Option<bool>,
    is_manually_managed: Option<bool>,
    parent_app_id: Option<String>,
    app_account_id: Option<String>,
    app_account_name: Option<String>,
    #[serde(deserialize_with = "integer")]
    monthly_cost_usd: Option<i64>,
    identity_matching: Option<String>,
    instructions: Option<String>,
    icon_url: Option<String>,
    logo_uri: Option<String>,
    default_request_catalog_id: Option<String>,
    grant_policy_id: Option<String>,
    revoke_policy_id: Option<String>,
    certify_policy_id: Option<String>,
    strict_access_entitlement_provisioning: Option<bool>,
    /// An int64: protobuf JSON writes it as a string.
    #[serde(deserialize_with = "integer")]
    user_count: Option<i64>,
}

/// An integer sent as a JSON number or (int64 in protobuf JSON) as a string of one.
fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("an integer out of range")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom("a string that is not an integer")),
        Some(_) => Err(D::Error::custom("not an integer")),
    }
}

fn ts(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(normalize_timestamp)
}

impl WireApp {
    fn into_app(self) -> App {
        App {
            created_at: ts(&self.created_at),
            updated_at: ts(&self.updated_at),
            deleted_at: ts(&self.deleted_at),
            id: self.id.unwrap_or_default(),
            display_name: self.display_name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            is_directory: self.is_directory.unwrap_or_default(),
            is_manually_managed: self.is_manually_managed.unwrap_or_default(),
            parent_app_id: self.parent_app_id.unwrap_or_default(),
            app_account_id: self.app_account_id.unwrap_or_default(),
            app_account_name: self.app_account_name.unwrap_or_default(),
            monthly_cost_usd: self.monthly_cost_usd.unwrap_or_default(),
            identity_matching: self.identity_matching.unwrap_or_default(),
            instructions: self.instructions.unwrap_or_default(),
            icon_url: self.icon_url.unwrap_or_default(),
            logo_uri: self.logo_uri.unwrap_or_default(),
            default_request_catalog_id: self.default_request_catalog_id.unwrap_or_default(),
            grant_policy_id: self.grant_policy_id.unwrap_or_default(),
            revoke_policy_id: self.revoke_policy_id.unwrap_or_default(),
            certify_policy_id: self.certify_policy_id.unwrap_or_default(),
            strict_access_entitlement_provisioning: self
                .strict_access_entitlement_provisioning
                .unwrap_or_default(),
            user_count: self.user_count.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode;

    #[test]
    fn an_app_decodes_from_protobuf_json() {
        let r: WireAppResponse = decode(
            "read app",
            json!({"app": {
                "id": "a1", "displayName": "Torq", "description": "", "isDirectory": false,
                "isManuallyManaged": false, "parentAppId": "okta", "userCount": "42",
                "monthlyCostUsd": 7, "identityMatching": "APP_USER_IDENTITY_MATCHING_FROM_THE_FUTURE",
                "createdAt": "2026-11-23T21:54:00.5Z", "deletedAt": null, "appOwners": [], "invented": 1
            }})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let app = r.into_app("read app").unwrap();
        assert_eq!(app.id, "a1");
        assert_eq!(app.user_count, 42);
        assert_eq!(app.monthly_cost_usd, 7);
        assert_eq!(app.parent_app_id, "okta");
        assert!(!app.is_manually_managed);
        assert_eq!(
            app.identity_matching,
            "APP_USER_IDENTITY_MATCHING_FROM_THE_FUTURE"
        );
        assert_eq!(app.created_at.as_deref(), Some("2026-11-23T21:54:00Z"));
        assert_eq!(app.deleted_at, None);
        let bad: Result<WireAppResponse, _> =
            decode("read app", br#"{"app": {"userCount": "many SECRET"}}"#);
        let err = bad.err().unwrap().to_string();
        assert!(err.contains("read app") && !err.contains("SECRET"), "{err}");
        assert!(WireAppResponse::default().into_app("create app").is_err());
    }

    #[test]
    fn update_masks_name_the_fields_set() {
        let both = AppUpdate {
            display_name: Some("n".into()),
            description: Some(String::new()),
        };
        assert_eq!(both.mask(), "displayName,description");
        let one = AppUpdate {
            description: Some("d".into()),
            ..AppUpdate::default()
        };
        assert_eq!(one.mask(), "description");
        assert!(AppUpdate::default().is_empty());
    }

    #[test]
    fn search_bodies_leave_out_what_is_not_asked() {
        let ids = vec!["a".to_string()];
        let body = serde_json::to_value(WireSearchRequest {
            display_name: Some("Torq"),
            query: None,
            app_ids: None,
            exclude_app_ids: Some(&ids),
            only_directories: None,
            page_size: 100,
            page_token: None,
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"displayName": "Torq", "excludeAppIds": ["a"], "pageSize": 100})
        );
    }

    #[test]
    fn paging_stops_at_an_empty_token_and_refuses_a_repeated_one() {
        let page = |token: &str| WireAppList {
            list: Some(vec![WireApp::default()]),
            next_page_token: Some(token.to_string()),
        };
        let mut pages = Pages::new("search apps");
        assert_eq!(pages.take(page("t1")).unwrap().as_deref(), Some("t1"));
        assert!(pages.take(page("t1")).is_err());
        let mut pages = Pages::new("search apps");
        assert_eq!(pages.take(page("")).unwrap(), None);
        assert_eq!(pages.apps.len(), 1);
    }
}
