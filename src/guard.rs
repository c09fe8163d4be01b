//! The guard between Terraform's calls and our provider and resources: no panic reaches
//! Terraform, and no value reaches a decode error.
//!
//! `tf-provider` serves a typed [`Provider`] or [`Resource`] through blanket impls of its dynamic
//! traits (which cannot be implemented outside the crate: their `RawValue` is not exported). Those
//! impls (1) let a panic in a method unwind into tonic, so Terraform sees the plugin fail ("The
//! plugin encountered an error... failed to respond") instead of a diagnostic, and (2) report a
//! value that does not decode with serde's message, which quotes the offending value (`invalid
//! type: string "..."`), possibly a secret. [`GuardedProvider`] and [`GuardedResource`] are typed
//! wrappers in between: their values are [`Redacted`] (decode errors say how the value broke,
//! never what it was: [`DecodeError`]) and every method runs under `catch_unwind`, a panic
//! becoming an error diagnostic that names the resource and the step and says it is a bug to
//! report. State upgrades stay `tf-provider`'s default (its signature takes the unexported
//! `RawValue`); the resources have one schema version and never need one. The report for
//! upstream is `contributing/upstream/tf-provider-panics-and-decode-errors.md`; drop this module
//! when `tf-provider` does both itself.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use async_trait::async_trait;
use futures_util::FutureExt as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tf_provider::schema::Schema;
use tf_provider::{
    AttributePath, DataSource, Diagnostics, DynamicDataSource, DynamicFunction, DynamicResource,
    Provider, Resource,
};

use crate::resource::diagnostic;

/// Where to report a provider bug, for messages.
pub const BUG_REPORTS: &str = "the issue tracker of the terraform-provider-conductorone repository";

/// How a value Terraform sent (state, configuration, private state) failed to decode. Says how
/// it broke, never what it was or held: any value may be a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("it ends too early")]
    Truncated,
    #[error("a value has the wrong type or shape")]
    WrongShape,
    #[error("a field the provider needs is missing")]
    MissingField,
    #[error("it has a field or variant the provider does not know")]
    Unknown,
    #[error("it is not valid MessagePack or JSON")]
    Malformed,
}

impl DecodeError {
    /// Sorts a serde or decoder message into a kind; the message itself is dropped.
    fn classify(message: &str) -> Self {
        let m = message.to_ascii_lowercase();
        if m.starts_with("invalid type")
            || m.starts_with("invalid value")
            || m.starts_with("invalid length")
            || m.contains("mismatch")
            || m.contains("did not match")
            || m.contains("out of range")
        {
            DecodeError::WrongShape
        } else if m.starts_with("missing field") {
            DecodeError::MissingField
        } else if m.starts_with("unknown field") || m.starts_with("unknown variant") {
            DecodeError::Unknown
        } else if m.contains("eof") || m.contains("end of") || m.contains("error while reading") {
            DecodeError::Truncated
        } else {
            DecodeError::Malformed
        }
    }
}

/// The message a decode failure carries to Terraform (tf-provider shows it as the summary).
struct DecodeFailure(DecodeError);

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The ConductorOne provider could not read a value Terraform sent: {} (values are \
             not shown: they may be sensitive). This is a bug in the provider or a damaged \
             state: please report it at {BUG_REPORTS}",
            self.0
        )
    }
}

/// A value Terraform sends or receives, unchanged on the wire; a failure to decode it is reported
/// as a [`DecodeError`] without any part of the value.
pub struct Redacted<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer)
            .map(Redacted)
            .map_err(|e| D::Error::custom(DecodeFailure(DecodeError::classify(&e.to_string()))))
    }
}

impl<T: Serialize> Serialize for Redacted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// The error diagnostic for a panic in `step` of `subject` (a resource type or "the provider").
/// The panic's message is not shown: it may hold a value; it is in the provider's log.
pub fn panic_diagnostic(subject: &str, step: &str) -> tf_provider::Diagnostic {
    diagnostic(
        format!("The ConductorOne provider crashed during {step} of {subject}"),
        format!(
            "This is a bug in the provider, not in your configuration: please report it at \
             {BUG_REPORTS} with the Terraform version, the command and the provider's log \
             (TF_LOG_PROVIDER=debug). Nothing after the crash was done; when it happened during \
             an apply, run `terraform plan` to see what C1 holds now."
        ),
        AttributePath::root(),
    )
}

/// Runs `work`, catching a panic.
async fn caught<T>(work: impl Future<Output = T>) -> Result<T, Box<dyn Any + Send>> {
    AssertUnwindSafe(work).catch_unwind().await
}

/// The answer of a guarded step; a panic becomes [`panic_diagnostic`] and `None`.
fn settle<T>(
    result: Result<Option<T>, Box<dyn Any + Send>>,
    subject: &str,
    step: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    match result {
        Ok(value) => value,
        Err(_) => {
            tracing::error!(
                subject,
                step,
                "the provider panicked; reported to Terraform as a bug"
            );
            diags.add_error(panic_diagnostic(subject, step));
            None
        }
    }
}

/// A synchronous step under the same guard.
fn guarded_sync<T>(
    work: impl FnOnce(&mut Diagnostics) -> Option<T>,
    subject: &str,
    step: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&mut *diags)));
    settle(result, subject, step, diags)
}

/// A resource served to Terraform with [`Redacted`] values and under the panic guard.
pub struct GuardedResource<R> {
    /// The resource type, e.g. `conductorone_integration_twingate`, for messages.
    type_name: String,
    inner: R,
}

impl<R: Resource> GuardedResource<R> {
    pub fn new(type_name: impl Into<String>, inner: R) -> Self {
        Self {
            type_name: type_name.into(),
            inner,
        }
    }
}

type Pair<A, B> = Option<(Redacted<A>, Redacted<B>)>;

fn pair<A, B>(value: Option<(A, B)>) -> Option<(Redacted<A>, Redacted<B>)> {
    value.map(|(a, b)| (Redacted(a), Redacted(b)))
}

#[async_trait]
impl<R: Resource> Resource for GuardedResource<R> {
    type State<'a> = Redacted<R::State<'a>>;
    type PrivateState<'a> = Redacted<R::PrivateState<'a>>;
    type ProviderMetaState<'a> = Redacted<R::ProviderMetaState<'a>>;

    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        guarded_sync(|d| self.inner.schema(d), &self.type_name, "schema", diags)
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        let work = self.inner.validate(diags, config.0);
        settle(caught(work).await, &self.type_name, "validation", diags)
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Pair<R::State<'a>, R::PrivateState<'a>> {
        // After a crash the answer is None with an error: Terraform keeps the prior state.
        let work = self.inner.read(diags, state.0, private_state.0, meta.0);
        pair(settle(
            caught(work).await,
            &self.type_name,
            "refresh",
            diags,
        ))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Pair<R::State<'a>, R::PrivateState<'a>> {
        let work = self
            .inner
            .plan_create(diags, proposed_state.0, config_state.0, meta.0);
        pair(settle(
            caught(work).await,
            &self.type_name,
            "the plan",
            diags,
        ))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let work = self.inner.plan_update(
            diags,
            prior_state.0,
            proposed_state.0,
            config_state.0,
            prior_private_state.0,
            meta.0,
        );
        settle(caught(work).await, &self.type_name, "the plan", diags)
            .map(|(s, p, replace)| (Redacted(s), Redacted(p), replace))
    }

    async fn plan_destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        let work = self
            .inner
            .plan_destroy(diags, prior_state.0, prior_private_state.0, meta.0);
        settle(caught(work).await, &self.type_name, "the plan", diags).map(Redacted)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Pair<R::State<'a>, R::PrivateState<'a>> {
        let work = self.inner.create(
            diags,
            planned_state.0,
            config_state.0,
            planned_private_state.0,
            meta.0,
        );
        pair(settle(caught(work).await, &self.type_name, "create", diags))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Pair<R::State<'a>, R::PrivateState<'a>> {
        let work = self.inner.update(
            diags,
            prior_state.0,
            planned_state.0,
            config_state.0,
            planned_private_state.0,
            meta.0,
        );
        pair(settle(caught(work).await, &self.type_name, "update", diags))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let work = self
            .inner
            .destroy(diags, prior_state.0, planned_private_state.0, meta.0);
        settle(caught(work).await, &self.type_name, "destroy", diags)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Pair<R::State<'a>, R::PrivateState<'a>> {
        let work = self.inner.import(diags, id);
        pair(settle(caught(work).await, &self.type_name, "import", diags))
    }
}

/// A data source served to Terraform with [`Redacted`] values and under the panic guard.
pub struct GuardedDataSource<D> {
    /// The data source's type, e.g. `conductorone_app`, for messages.
    type_name: String,
    inner: D,
}

impl<D: DataSource> GuardedDataSource<D> {
    pub fn new(type_name: impl Into<String>, inner: D) -> Self {
        Self {
            type_name: format!("data source {}", type_name.into()),
            inner,
        }
    }
}

#[async_trait]
impl<D: DataSource> DataSource for GuardedDataSource<D> {
    type State<'a> = Redacted<D::State<'a>>;
    type ProviderMetaState<'a> = Redacted<D::ProviderMetaState<'a>>;

    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        guarded_sync(|d| self.inner.schema(d), &self.type_name, "schema", diags)
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        let work = self.inner.validate(diags, config.0);
        settle(caught(work).await, &self.type_name, "validation", diags)
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let work = self.inner.read(diags, config.0, meta.0);
        settle(caught(work).await, &self.type_name, "read", diags).map(Redacted)
    }
}

/// The provider served to Terraform with a [`Redacted`] configuration and under the panic guard.
/// Its resources are guarded by the provider itself (it knows their types; see
/// [`GuardedResource`]).
pub struct GuardedProvider<P> {
    inner: P,
}

impl<P: Provider> GuardedProvider<P> {
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

const PROVIDER: &str = "the provider";

#[async_trait]
impl<P: Provider> Provider for GuardedProvider<P> {
    type Config<'a> = Redacted<P::Config<'a>>;
    type MetaState<'a> = Redacted<P::MetaState<'a>>;

    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        guarded_sync(|d| self.inner.schema(d), PROVIDER, "schema", diags)
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        let work = self.inner.validate(diags, config.0);
        settle(caught(work).await, PROVIDER, "validation", diags)
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let work = self.inner.configure(diags, terraform_version, config.0);
        settle(caught(work).await, PROVIDER, "configuration", diags)
    }

    fn meta_schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        guarded_sync(|d| self.inner.meta_schema(d), PROVIDER, "schema", diags)
    }

    fn get_resources(
        &self,
        diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        guarded_sync(|d| self.inner.get_resources(d), PROVIDER, "start-up", diags)
    }

    fn get_data_sources(
        &self,
        diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        guarded_sync(
            |d| self.inner.get_data_sources(d),
            PROVIDER,
            "start-up",
            diags,
        )
    }

    fn get_functions(
        &self,
        diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicFunction>>> {
        guarded_sync(|d| self.inner.get_functions(d), PROVIDER, "start-up", diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use c1_contract::integrations::Integration;
    use proptest::prelude::*;
    use serde_json::{json, Value as Json};
    use tf_provider::value::{Value, ValueEmpty};

    use crate::provider::{ConductorOneProvider, ProviderConfig};
    use crate::resource::{IntegrationPrivate, IntegrationState};

    /// A resource whose every method panics (with a value in the message, as a careless
    /// `expect` could).
    struct Panicky;

    const TYPE: &str = "conductorone_test_panicky";
    const SECRET: &str = "SECRET-in-panic-Q9";

    #[async_trait]
    impl Resource for Panicky {
        type State<'a> = ValueEmpty;
        type PrivateState<'a> = ValueEmpty;
        type ProviderMetaState<'a> = ValueEmpty;

        fn schema(&self, _: &mut Diagnostics) -> Option<Schema> {
            panic!("schema {SECRET}")
        }
        async fn validate<'a>(&self, _: &mut Diagnostics, _: ValueEmpty) -> Option<()> {
            panic!("validate {SECRET}")
        }
        async fn read<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<(ValueEmpty, ValueEmpty)> {
            panic!("read {SECRET}")
        }
        async fn plan_create<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<(ValueEmpty, ValueEmpty)> {
            panic!("plan {SECRET}")
        }
        async fn plan_update<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<(ValueEmpty, ValueEmpty, Vec<AttributePath>)> {
            panic!("plan {SECRET}")
        }
        async fn plan_destroy<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<ValueEmpty> {
            panic!("plan {SECRET}")
        }
        async fn create<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<(ValueEmpty, ValueEmpty)> {
            panic!("create {SECRET}")
        }
        async fn update<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<(ValueEmpty, ValueEmpty)> {
            panic!("update {SECRET}")
        }
        async fn destroy<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<()> {
            panic!("destroy {SECRET}")
        }
        async fn import<'a>(
            &self,
            _: &mut Diagnostics,
            _: String,
        ) -> Option<(ValueEmpty, ValueEmpty)> {
            panic!("import {SECRET}")
        }
    }

    /// One error, naming the resource and the step, calling it a bug, quoting nothing.
    #[track_caller]
    fn crashed(diags: Diagnostics, step: &str) {
        assert_eq!(diags.errors.len(), 1, "{:?}", diags.errors);
        let e = &diags.errors[0];
        assert_eq!(
            e.summary,
            format!("The ConductorOne provider crashed during {step} of {TYPE}")
        );
        assert!(
            e.detail.contains("This is a bug in the provider"),
            "{}",
            e.detail
        );
        assert!(!format!("{e:?}").contains(SECRET));
    }

    fn e() -> Redacted<ValueEmpty> {
        Redacted(ValueEmpty::default())
    }

    #[tokio::test]
    async fn a_panic_in_any_resource_method_becomes_an_error_diagnostic() {
        let r = GuardedResource::new(TYPE, Panicky);
        let mut d = Diagnostics::default();
        assert!(Resource::schema(&r, &mut d).is_none());
        crashed(d, "schema");
        let mut d = Diagnostics::default();
        assert!(Resource::validate(&r, &mut d, e()).await.is_none());
        crashed(d, "validation");
        let mut d = Diagnostics::default();
        assert!(Resource::read(&r, &mut d, e(), e(), e()).await.is_none());
        crashed(d, "refresh");
        let mut d = Diagnostics::default();
        assert!(Resource::plan_create(&r, &mut d, e(), e(), e())
            .await
            .is_none());
        crashed(d, "the plan");
        let mut d = Diagnostics::default();
        assert!(Resource::plan_update(&r, &mut d, e(), e(), e(), e(), e())
            .await
            .is_none());
        crashed(d, "the plan");
        let mut d = Diagnostics::default();
        assert!(Resource::plan_destroy(&r, &mut d, e(), e(), e())
            .await
            .is_none());
        crashed(d, "the plan");
        let mut d = Diagnostics::default();
        assert!(Resource::create(&r, &mut d, e(), e(), e(), e())
            .await
            .is_none());
        crashed(d, "create");
        let mut d = Diagnostics::default();
        assert!(Resource::update(&r, &mut d, e(), e(), e(), e(), e())
            .await
            .is_none());
        crashed(d, "update");
        let mut d = Diagnostics::default();
        assert!(Resource::destroy(&r, &mut d, e(), e(), e()).await.is_none());
        crashed(d, "destroy");
        // Through tf-provider's dynamic trait, as the server calls it.
        let dynamic: Box<dyn DynamicResource> = Box::new(GuardedResource::new(TYPE, Panicky));
        let mut d = Diagnostics::default();
        assert!(dynamic.import(&mut d, "app1/c1".into()).await.is_none());
        crashed(d, "import");
    }

    /// A test-only declaration whose hook panics, inside the real integration resource.
    struct Exploding;

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct ExplodingSettings {
        /// Anything but `ok` breaks the rule, and the suggestion hook then panics.
        #[schemars(pattern("^ok$"))]
        exploding_mode: Option<String>,
    }

    impl Integration for Exploding {
        type Settings = ExplodingSettings;
        const NAME: &'static str = "exploding";
        const DISPLAY_NAME: &'static str = "Exploding";
        const CATALOG_ID: &'static str = "2ExplodingCatalogEntry00000";
        const SYNC_FAILURE_HINT: &'static str = "Check `exploding_mode`.";
        fn suggest(_: &str, value: &str) -> Option<String> {
            panic!("no suggestion for {value}")
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_integration_resource_names_it() {
        let provider = ConductorOneProvider::new();
        let r = GuardedResource::new(
            "conductorone_integration_exploding",
            provider.integration_resource::<Exploding>(),
        );
        let mut config = IntegrationState {
            app_id: Value::Value("app1".into()),
            ..IntegrationState::default()
        };
        config
            .settings
            .insert("exploding_mode".into(), Value::Value(SECRET.into()));
        let mut d = Diagnostics::default();
        assert!(Resource::validate(&r, &mut d, Redacted(config))
            .await
            .is_none());
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(
            d.errors[0].summary,
            "The ConductorOne provider crashed during validation of conductorone_integration_exploding"
        );
        assert!(!format!("{:?}", d.errors).contains(SECRET));
    }

    /// A data source whose every method panics.
    struct PanickyDataSource;

    #[async_trait]
    impl DataSource for PanickyDataSource {
        type State<'a> = ValueEmpty;
        type ProviderMetaState<'a> = ValueEmpty;
        fn schema(&self, _: &mut Diagnostics) -> Option<Schema> {
            panic!("schema {SECRET}")
        }
        async fn validate<'a>(&self, _: &mut Diagnostics, _: ValueEmpty) -> Option<()> {
            panic!("validate {SECRET}")
        }
        async fn read<'a>(
            &self,
            _: &mut Diagnostics,
            _: ValueEmpty,
            _: ValueEmpty,
        ) -> Option<ValueEmpty> {
            panic!("read {SECRET}")
        }
    }

    #[tokio::test]
    async fn a_panic_in_a_data_source_becomes_an_error_diagnostic_naming_it() {
        let ds = GuardedDataSource::new("conductorone_app", PanickyDataSource);
        let summary = |step: &str| {
            format!(
                "The ConductorOne provider crashed during {step} of data source conductorone_app"
            )
        };
        let mut d = Diagnostics::default();
        assert!(DataSource::schema(&ds, &mut d).is_none());
        assert_eq!(d.errors[0].summary, summary("schema"));
        let mut d = Diagnostics::default();
        assert!(DataSource::validate(&ds, &mut d, e()).await.is_none());
        assert_eq!(d.errors[0].summary, summary("validation"));
        let mut d = Diagnostics::default();
        assert!(DataSource::read(&ds, &mut d, e(), e()).await.is_none());
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].summary, summary("read"));
        assert!(!format!("{:?}", d.errors).contains(SECRET));
    }

    /// A provider whose configuration panics.
    struct PanickyProvider;

    #[async_trait]
    impl Provider for PanickyProvider {
        type Config<'a> = ValueEmpty;
        type MetaState<'a> = ValueEmpty;
        fn schema(&self, _: &mut Diagnostics) -> Option<Schema> {
            Some(Schema {
                version: 0,
                block: Default::default(),
            })
        }
        async fn configure<'a>(&self, _: &mut Diagnostics, _: String, _: ValueEmpty) -> Option<()> {
            panic!("configure {SECRET}")
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_provider_becomes_an_error_diagnostic() {
        let p = GuardedProvider::new(PanickyProvider);
        let mut d = Diagnostics::default();
        assert!(Provider::schema(&p, &mut d).is_some());
        assert!(Provider::configure(&p, &mut d, "1.11.4".into(), e())
            .await
            .is_none());
        assert_eq!(d.errors.len(), 1);
        assert_eq!(
            d.errors[0].summary,
            "The ConductorOne provider crashed during configuration of the provider"
        );
    }

    // ---- decoding what Terraform sends ---------------------------------------------------

    /// A JSON value of any shape, with strings that must never show in an error.
    fn any_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<f64>().prop_map(Json::from),
            "[a-z]{0,3}SECRET[A-Za-z0-9 \"\\\\\n]{4,40}".prop_map(Json::from),
            "[A-Za-z]{1000,5000}".prop_map(|s| Json::from(format!("HUGESECRET{s}"))),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("id".to_string()),
                        Just("app_id".to_string()),
                        Just("user_ids".to_string()),
                        Just("created_at".to_string()),
                        Just("twingate_apikey".to_string()),
                        Just("display_name".to_string()),
                        Just("server_url".to_string()),
                        Just("client_secret".to_string()),
                        "[a-z_]{1,12}",
                    ],
                    inner,
                    0..8
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A state of the right shape whose values are replaced at random by values of any shape.
    fn state_like() -> impl Strategy<Value = Json> {
        let string = "SECRET[A-Za-z0-9]{4,20}".prop_map(Json::from);
        let field = prop_oneof![4 => string.clone(), 1 => any_json(), 1 => Just(Json::Null)];
        (
            field.clone(),
            field.clone(),
            prop_oneof![
                prop::collection::vec(string, 0..4).prop_map(Json::from),
                any_json()
            ],
            field.clone(),
            field,
        )
            .prop_map(|(id, app, users, key, domain)| {
                json!({"id": id, "app_id": app, "user_ids": users, "created_at": null,
                       "updated_at": null, "deleted_at": null,
                       "twingate_apikey": key, "twingate_domain": domain})
            })
    }

    fn strings(v: &Json, out: &mut Vec<String>) {
        match v {
            Json::String(s) => out.push(s.clone()),
            Json::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Json::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    /// Decodes `bytes` (MessagePack, or JSON when `json`) as `T` behind [`Redacted`]; an error
    /// must carry a [`DecodeError`] and no string of `source`.
    fn check<T: serde::de::DeserializeOwned>(bytes: &[u8], json: bool, source: &Json) {
        let text = if json {
            serde_json::from_slice::<Redacted<T>>(bytes)
                .err()
                .map(|e| e.to_string())
        } else {
            rmp_serde::from_slice::<Redacted<T>>(bytes)
                .err()
                .map(|e| e.to_string())
        };
        let Some(text) = text else { return };
        let kinds = [
            DecodeError::Truncated,
            DecodeError::WrongShape,
            DecodeError::MissingField,
            DecodeError::Unknown,
            DecodeError::Malformed,
        ];
        assert!(
            kinds.iter().any(|k| text.contains(&k.to_string())),
            "untyped decode error: {text}"
        );
        let mut leaves = Vec::new();
        strings(source, &mut leaves);
        for s in leaves.iter().filter(|s| s.contains("SECRET")) {
            assert!(!text.contains(s.as_str()), "{text}");
        }
        assert!(!text.contains("SECRET"), "{text}");
    }

    fn forms(v: &Json, cut: usize) -> Vec<(Vec<u8>, bool)> {
        let msgpack = rmp_serde::to_vec_named(v).unwrap();
        let json = serde_json::to_vec(v).unwrap();
        let m = cut % (msgpack.len() + 1);
        let j = cut % (json.len() + 1);
        vec![
            (msgpack.clone(), false),
            (msgpack[..m].to_vec(), false),
            (json.clone(), true),
            (json[..j].to_vec(), true),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn terraform_values_decode_without_panic_or_echo(v in state_like(), w in any_json(), cut in any::<usize>()) {
            for source in [&v, &w] {
                for (bytes, json) in forms(source, cut) {
                    check::<IntegrationState>(&bytes, json, source);
                    check::<Option<IntegrationPrivate>>(&bytes, json, source);
                    check::<ProviderConfig>(&bytes, json, source);
                }
            }
        }

        #[test]
        fn arbitrary_bytes_decode_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = rmp_serde::from_slice::<Redacted<IntegrationState>>(&bytes);
            let _ = rmp_serde::from_slice::<Redacted<Option<IntegrationPrivate>>>(&bytes);
            let _ = rmp_serde::from_slice::<Redacted<ProviderConfig>>(&bytes);
            let _ = serde_json::from_slice::<Redacted<IntegrationState>>(&bytes);
        }
    }

    #[test]
    fn wrong_types_are_classified_without_the_value() {
        let bytes =
            rmp_serde::to_vec_named(&json!({"app_id": ["SECRET-list"], "id": "x"})).unwrap();
        let err = rmp_serde::from_slice::<Redacted<IntegrationState>>(&bytes)
            .err()
            .expect("a list is no string");
        let text = err.to_string();
        assert!(
            text.contains("a value has the wrong type or shape"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
        // The same through tf-provider's path reports it the same way: what Terraform sees.
        let truncated = &bytes[..bytes.len() / 2];
        let text = rmp_serde::from_slice::<Redacted<IntegrationState>>(truncated)
            .err()
            .unwrap()
            .to_string();
        assert!(
            text.contains("ends too early") || text.contains("wrong type"),
            "{text}"
        );
    }
}
