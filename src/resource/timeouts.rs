//! The `timeouts` block of every resource: how long each operation may take, retries and waits
//! included, in Terraform's duration syntax; the defaults; and the plan-time check.
//!
//! An absent block (every state the official provider wrote) or attribute means the default. A
//! resource whose every change replaces it has no `update` ([`CreateReadDelete`]), as Terraform
//! users know from other providers: the block then has no `update` attribute at all.

use std::marker::PhantomData;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock,
};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::error::diagnostic;

/// The block's name in the resource schema.
pub const BLOCK: &str = "timeouts";

/// An operation a timeout applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ];

    /// The attribute's name in the block.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The budget when none is configured: a create or an update may have to ride out a storm
    /// of C1 errors; a read runs for every resource on every plan.
    pub fn default_budget(self) -> Duration {
        match self {
            Operation::Create | Operation::Update | Operation::Delete => Duration::from_secs(600),
            Operation::Read => Duration::from_secs(300),
        }
    }
}

/// The operations a resource's `timeouts` block has: one attribute each.
pub trait OperationSet {
    const OPERATIONS: &'static [Operation];
}

/// A resource updated in place: `create`, `read`, `update`, `delete`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreateReadUpdateDelete;

impl OperationSet for CreateReadUpdateDelete {
    const OPERATIONS: &'static [Operation] = &Operation::ALL;
}

/// A resource every change of which replaces it: `create`, `read`, `delete` (no `update`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreateReadDelete;

impl OperationSet for CreateReadDelete {
    const OPERATIONS: &'static [Operation] =
        &[Operation::Create, Operation::Read, Operation::Delete];
}

/// The block's values, with an attribute for each operation of `O` (Terraform wants exactly
/// those: an `update` is neither read nor written where `O` has none). Terraform keeps the
/// block as a list of at most one element (see [`as_optional_block`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(bound = "")]
pub struct Timeouts<O: OperationSet = CreateReadUpdateDelete> {
    #[serde(default)]
    pub create: Value<String>,
    #[serde(default)]
    pub read: Value<String>,
    #[serde(default, skip_serializing_if = "has_no_update::<O>")]
    pub update: Value<String>,
    #[serde(default)]
    pub delete: Value<String>,
    #[serde(skip)]
    operations: PhantomData<O>,
}

fn has_no_update<O: OperationSet>(_: &Value<String>) -> bool {
    !O::OPERATIONS.contains(&Operation::Update)
}

impl<O: OperationSet> Default for Timeouts<O> {
    fn default() -> Self {
        Self {
            create: Value::Null,
            read: Value::Null,
            update: Value::Null,
            delete: Value::Null,
            operations: PhantomData,
        }
    }
}

impl<O: OperationSet> Timeouts<O> {
    fn value(&self, operation: Operation) -> &Value<String> {
        match operation {
            Operation::Create => &self.create,
            Operation::Read => &self.read,
            Operation::Update => &self.update,
            Operation::Delete => &self.delete,
        }
    }
}

/// The budget of `operation` given the resource's `timeouts` block (null, unknown or invalid
/// values mean the default: validation has reported invalid ones at plan time).
pub fn budget<O: OperationSet>(timeouts: &Value<Timeouts<O>>, operation: Operation) -> Duration {
    timeouts
        .as_ref_option()
        .and_then(|t| t.value(operation).as_ref_option())
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or_else(|| operation.default_budget())
}

/// The part of a create's budget kept for looking up, once the budget is nearly spent, a create
/// whose answer was lost: a quarter of it, at least half a second, at most 10 s.
pub fn lookup_reserve(create_budget: Duration) -> Duration {
    (create_budget / 4).clamp(Duration::from_millis(500), Duration::from_secs(10))
}

/// Reports each known value of the block that is not a positive Terraform duration, on its
/// attribute. The value itself is not repeated: it may come from a sensitive variable.
pub fn validate<O: OperationSet>(timeouts: &Value<Timeouts<O>>, diags: &mut Diagnostics) {
    let Some(block) = timeouts.as_ref_option() else {
        return;
    };
    for &operation in O::OPERATIONS {
        let Some(text) = block.value(operation).as_ref_option() else {
            continue;
        };
        if let Err(why) = parse_duration(text) {
            diags.add_error(diagnostic(
                format!("Invalid {BLOCK}.{}", operation.name()),
                format!(
                    "{why}. Use a number and a unit, e.g. \"30s\", \"5m\" or \"1h30m\" (units: ns, us, \
                     ms, s, m, h); unset, it is {}.",
                    format_duration(operation.default_budget())
                ),
                AttributePath::new(BLOCK).index(0).attribute(operation.name()),
            ));
        }
    }
}

/// The `timeouts` block of the resource schema: optional, at most once, an attribute for each
/// operation of `O`; `covers` says what an operation's budget covers on this resource (e.g.
/// "creating the app"), for the attribute's description.
pub fn block<O: OperationSet>(covers: impl Fn(Operation) -> &'static str) -> NestedBlock {
    let attributes = O::OPERATIONS
        .iter()
        .map(|&operation| {
            (
                operation.name().to_string(),
                Attribute {
                    attr_type: AttributeType::String,
                    description: Description::markdown(format!(
                        "Time budget for {}, as a Terraform duration (e.g. `\"30s\"`, `\"5m\"`, `\"1h30m\"`); default `{}`.",
                        covers(operation),
                        format_duration(operation.default_budget())
                    )),
                    constraint: AttributeConstraint::Optional,
                    sensitive: false,
                    deprecated: false,
                },
            )
        })
        .collect();
    NestedBlock::Optional(Block {
        version: 0,
        attributes,
        description: Description::markdown(
            "Time budgets of the operations on this resource. Calls to C1 that fail transiently \
             (throttling, unavailability, a lost connection) are retried with backoff until the \
             operation's budget runs out; an interrupt (Ctrl-C) ends them at once.",
        ),
        ..Default::default()
    })
}

/// Why a text is not a timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("the value is empty")]
    Empty,
    #[error("the value is not a duration")]
    Syntax,
    #[error("the duration must be longer than zero")]
    NotPositive,
    #[error("the duration is too long")]
    TooLong,
}

/// Parses Terraform's (Go's `time.ParseDuration`) duration syntax: a sequence of decimal numbers,
/// each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), e.g. `"300ms"`, `"1.5h"`, `"2h45m"`.
/// A timeout must be positive, so signs and a bare `"0"` are refused.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut rest = text;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or(DurationError::Syntax)?;
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(DurationError::Syntax),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(DurationError::Syntax);
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| DurationError::TooLong)?
        };
        let mut part = whole
            .checked_mul(nanos_per_unit)
            .ok_or(DurationError::TooLong)?;
        let mut scale = nanos_per_unit;
        for digit in fraction.chars().take(18) {
            scale /= 10;
            part += u128::from(digit.to_digit(10).unwrap_or(0)) * scale;
        }
        total_nanos = total_nanos
            .checked_add(part)
            .ok_or(DurationError::TooLong)?;
        rest = after;
    }
    if total_nanos == 0 {
        return Err(DurationError::NotPositive);
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| DurationError::TooLong)?;
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// A duration in Terraform's syntax, as the defaults are documented: `10m`, `1h30m`, `45s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Serde for an optional single block, which Terraform keeps as a list of at most one element:
/// `[]` (or null) reads as null and null is written as `[]`; an unknown list stays unknown.
pub mod as_optional_block {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tf_provider::value::Value;

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Value<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let list: Value<Vec<&T>> = match value {
            Value::Value(block) => Value::Value(vec![block]),
            Value::Null => Value::Value(vec![]),
            Value::Unknown => Value::Unknown,
        };
        list.serialize(serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Value<T>, D::Error> {
        match Value::<Vec<Value<T>>>::deserialize(deserializer)? {
            Value::Null => Ok(Value::Null),
            Value::Unknown => Ok(Value::Unknown),
            Value::Value(list) => {
                let mut items = list.into_iter();
                match (items.next(), items.next()) {
                    (None, _) => Ok(Value::Null),
                    (Some(block), None) => Ok(block),
                    (Some(_), Some(_)) => {
                        Err(D::Error::custom("the block may appear at most once"))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_durations_parse() {
        let ok = |s: &str| parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("2h45m10s"), Duration::from_secs(9910));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("300ms"), Duration::from_millis(300));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10\u{b5}s"), Duration::from_micros(10));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("1m0s"), Duration::from_secs(60));
        for bad in [
            "5",
            "5 m",
            " 5m",
            "5m ",
            "m",
            "5x",
            "5M",
            "1h-30m",
            "-5m",
            "+5m",
            "1..5s",
            ".s",
            "5mm",
            "1d",
            "five minutes",
        ] {
            assert_eq!(parse_duration(bad), Err(DurationError::Syntax), "{bad:?}");
        }
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("0s"), Err(DurationError::NotPositive));
        assert_eq!(parse_duration("0h0m"), Err(DurationError::NotPositive));
        assert_eq!(
            parse_duration("99999999999999999999999999999999999999999h"),
            Err(DurationError::TooLong)
        );
    }

    #[test]
    fn defaults_are_documented_in_terraform_syntax() {
        assert_eq!(format_duration(Operation::Create.default_budget()), "10m");
        assert_eq!(format_duration(Operation::Read.default_budget()), "5m");
        assert_eq!(format_duration(Duration::from_secs(5410)), "1h30m10s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        for operation in Operation::ALL {
            assert_eq!(
                parse_duration(&format_duration(operation.default_budget())),
                Ok(operation.default_budget())
            );
        }
    }

    #[test]
    fn budgets_come_from_the_block_or_the_defaults() {
        let block = Value::Value(Timeouts::<CreateReadUpdateDelete> {
            create: Value::Value("45s".into()),
            read: Value::Unknown,
            update: Value::Value("not a duration".into()),
            delete: Value::Null,
            ..Timeouts::default()
        });
        assert_eq!(budget(&block, Operation::Create), Duration::from_secs(45));
        for operation in [Operation::Read, Operation::Update, Operation::Delete] {
            assert_eq!(budget(&block, operation), operation.default_budget());
        }
        assert_eq!(
            budget(&Value::<Timeouts>::Null, Operation::Read),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn a_quarter_of_the_create_budget_is_kept_for_the_lookup_within_bounds() {
        assert_eq!(
            lookup_reserve(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(
            lookup_reserve(Duration::from_secs(20)),
            Duration::from_secs(5)
        );
        assert_eq!(
            lookup_reserve(Duration::from_secs(600)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn invalid_values_are_reported_on_their_attribute_without_the_value() {
        let block = Value::Value(Timeouts::<CreateReadUpdateDelete> {
            create: Value::Value("5 minutes".into()),
            read: Value::Value("0s".into()),
            update: Value::Value("1h".into()),
            delete: Value::Unknown,
            ..Timeouts::default()
        });
        let mut diags = Diagnostics::default();
        validate(&block, &mut diags);
        assert_eq!(diags.errors.len(), 2, "{:?}", diags.errors);
        let create = &diags.errors[0];
        assert_eq!(create.summary, "Invalid timeouts.create");
        assert!(!create.detail.contains("5 minutes"), "{}", create.detail);
        assert!(create.detail.contains("\"1h30m\""), "{}", create.detail);
        assert!(
            create.detail.ends_with("unset, it is 10m."),
            "{}",
            create.detail
        );
        assert_eq!(
            create.attribute,
            AttributePath::new("timeouts").index(0).attribute("create")
        );
        assert!(diags.errors[1]
            .detail
            .starts_with("the duration must be longer than zero"));
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(with = "as_optional_block", default)]
        timeouts: Value<Timeouts>,
    }

    #[test]
    fn the_block_is_a_list_of_at_most_one() {
        let absent: Holder = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.timeouts, Value::Null);
        assert_eq!(
            serde_json::to_string(&absent).unwrap(),
            r#"{"timeouts":[]}"#
        );
        let empty: Holder = serde_json::from_str(r#"{"timeouts":[]}"#).unwrap();
        assert_eq!(empty.timeouts, Value::Null);
        let null: Holder = serde_json::from_str(r#"{"timeouts":null}"#).unwrap();
        assert_eq!(null.timeouts, Value::Null);
        let one: Holder = serde_json::from_str(r#"{"timeouts":[{"create":"5m"}]}"#).unwrap();
        let Value::Value(t) = &one.timeouts else {
            panic!("{one:?}")
        };
        assert_eq!(t.create, Value::Value("5m".into()));
        assert_eq!(t.read, Value::Null);
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"timeouts":[{"create":"5m","read":null,"update":null,"delete":null}]}"#
        );
        assert!(serde_json::from_str::<Holder>(r#"{"timeouts":[{},{}]}"#).is_err());
        // Terraform's wire format (msgpack), unknown included.
        let unknown = Holder {
            timeouts: Value::Unknown,
        };
        let bytes = rmp_serde::to_vec_named(&unknown).unwrap();
        assert_eq!(rmp_serde::from_slice::<Holder>(&bytes).unwrap(), unknown);
        let bytes = rmp_serde::to_vec_named(&one).unwrap();
        assert_eq!(rmp_serde::from_slice::<Holder>(&bytes).unwrap(), one);
    }

    fn attribute_names(block: NestedBlock) -> (Vec<String>, Block) {
        let NestedBlock::Optional(block) = block else {
            panic!("an optional single block")
        };
        let mut names: Vec<_> = block.attributes.keys().cloned().collect();
        names.sort();
        (names, block)
    }

    #[test]
    fn the_schema_block_is_optional_and_has_the_four_operations() {
        let (names, block) =
            attribute_names(block::<CreateReadUpdateDelete>(|_| "creating the thing"));
        assert_eq!(names, ["create", "delete", "read", "update"]);
        let create = &block.attributes["create"].description.content;
        assert!(create.contains("default `10m`"), "{create}");
        assert!(
            create.contains("Time budget for creating the thing"),
            "{create}"
        );
        assert!(block.attributes["read"]
            .description
            .content
            .contains("default `5m`"));
    }

    #[test]
    fn a_resource_without_update_has_no_update_timeout() {
        let (names, _) = attribute_names(block::<CreateReadDelete>(|operation| {
            assert_ne!(operation, Operation::Update);
            "rotating"
        }));
        assert_eq!(names, ["create", "delete", "read"]);

        // Terraform's object has exactly the schema's attributes: no `update` is written.
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct NoUpdate {
            #[serde(with = "as_optional_block", default)]
            timeouts: Value<Timeouts<CreateReadDelete>>,
        }
        let one: NoUpdate = serde_json::from_str(r#"{"timeouts":[{"create":"5m"}]}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"timeouts":[{"create":"5m","read":null,"delete":null}]}"#
        );
        let bytes = rmp_serde::to_vec_named(&one).unwrap();
        assert_eq!(rmp_serde::from_slice::<NoUpdate>(&bytes).unwrap(), one);

        // Only its operations are judged and budgeted: a stray `update` (a hand-edited state)
        // is neither reported nor used.
        let block = Value::Value(Timeouts::<CreateReadDelete> {
            create: Value::Value("2s".into()),
            update: Value::Value("not a duration".into()),
            delete: Value::Value("soon".into()),
            ..Timeouts::default()
        });
        let mut diags = Diagnostics::default();
        validate(&block, &mut diags);
        let at: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            at,
            [AttributePath::new("timeouts").index(0).attribute("delete")]
        );
        assert_eq!(budget(&block, Operation::Create), Duration::from_secs(2));
    }
}
