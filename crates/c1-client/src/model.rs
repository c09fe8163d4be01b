//! Typed connector model and the protobuf-JSON wire bodies of the C1 connector API.

use std::collections::BTreeMap;
use std::fmt;

use c1_contract::ENV_CONFIG_TYPE;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::SecretString;
use crate::error::ClientError;

/// Settings as C1 carries them in the EnvConfig envelope; values are secret-safe in Debug.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectorSettings(pub BTreeMap<String, String>);

impl fmt::Debug for ConnectorSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

impl ConnectorSettings {
    /// The `config` envelope: `{"@type": EnvConfig, "configuration": {k: {"stringValue": v}}}`.
    pub fn to_envelope(&self) -> Value {
        let configuration: Map<String, Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "stringValue": v })))
            .collect();
        json!({ "@type": ENV_CONFIG_TYPE, "configuration": configuration })
    }

    /// Reads the string values back from a `config` envelope; other value kinds are skipped.
    pub fn from_envelope(config: &Value) -> Option<Self> {
        let obj = config.as_object()?;
        let mut out = BTreeMap::new();
        if let Some(cfg) = obj.get("configuration").and_then(Value::as_object) {
            for (k, v) in cfg {
                if let Some(s) = v.get("stringValue").and_then(Value::as_str) {
                    out.insert(k.clone(), s.to_string());
                }
            }
        }
        Some(Self(out))
    }
}

/// Body of a configured create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateConfigured {
    pub catalog_id: String,
    pub user_ids: Option<Vec<String>>,
    pub settings: ConnectorSettings,
    /// Free text shown in C1; the resource layer puts a per-request marker in it so that a
    /// create whose outcome is unknown can be found again.
    pub description: Option<String>,
}

/// Body of a delegated create (no credentials; the owners finish setup).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateDelegated {
    pub catalog_id: String,
    pub display_name: String,
    pub user_ids: Option<Vec<String>>,
    /// As for [`CreateConfigured::description`].
    pub description: Option<String>,
}

/// Where a connector's sync stands (`status.status` in the API).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncStatus {
    /// `SYNC_STATUS_UNSPECIFIED`: no sync yet (a delegated connector), or a value this client
    /// does not know (logged when decoded).
    #[default]
    Unspecified,
    /// `SYNC_STATUS_RUNNING`.
    Running,
    /// `SYNC_STATUS_DONE`: the last sync finished.
    Done,
    /// `SYNC_STATUS_ERROR`: the last sync failed; `last_error` says why.
    Error,
    /// `SYNC_STATUS_DISABLED`: C1 runs no syncs of this connector.
    Disabled,
}

impl SyncStatus {
    /// The status C1 names `wire` (`SYNC_STATUS_DONE`, ...); None for a value it does not list.
    pub fn from_wire(wire: &str) -> Option<Self> {
        Some(match wire {
            "SYNC_STATUS_UNSPECIFIED" | "" => SyncStatus::Unspecified,
            "SYNC_STATUS_RUNNING" => SyncStatus::Running,
            "SYNC_STATUS_DONE" => SyncStatus::Done,
            "SYNC_STATUS_ERROR" => SyncStatus::Error,
            "SYNC_STATUS_DISABLED" => SyncStatus::Disabled,
            _ => return None,
        })
    }

    /// True once the sync has ended (done or failed).
    pub fn is_finished(self) -> bool {
        matches!(self, SyncStatus::Done | SyncStatus::Error)
    }
}

/// A connector's sync (`status` in the API): where it stands and when it started and ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorStatus {
    pub status: SyncStatus,
    /// C1's `lastError`; None when absent or empty.
    pub last_error: Option<String>,
    /// When the current (or last) sync started; RFC 3339, UTC with `Z`, at C1's precision
    /// (fractions kept: it is compared with `configUpdatedAt` to tell a sync after a change
    /// from one that started earlier in the same second).
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A connector as read back from C1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connector {
    pub id: String,
    pub app_id: String,
    pub catalog_id: String,
    pub display_name: String,
    /// The connector's description in C1 (empty when none).
    pub description: String,
    pub user_ids: Vec<String>,
    /// Non-secret settings read back from `config.configuration` (string values only);
    /// None when the connector has no config (e.g. delegated).
    pub settings: Option<ConnectorSettings>,
    /// RFC 3339, second precision, UTC with `Z`.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Set while/after C1 deletes the connector; the caller decides what that means.
    pub deleted_at: Option<String>,
    /// When the connector's settings (`config`) last changed; UTC, at C1's precision, as
    /// [`ConnectorStatus::started_at`].
    pub config_updated_at: Option<String>,
    /// Its sync; None when C1 sent no `status`.
    pub status: Option<ConnectorStatus>,
}

impl Connector {
    /// Where the connector's sync stands (unspecified when C1 sent no status).
    pub fn sync_status(&self) -> SyncStatus {
        self.status
            .as_ref()
            .map_or(SyncStatus::Unspecified, |s| s.status)
    }

    /// When this answer's settings took effect, for [`Self::sync_since`]: `configUpdatedAt`,
    /// else `updatedAt` (C1's clock, not ours).
    pub fn settings_changed_at(&self) -> Option<String> {
        self.config_updated_at
            .clone()
            .or_else(|| self.updated_at.clone())
    }

    /// How the first sync that started at or after `changed_at` stands (any sync when it is
    /// None). A sync that started earlier is an older one: [`SyncProgress::NotStarted`].
    pub fn sync_since(&self, changed_at: Option<&str>) -> SyncProgress {
        let Some(status) = &self.status else {
            return SyncProgress::NotStarted;
        };
        let started_after = match (&status.started_at, changed_at) {
            (Some(started), Some(changed)) => !is_before(started, changed),
            (Some(_), None) => true,
            (None, _) => false,
        };
        match status.status {
            SyncStatus::Disabled => SyncProgress::Disabled,
            _ if !started_after => SyncProgress::NotStarted,
            SyncStatus::Done => SyncProgress::Done,
            SyncStatus::Error => SyncProgress::Failed,
            SyncStatus::Running | SyncStatus::Unspecified => SyncProgress::Running,
        }
    }
}

/// Where the first sync after a change stands ([`Connector::sync_since`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncProgress {
    /// No sync since the change has been seen yet (the status still shows an older one).
    NotStarted,
    /// It is under way.
    Running,
    /// It finished without error.
    Done,
    /// It ended in `SYNC_STATUS_ERROR`; `last_error` says why.
    Failed,
    /// C1 runs no syncs of this connector: none will come.
    Disabled,
}

impl SyncProgress {
    /// True once waiting longer cannot change the outcome.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SyncProgress::Done | SyncProgress::Failed | SyncProgress::Disabled
        )
    }
}

/// `a` is strictly earlier than `b` (RFC 3339 instants; text that does not parse is compared as
/// text, which orders the normalised form correctly).
fn is_before(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    let parse = |s: &str| time::OffsetDateTime::parse(s, &Rfc3339).ok();
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a < b,
        _ => a < b,
    }
}

/// Normalises an RFC 3339 timestamp to second precision UTC with `Z`. Values that do not parse,
/// or whose UTC form `time` cannot hold (year 9999 at a negative offset), are kept as they are
/// (C1 is the authority); empty strings become None.
pub(crate) fn normalize_timestamp(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let utc = time::OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC));
    match utc {
        Some(t) => {
            let t = t.replace_nanosecond(0).unwrap_or(t);
            let fmt =
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
            Some(t.format(&fmt).unwrap_or_else(|_| s.to_string()))
        }
        None => Some(s.to_string()),
    }
}

/// Normalises an RFC 3339 timestamp to UTC with `Z`, keeping C1's fraction of a second; kept
/// as it is when it does not parse. For times that are compared, not stored in state.
fn precise_timestamp(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let utc = time::OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
        .and_then(|t| t.format(&Rfc3339).ok());
    Some(utc.unwrap_or_else(|| s.to_string()))
}

// ---- wire types -------------------------------------------------------------------------

fn ts(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(normalize_timestamp)
}

fn precise_ts(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(precise_timestamp)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireStatus {
    status: Option<String>,
    last_error: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    updated_at: Option<String>,
}

impl WireStatus {
    fn into_status(self) -> ConnectorStatus {
        let wire = self.status.unwrap_or_default();
        let status = SyncStatus::from_wire(&wire).unwrap_or_else(|| {
            // The contract allows values it does not list (x-speakeasy-unknown-values).
            let shown: String = wire.chars().take(64).collect();
            tracing::warn!(status = %shown, "C1 sent a sync status this provider does not know; taken as unspecified");
            SyncStatus::Unspecified
        });
        ConnectorStatus {
            status,
            last_error: self.last_error.filter(|e| !e.trim().is_empty()),
            started_at: precise_ts(&self.started_at),
            completed_at: ts(&self.completed_at),
            updated_at: ts(&self.updated_at),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireConnector {
    id: Option<String>,
    app_id: Option<String>,
    catalog_id: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    user_ids: Option<Vec<String>>,
    config: Option<Value>,
    created_at: Option<String>,
    updated_at: Option<String>,
    deleted_at: Option<String>,
    config_updated_at: Option<String>,
    status: Option<WireStatus>,
}

impl WireConnector {
    pub(crate) fn into_connector(self) -> Connector {
        Connector {
            id: self.id.unwrap_or_default(),
            app_id: self.app_id.unwrap_or_default(),
            catalog_id: self.catalog_id.unwrap_or_default(),
            display_name: self.display_name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            user_ids: self.user_ids.unwrap_or_default(),
            settings: self
                .config
                .as_ref()
                .and_then(ConnectorSettings::from_envelope),
            created_at: ts(&self.created_at),
            updated_at: ts(&self.updated_at),
            deleted_at: ts(&self.deleted_at),
            config_updated_at: precise_ts(&self.config_updated_at),
            status: self.status.map(WireStatus::into_status),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireConnectorView {
    pub(crate) connector: Option<WireConnector>,
}

/// Get, create and update responses share this shape.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireViewResponse {
    pub(crate) connector_view: Option<WireConnectorView>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireListResponse {
    pub(crate) list: Option<Vec<WireConnectorView>>,
    pub(crate) next_page_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCreateRequest<'a> {
    pub(crate) catalog_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_ids: Option<&'a [String]>,
    pub(crate) config: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCreateDelegatedRequest<'a> {
    pub(crate) catalog_id: &'a str,
    pub(crate) display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
}

/// A connector credential as C1 answers it: what a self-hosted connector authenticates with.
/// `Debug` never shows the secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorCredential {
    pub id: String,
    pub app_id: String,
    pub connector_id: String,
    pub client_id: String,
    /// Only in the answer of a rotate (the credential's creation); never in reads.
    pub client_secret: Option<SecretString>,
    pub display_name: String,
    /// RFC 3339, second precision, UTC with `Z` (as [`Connector`]'s).
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// When C1 stops accepting it; None when it does not expire.
    pub expires_time: Option<String>,
    pub last_used_at: Option<String>,
    /// Set once it was revoked.
    pub deleted_at: Option<String>,
}

impl ConnectorCredential {
    /// Still accepted by C1 at `now` (RFC 3339 UTC): not revoked, not past its expiry time.
    /// An expiry time that does not parse is taken at its word as not passed.
    pub fn is_live_at(&self, now: time::OffsetDateTime) -> bool {
        use time::format_description::well_known::Rfc3339;
        if self.deleted_at.is_some() {
            return false;
        }
        match &self.expires_time {
            None => true,
            Some(at) => time::OffsetDateTime::parse(at, &Rfc3339).map_or(true, |at| at > now),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireCredential {
    id: Option<String>,
    app_id: Option<String>,
    connector_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    display_name: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    expires_time: Option<String>,
    last_used_at: Option<String>,
    deleted_at: Option<String>,
}

impl WireCredential {
    pub(crate) fn into_credential(self) -> ConnectorCredential {
        ConnectorCredential {
            id: self.id.unwrap_or_default(),
            app_id: self.app_id.unwrap_or_default(),
            connector_id: self.connector_id.unwrap_or_default(),
            client_id: self.client_id.unwrap_or_default(),
            client_secret: self
                .client_secret
                .filter(|s| !s.is_empty())
                .map(SecretString::new),
            display_name: self.display_name.unwrap_or_default(),
            created_at: ts(&self.created_at),
            updated_at: ts(&self.updated_at),
            expires_time: ts(&self.expires_time),
            last_used_at: ts(&self.last_used_at),
            deleted_at: ts(&self.deleted_at),
        }
    }
}

/// The answer of rotate and get: `{"credential": ConnectorCredential}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireCredentialResponse {
    pub(crate) credential: Option<WireCredential>,
}

/// Body of a rotate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRotateCredentialRequest<'a> {
    pub(crate) app_id: &'a str,
    pub(crate) connector_id: &'a str,
}

/// C1 error body `{"code", "message", "details"}`, or the token endpoint's OAuth error body
/// `{"error", "error_description"}`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WireError {
    pub(crate) code: Option<Value>,
    pub(crate) message: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

impl WireError {
    /// The gRPC status code, whether C1 sent it as a number or a string.
    pub(crate) fn code(&self) -> Option<i64> {
        let code = self.code.as_ref()?;
        code.as_i64()
            .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
    }

    /// The message a user should read: C1's `message`, else the OAuth error and description.
    pub(crate) fn text(self) -> Option<String> {
        if let Some(m) = self.message.filter(|m| !m.is_empty()) {
            return Some(m);
        }
        match (
            self.error.filter(|e| !e.is_empty()),
            self.error_description.filter(|d| !d.is_empty()),
        ) {
            (Some(e), Some(d)) => Some(format!("{e}: {d}")),
            (Some(e), None) => Some(e),
            (None, Some(d)) => Some(d),
            (None, None) => None,
        }
    }
}

/// Token endpoint answer.
#[derive(Deserialize)]
pub(crate) struct WireToken {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<Value>,
}

/// Reads a 2xx body as `T`.
pub(crate) fn decode<T: DeserializeOwned>(operation: &str, bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| decode_error(operation, &e))
}

/// A serde error without the offending value (it could be a setting).
pub(crate) fn decode_error(operation: &str, e: &serde_json::Error) -> ClientError {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    ClientError::Decode {
        operation: operation.to_string(),
        message: format!("{kind} at line {} column {}", e.line(), e.column()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_normalised_to_seconds_utc() {
        assert_eq!(
            normalize_timestamp("2026-11-23T21:54:00.123456789Z").as_deref(),
            Some("2026-11-23T21:54:00Z")
        );
        assert_eq!(
            normalize_timestamp("2026-11-23T22:54:00+01:00").as_deref(),
            Some("2026-11-23T21:54:00Z")
        );
        assert_eq!(normalize_timestamp(""), None);
        assert_eq!(
            normalize_timestamp("not a time").as_deref(),
            Some("not a time")
        );
    }

    #[test]
    fn envelope_round_trip_and_redacted_debug() {
        let s = ConnectorSettings(BTreeMap::from([
            ("twingate_domain".to_string(), "acme".to_string()),
            ("twingate_apikey".to_string(), "sekrit".to_string()),
        ]));
        let env = s.to_envelope();
        assert_eq!(
            env,
            json!({"@type": ENV_CONFIG_TYPE, "configuration": {
                "twingate_domain": {"stringValue": "acme"},
                "twingate_apikey": {"stringValue": "sekrit"}}})
        );
        assert_eq!(ConnectorSettings::from_envelope(&env), Some(s.clone()));
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("sekrit") && !dbg.contains("acme"), "{dbg}");
        assert!(dbg.contains("twingate_apikey"));
    }

    #[test]
    fn wire_connector_decodes_protobuf_json() {
        let v: WireViewResponse = serde_json::from_value(json!({"connectorView": {"connector": {
            "id": "c1", "appId": "a1", "catalogId": "cat", "displayName": "Twingate",
            "userIds": ["u1"], "createdAt": "2026-11-23T21:54:00.5Z", "updatedAt": null,
            "deletedAt": null, "unknownField": 3,
            "config": {"@type": ENV_CONFIG_TYPE, "configuration": {
                "twingate_domain": {"stringValue": "acme"}, "n": {"numberValue": 3}}},
            "status": {"status": "SYNC_STATUS_DONE", "lastError": "", "completedAt": "2026-11-23T21:55:00Z"}
        }}}))
        .unwrap();
        let c = v
            .connector_view
            .unwrap()
            .connector
            .unwrap()
            .into_connector();
        assert_eq!(c.id, "c1");
        assert_eq!(c.app_id, "a1");
        assert_eq!(c.user_ids, ["u1"]);
        assert_eq!(c.created_at.as_deref(), Some("2026-11-23T21:54:00Z"));
        assert_eq!(c.updated_at, None);
        assert_eq!(c.deleted_at, None);
        let status = c.status.clone().unwrap();
        assert_eq!(status.status, SyncStatus::Done);
        assert_eq!(status.last_error, None, "an empty lastError is none");
        assert_eq!(status.completed_at.as_deref(), Some("2026-11-23T21:55:00Z"));
        assert_eq!(
            c.settings.unwrap().0,
            BTreeMap::from([("twingate_domain".to_string(), "acme".to_string())])
        );

        let bare: WireConnector =
            serde_json::from_value(json!({"id": "x", "config": null, "userIds": null})).unwrap();
        let c = bare.into_connector();
        assert_eq!(c.settings, None);
        assert!(c.user_ids.is_empty());
        assert_eq!(c.status, None);
        assert_eq!(c.sync_status(), SyncStatus::Unspecified);
    }

    #[test]
    fn the_first_sync_since_a_change_is_told_from_an_older_one() {
        let at = |status: SyncStatus, started: Option<&str>| Connector {
            status: Some(ConnectorStatus {
                status,
                started_at: started.map(str::to_string),
                ..ConnectorStatus::default()
            }),
            ..Connector::default()
        };
        let change = Some("2026-11-23T21:54:00Z");
        let older = Some("2026-11-23T21:53:59Z");
        let same_second = Some("2026-11-23T21:54:00Z");
        let later = Some("2026-11-23T21:55:00Z");
        use SyncProgress::*;
        for (status, started, want) in [
            (SyncStatus::Done, older, NotStarted),
            (SyncStatus::Error, older, NotStarted),
            (SyncStatus::Running, older, NotStarted),
            (SyncStatus::Done, same_second, Done),
            (SyncStatus::Running, later, Running),
            (SyncStatus::Error, later, Failed),
            (SyncStatus::Done, later, Done),
            (SyncStatus::Disabled, older, Disabled),
            (SyncStatus::Unspecified, None, NotStarted),
        ] {
            assert_eq!(
                at(status, started).sync_since(change),
                want,
                "{status:?} {started:?}"
            );
        }
        assert_eq!(at(SyncStatus::Done, older).sync_since(None), Done);
        assert_eq!(Connector::default().sync_since(change), NotStarted);
        assert!(Done.is_final() && Failed.is_final() && Disabled.is_final());
        assert!(!Running.is_final() && !NotStarted.is_final());
        let c = Connector {
            updated_at: Some("u".into()),
            ..Connector::default()
        };
        assert_eq!(c.settings_changed_at().as_deref(), Some("u"));
    }

    #[test]
    fn a_sync_that_started_earlier_in_the_same_second_as_the_change_is_an_older_one() {
        let decode = |started: &str| {
            serde_json::from_value::<WireConnector>(json!({
                "id": "c1",
                "updatedAt": "2026-11-23T21:54:00.700Z",
                "configUpdatedAt": "2026-11-23T23:54:00.700+02:00",
                "status": {"status": "SYNC_STATUS_DONE", "startedAt": started},
            }))
            .unwrap()
            .into_connector()
        };
        let older = decode("2026-11-23T21:54:00.300Z");
        assert_eq!(
            older.config_updated_at.as_deref(),
            Some("2026-11-23T21:54:00.7Z")
        );
        assert_eq!(older.updated_at.as_deref(), Some("2026-11-23T21:54:00Z"));
        let changed = older.settings_changed_at();
        assert_eq!(
            older.sync_since(changed.as_deref()),
            SyncProgress::NotStarted
        );
        let newer = decode("2026-11-23T21:54:00.900Z");
        assert_eq!(newer.sync_since(changed.as_deref()), SyncProgress::Done);
    }

    #[test]
    fn sync_status_decodes_every_contract_value_and_takes_unknown_ones_as_unspecified() {
        for (wire, want) in [
            ("SYNC_STATUS_UNSPECIFIED", SyncStatus::Unspecified),
            ("SYNC_STATUS_RUNNING", SyncStatus::Running),
            ("SYNC_STATUS_DONE", SyncStatus::Done),
            ("SYNC_STATUS_ERROR", SyncStatus::Error),
            ("SYNC_STATUS_DISABLED", SyncStatus::Disabled),
            ("SYNC_STATUS_FROM_THE_FUTURE", SyncStatus::Unspecified),
        ] {
            let c: WireConnector = serde_json::from_value(json!({"id": "x", "status": {
                "status": wire, "lastError": "twingate: 401 Unauthorized",
                "startedAt": "2026-11-23T21:54:00.9Z", "completedAt": null, "configUpdatedAt": "x"
            }}))
            .unwrap();
            let c = c.into_connector();
            assert_eq!(c.sync_status(), want, "{wire}");
            let status = c.status.unwrap();
            assert_eq!(
                status.last_error.as_deref(),
                Some("twingate: 401 Unauthorized")
            );
            assert_eq!(status.started_at.as_deref(), Some("2026-11-23T21:54:00.9Z"));
            assert_eq!(status.completed_at, None);
        }
        let c: WireConnector = serde_json::from_value(
            json!({"configUpdatedAt": "2026-11-23T22:54:00+01:00", "status": {}}),
        )
        .unwrap();
        let c = c.into_connector();
        assert_eq!(c.config_updated_at.as_deref(), Some("2026-11-23T21:54:00Z"));
        assert_eq!(c.sync_status(), SyncStatus::Unspecified, "no status field");
        assert!(SyncStatus::Done.is_finished() && SyncStatus::Error.is_finished());
        assert!(!SyncStatus::Running.is_finished() && !SyncStatus::Disabled.is_finished());
    }

    #[test]
    fn error_text_reads_c1_and_oauth_bodies() {
        let c1: WireError =
            serde_json::from_value(json!({"code": 5, "message": "connector not found"})).unwrap();
        assert_eq!(c1.text().as_deref(), Some("connector not found"));
        let oauth: WireError = serde_json::from_value(
            json!({"error": "invalid_client", "error_description": "unknown client"}),
        )
        .unwrap();
        assert_eq!(
            oauth.text().as_deref(),
            Some("invalid_client: unknown client")
        );
        assert_eq!(WireError::default().text(), None);
    }

    #[test]
    fn create_bodies_follow_the_schema() {
        let ids = vec!["u1".to_string()];
        let b = serde_json::to_value(WireCreateRequest {
            catalog_id: "cat",
            user_ids: Some(&ids),
            config: ConnectorSettings::default().to_envelope(),
            description: Some("marker"),
        })
        .unwrap();
        assert_eq!(
            b,
            json!({"catalogId": "cat", "userIds": ["u1"], "config": {"@type": ENV_CONFIG_TYPE, "configuration": {}}, "description": "marker"})
        );
        let b = serde_json::to_value(WireCreateDelegatedRequest {
            catalog_id: "cat",
            display_name: "Twingate",
            user_ids: None,
            description: None,
        })
        .unwrap();
        assert_eq!(b, json!({"catalogId": "cat", "displayName": "Twingate"}));
    }
}

/// C1's answers of any shape: decoding never panics, fails only with a typed `Decode` error,
/// and never quotes what C1 sent (a connector's settings may hold secrets).
#[cfg(test)]
mod decoding_any_answer {
    use super::*;
    use proptest::prelude::*;

    fn secret() -> impl Strategy<Value = Value> {
        "SECRET[A-Za-z0-9 \"\\\\\n]{2,30}".prop_map(Value::from)
    }

    /// Any JSON value; strings are marked SECRET so that a quote of one is seen.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            secret(),
            "[A-Za-z]{2000,20000}".prop_map(|s| Value::from(format!("SECRET{s}"))),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Timestamps around the edges of what RFC 3339 and `time` can hold.
    fn timestamp() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::from("9999-12-31T23:59:59-23:59")),
            Just(Value::from("0000-01-01T00:00:00+23:59")),
            Just(Value::from("2026-02-30T25:61:61Z")),
            (0u32..10000, 1u32..13, 1u32..29, -23i32..24).prop_map(|(y, mo, d, off)| {
                Value::from(format!(
                    "{y:04}-{mo:02}-{d:02}T12:00:00.123456789{off:+03}:00"
                ))
            }),
            any_value(),
        ]
    }

    /// A connector whose fields are right, wrong, missing or of another type.
    fn connector() -> impl Strategy<Value = Value> {
        let field = || prop_oneof![3 => secret(), 1 => any_value()];
        (
            prop::collection::vec(field(), 6),
            prop_oneof![
                prop::collection::vec(secret(), 0..3).prop_map(Value::from),
                any_value()
            ],
            prop_oneof![
                prop::collection::btree_map(
                    "[a-z_]{1,10}",
                    prop_oneof![
                        secret().prop_map(|s| json!({ "stringValue": s })),
                        any_value()
                    ],
                    0..3
                )
                .prop_map(|m| json!({"@type": ENV_CONFIG_TYPE, "configuration": m})),
                any_value()
            ],
            prop::collection::vec(timestamp(), 3),
            prop_oneof![
                (
                    prop_oneof![
                        Just("SYNC_STATUS_DONE"),
                        Just("SYNC_STATUS_FROM_THE_FUTURE")
                    ],
                    field(),
                    timestamp(),
                )
                    .prop_map(|(status, error, started)| json!({
                        "status": status, "lastError": error, "startedAt": started,
                    })),
                any_value(),
            ],
            prop::collection::vec(any::<bool>(), 10),
        )
            .prop_map(|(f, users, config, times, status, keep)| {
                let all = [
                    ("id", f[0].clone()),
                    ("appId", f[1].clone()),
                    ("catalogId", f[2].clone()),
                    ("displayName", f[3].clone()),
                    ("description", f[4].clone()),
                    ("userIds", users),
                    ("config", config),
                    ("createdAt", times[0].clone()),
                    ("updatedAt", times[1].clone()),
                    ("deletedAt", times[2].clone()),
                ];
                let mut m: Map<String, Value> = all
                    .into_iter()
                    .zip(keep)
                    .filter(|(_, keep)| *keep)
                    .map(|((k, v), _)| (k.to_string(), v))
                    .collect();
                m.insert("status".into(), status);
                m.insert("unknownField".into(), f[5].clone());
                Value::Object(m)
            })
    }

    fn answer() -> impl Strategy<Value = Value> {
        prop_oneof![
            connector().prop_map(|c| json!({"connectorView": {"connector": c}})),
            (prop::collection::vec(connector(), 0..3), any_value()).prop_map(|(cs, token)| {
                json!({"list": cs.into_iter().map(|c| json!({"connector": c})).collect::<Vec<_>>(),
                       "nextPageToken": token})
            }),
            (any_value(), any_value(), any_value()).prop_map(|(t, ty, exp)| {
                json!({"access_token": t, "token_type": ty, "expires_in": exp})
            }),
            (any_value(), any_value()).prop_map(|(c, m)| json!({"code": c, "message": m})),
            any_value(),
        ]
    }

    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    /// Decodes `bytes` as `T`; an error is `Decode` and quotes nothing of `source`.
    fn check<T: DeserializeOwned>(bytes: &[u8], source: &Value) -> Option<T> {
        match decode::<T>("read connector", bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                assert!(matches!(e, ClientError::Decode { .. }), "{e:?}");
                let text = format!("{e} {e:?}");
                assert!(!text.contains("SECRET"), "{text}");
                let mut leaves = Vec::new();
                strings(source, &mut leaves);
                for s in leaves.iter().filter(|s| s.len() > 3) {
                    assert!(!text.contains(s.as_str()), "{text}");
                }
                None
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_answer_decodes_or_fails_typed_without_echo(v in answer(), cut in any::<usize>()) {
            let full = serde_json::to_vec(&v).unwrap();
            let cut = cut % (full.len() + 1);
            for bytes in [&full[..], &full[..cut]] {
                if let Some(r) = check::<WireViewResponse>(bytes, &v) {
                    if let Some(c) = r.connector_view.and_then(|c| c.connector) {
                        let _ = c.into_connector();
                    }
                }
                if let Some(r) = check::<WireListResponse>(bytes, &v) {
                    for c in r.list.unwrap_or_default().into_iter().filter_map(|c| c.connector) {
                        let _ = c.into_connector();
                    }
                }
                if let Some(e) = check::<WireError>(bytes, &v) {
                    let _ = (e.code(), e.text());
                }
                let _ = check::<WireToken>(bytes, &v);
            }
        }

        #[test]
        fn any_bytes_decode_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
            let _ = decode::<WireViewResponse>("read connector", &bytes);
            let _ = decode::<WireListResponse>("list connectors", &bytes);
            let _ = decode::<WireToken>("get access token", &bytes);
        }
    }

    #[test]
    fn timestamps_out_of_range_after_conversion_are_kept_not_panicked_on() {
        assert_eq!(
            normalize_timestamp("9999-12-31T23:59:59-23:59").as_deref(),
            Some("9999-12-31T23:59:59-23:59")
        );
    }

    #[test]
    fn a_credential_decodes_with_its_secret_hidden_from_debug() {
        let v: WireCredentialResponse = serde_json::from_value(json!({"credential": {
            "id": "k1", "appId": "a1", "connectorId": "c1", "clientId": "conn@t.conductor.one/pcc",
            "clientSecret": "secret-token:conductorone.com:v1:SEKRIT", "displayName": "Baton connector credential",
            "createdAt": "2026-11-23T21:54:00.5Z", "updatedAt": "2026-11-23T21:54:00Z",
            "expiresTime": null, "lastUsedAt": null, "deletedAt": null, "unknown": 1
        }}))
        .unwrap();
        let c = v.credential.unwrap().into_credential();
        assert_eq!(c.client_id, "conn@t.conductor.one/pcc");
        assert_eq!(
            c.client_secret.as_ref().map(SecretString::expose),
            Some("secret-token:conductorone.com:v1:SEKRIT")
        );
        assert_eq!(c.created_at.as_deref(), Some("2026-11-23T21:54:00Z"));
        assert!(!format!("{c:?}").contains("SEKRIT"));
        let now = time::macros::datetime!(2026-11-24 00:00 UTC);
        assert!(c.is_live_at(now));
        let expired = ConnectorCredential {
            expires_time: Some("2026-11-23T23:59:59Z".into()),
            ..c.clone()
        };
        assert!(!expired.is_live_at(now));
        let revoked = ConnectorCredential {
            deleted_at: Some("2026-11-23T23:00:00Z".into()),
            ..c
        };
        assert!(!revoked.is_live_at(now));
    }
}
