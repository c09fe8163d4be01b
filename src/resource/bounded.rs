//! The C1 client of one Terraform operation: every call it makes runs within the time budget the
//! resource's `timeouts` block gives that operation, and stops with the provider.

use std::time::Duration;

use c1_client::{AppClient, CallBudget, ConnectorClient};
use tf_provider::value::Value;

use super::error::ResourceError;
use super::timeouts::{self, Operation, OperationSet, Timeouts};
use super::ClientSlot;
use crate::stop::StopSignal;

/// The C1 client for one operation, with the budget it runs within.
pub(super) struct Bounded {
    pub(super) client: ConnectorClient,
    /// The budget's deadline and stop signal, for the resource's own waits between calls.
    pub(super) call: CallBudget,
    pub(super) operation: Operation,
    /// How long `operation` may take, as `timeouts` says (for errors that name it).
    pub(super) budget: Duration,
}

impl Bounded {
    /// The configured client for `operation`, within the budget `timeouts` gives it; the
    /// "not configured" error before the provider is.
    pub(super) fn new<O: OperationSet>(
        slot: &ClientSlot,
        stop: &StopSignal,
        timeouts: &Value<Timeouts<O>>,
        operation: Operation,
    ) -> Result<Self, ResourceError> {
        let budget = timeouts::budget(timeouts, operation);
        let call = CallBudget::new(budget, stop.token());
        Ok(Self {
            client: slot.get()?.within(call.clone()),
            call,
            operation,
            budget,
        })
    }

    /// The app operations of the same client and budget.
    pub(super) fn apps(&self) -> AppClient {
        self.client.apps()
    }
}
