//! The Terraform Registry's documentation (`docs/`), generated from the provider's own schema,
//! the templates in `templates/` and the examples in `examples/`; a test keeps the committed
//! pages equal to what this generates (`make docs` rewrites them).
//!
//! Layout and front matter are the registry's: `docs/index.md` for the provider,
//! `docs/resources/<name without the provider prefix>.md` per resource and
//! `docs/data-sources/<name>.md` per data source, each starting with `page_title`,
//! `subcategory` (resources, data sources) and `description`. A resource's page comes from
//! `templates/resources/<name>.md.tmpl` when there is one, else `templates/resource.md.tmpl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, NestedBlock};
use tf_provider::{Diagnostics, Provider};

use crate::config::{ATTRIBUTES, ENV_ACCESS_TOKEN};
use crate::provider::{ConductorOneProvider, PROVIDER_NAME, PROVIDER_VERSION};

/// Every page: path under the repository root -> Markdown.
pub fn pages(repo: &Path, namespace: &str) -> BTreeMap<PathBuf, String> {
    let provider = ConductorOneProvider::new();
    let mut diags = Diagnostics::default();
    let mut pages = BTreeMap::new();

    let schema = Provider::schema(&provider, &mut diags).expect("provider schema");
    let description = schema.block.description.content.clone();
    let mut environment = String::from("| variable | provider attribute |\n|---|---|\n");
    for attribute in ATTRIBUTES {
        for (i, env) in attribute.envs().enumerate() {
            let then = if i == 0 {
                ""
            } else {
                " (when the ones above are unset)"
            };
            environment.push_str(&format!("| `{env}` | `{}`{then} |\n", attribute.name));
        }
    }
    environment.push_str(&format!(
        "| `{ENV_ACCESS_TOKEN}` | (none: a ready bearer token, used instead of the client credentials) |"
    ));
    let series = PROVIDER_VERSION
        .rsplit_once('.')
        .map_or(PROVIDER_VERSION, |(series, _)| series);
    pages.insert(
        PathBuf::from("docs/index.md"),
        render(
            &read(repo, "templates/index.md.tmpl"),
            &[
                ("description", description.clone()),
                ("description_yaml", yaml_block(&description)),
                ("example", read(repo, "examples/provider/provider.tf")),
                ("namespace", namespace.to_string()),
                ("version_series", series.to_string()),
                ("access_token_env", format!("`{ENV_ACCESS_TOKEN}`")),
                ("environment", environment),
                ("schema", schema_section(&schema.block)),
            ],
        ),
    );

    let resources = Provider::get_resources(&provider, &mut diags).expect("resources");
    let generic = read(repo, "templates/resource.md.tmpl");
    for (name, resource) in resources {
        // A resource with more to say than the generic page has a template of its own.
        let own = format!("templates/resources/{name}.md.tmpl");
        let template = if repo.join(&own).exists() {
            read(repo, &own)
        } else {
            generic.clone()
        };
        let type_name = format!("{PROVIDER_NAME}_{name}");
        let schema = resource.schema(&mut diags).expect("resource schema");
        let description = schema.block.description.content.clone();
        let examples = format!("examples/resources/{type_name}");
        let import = read(repo, &format!("{examples}/import.sh"));
        assert!(
            import.contains(&format!("terraform import {type_name}.")),
            "{examples}/import.sh does not import a {type_name}"
        );
        pages.insert(
            PathBuf::from(format!("docs/resources/{name}.md")),
            render(
                &template,
                &[
                    ("type", type_name.clone()),
                    ("description", description.clone()),
                    ("description_yaml", yaml_block(&description)),
                    ("example", read(repo, &format!("{examples}/resource.tf"))),
                    ("schema", schema_section(&schema.block)),
                    ("import", import),
                ],
            ),
        );
    }

    let data_sources = Provider::get_data_sources(&provider, &mut diags).expect("data sources");
    let template = read(repo, "templates/data-source.md.tmpl");
    for (name, data_source) in data_sources {
        let type_name = format!("{PROVIDER_NAME}_{name}");
        let schema = data_source.schema(&mut diags).expect("data source schema");
        let description = schema.block.description.content.clone();
        pages.insert(
            PathBuf::from(format!("docs/data-sources/{name}.md")),
            render(
                &template,
                &[
                    ("type", type_name.clone()),
                    ("description", description.clone()),
                    ("description_yaml", yaml_block(&description)),
                    (
                        "example",
                        read(
                            repo,
                            &format!("examples/data-sources/{type_name}/data-source.tf"),
                        ),
                    ),
                    ("schema", schema_section(&schema.block)),
                ],
            ),
        );
    }
    assert!(diags.errors.is_empty(), "{:?}", diags.errors);
    pages
}

fn read(repo: &Path, path: &str) -> String {
    std::fs::read_to_string(repo.join(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim_end()
        .to_string()
}

/// Replaces each `{{key}}` of `template`; a placeholder left without a value is a mistake.
fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(at) = out.find("{{") {
        let end = out[at..].find("}}").map_or(out.len(), |e| at + e + 2);
        panic!("template placeholder {} has no value", &out[at..end]);
    }
    out.trim_end().to_string() + "\n"
}

/// Text as the body of a YAML `|-` block scalar (two spaces in front of every line).
fn yaml_block(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `## Schema` section: attributes grouped as Required, Optional, Read-Only, each with its
/// type and what Terraform does with it (optional ones that are computed when unset,
/// sensitive ones); nested blocks are listed with them and described in a section of their own.
fn schema_section(block: &Block) -> String {
    let mut out = String::from("## Schema\n");
    out.push_str(&members_section(block, "###"));
    let mut blocks: Vec<(&String, &NestedBlock)> = block.blocks.iter().collect();
    blocks.sort_by_key(|(name, _)| name.as_str());
    for (name, nested) in blocks {
        out.push_str(&format!(
            "\n<a id=\"nestedblock--{name}\"></a>\n### Nested Schema for `{name}`\n\n{}\n{}",
            nested_block(nested).1.description.content.trim(),
            members_section(nested_block(nested).1, "Attributes:").trim_end()
        ));
    }
    out.trim_end().to_string()
}

/// The attributes and nested blocks of `block`, grouped; `heading` is `###` for the resource's
/// own groups, or a plain label before a nested block's list.
fn members_section(block: &Block, heading: &str) -> String {
    let mut attributes: Vec<(&String, &Attribute)> = block.attributes.iter().collect();
    attributes.sort_by_key(|(name, _)| name.as_str());
    let mut blocks: Vec<(&String, &NestedBlock)> = block.blocks.iter().collect();
    blocks.sort_by_key(|(name, _)| name.as_str());
    let mut out = String::new();
    for (group, title) in ["Required", "Optional", "Read-Only"]
        .into_iter()
        .enumerate()
    {
        let mut members: Vec<String> = attributes
            .iter()
            .filter(|(_, a)| section(&a.constraint) == group)
            .map(|(name, a)| {
                let mut flags = vec![type_name(&a.attr_type)];
                if matches!(a.constraint, AttributeConstraint::OptionalComputed) {
                    flags.push("Computed when not set".into());
                }
                if a.sensitive {
                    flags.push("Sensitive".into());
                }
                if a.deprecated {
                    flags.push("Deprecated".into());
                }
                format!(
                    "- `{name}` ({}) {}",
                    flags.join(", "),
                    a.description.content.trim()
                )
            })
            .collect();
        for (name, nested) in &blocks {
            let (kind, inner, required) = nested_block(nested);
            if usize::from(!required) == group {
                let first = inner
                    .description
                    .content
                    .split(". ")
                    .next()
                    .unwrap_or_default();
                members.push(format!(
                    "- `{name}` ({kind}) {}. See [below for nested schema](#nestedblock--{name}).",
                    first.trim_end_matches('.')
                ));
            }
        }
        members.sort();
        if !members.is_empty() {
            if heading == "###" {
                out.push_str(&format!("\n### {title}\n\n{}\n", members.join("\n")));
            } else {
                out.push_str(&format!("\n{title}:\n\n{}\n", members.join("\n")));
            }
        }
    }
    out
}

/// A nested block's kind as the registry names it, its block, and whether it must be given.
fn nested_block(nested: &NestedBlock) -> (&'static str, &Block, bool) {
    match nested {
        NestedBlock::Single(b) => ("Block", b, true),
        NestedBlock::Optional(b) | NestedBlock::Group(b) => ("Block, Optional", b, false),
        NestedBlock::List(b) => ("Block List", b, false),
        NestedBlock::Set(b) => ("Block Set", b, false),
        NestedBlock::Map(b) => ("Block Map", b, false),
    }
}

/// The section an attribute is listed in: 0 Required, 1 Optional (also the optional ones that
/// are computed when unset), 2 Read-Only.
fn section(c: &AttributeConstraint) -> usize {
    match c {
        AttributeConstraint::Required => 0,
        AttributeConstraint::Optional | AttributeConstraint::OptionalComputed => 1,
        AttributeConstraint::Computed => 2,
    }
}

fn type_name(t: &AttributeType) -> String {
    match t {
        AttributeType::String => "String".into(),
        AttributeType::Number => "Number".into(),
        AttributeType::Bool => "Boolean".into(),
        AttributeType::List(inner) => format!("List of {}", type_name(inner)),
        AttributeType::Set(inner) => format!("Set of {}", type_name(inner)),
        AttributeType::Map(inner) => format!("Map of {}", type_name(inner)),
        AttributeType::Any => "Dynamic".into(),
        AttributeType::Object(_) | AttributeType::Tuple(_) => "Object".into(),
        AttributeType::AttributeSingle(_) => "Attributes".into(),
        AttributeType::AttributeList(_) => "Attributes List".into(),
        AttributeType::AttributeSet(_) => "Attributes Set".into(),
        AttributeType::AttributeMap(_) => "Attributes Map".into(),
    }
}

/// The registry namespace the docs install from: the Makefile's `REGISTRY_NAMESPACE` (exported
/// by `make`), else its default in the Makefile.
fn registry_namespace(repo: &Path) -> String {
    std::env::var("REGISTRY_NAMESPACE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            read(repo, "Makefile")
                .lines()
                .find_map(|l| l.strip_prefix("REGISTRY_NAMESPACE ?="))
                .map(|v| v.trim().to_string())
                .expect("the Makefile sets REGISTRY_NAMESPACE ?= <namespace>")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn committed_docs_match_the_schema_and_examples() {
        let pages = pages(repo(), &registry_namespace(repo()));
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let mut stale = Vec::new();
        for (path, text) in &pages {
            let file = repo().join(path);
            if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
                if update {
                    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                    std::fs::write(&file, text).unwrap();
                } else {
                    stale.push(path.display().to_string());
                }
            }
        }
        // A page of a resource or data source that no longer exists is stale too.
        for (folder, entry) in ["docs/resources", "docs/data-sources"]
            .into_iter()
            .flat_map(|folder| {
                std::fs::read_dir(repo().join(folder))
                    .into_iter()
                    .flatten()
                    .map(move |entry| (folder, entry))
            })
        {
            let path = Path::new(folder).join(entry.unwrap().file_name());
            if !pages.contains_key(&path) {
                if update {
                    std::fs::remove_file(repo().join(&path)).unwrap();
                } else {
                    stale.push(path.display().to_string());
                }
            }
        }
        assert!(
            stale.is_empty(),
            "stale registry docs {stale:?}: run `make docs` and commit the result"
        );
    }

    #[test]
    fn resource_pages_document_every_attribute_with_its_constraints() {
        let pages = pages(repo(), "example-namespace");
        let twingate = &pages[Path::new("docs/resources/integration_twingate.md")];
        assert!(twingate.starts_with(
            "---\npage_title: \"conductorone_integration_twingate Resource - conductorone\"\nsubcategory: \"Integrations\"\ndescription: |-\n  Connects Twingate to ConductorOne"
        ));
        for line in [
            "- `app_id` (String) Id of the C1 app",
            "- `user_ids` (List of String, Computed when not set) C1 user ids",
            "- `twingate_apikey` (String, Sensitive) API key of the Twingate network",
            "- `twingate_domain` (String) The network's bare subdomain",
            "- `id` (String) The connector's id in C1.",
        ] {
            assert!(twingate.contains(line), "{line:?} missing:\n{twingate}");
        }
        let sections: Vec<&str> = twingate.lines().filter(|l| l.starts_with("### ")).collect();
        assert_eq!(
            sections,
            [
                "### Required",
                "### Optional",
                "### Read-Only",
                "### Nested Schema for `timeouts`"
            ]
        );
        for line in [
            "- `timeouts` (Block, Optional) Time budgets of the operations on this resource. See [below for nested schema](#nestedblock--timeouts).",
            "- `create` (String) Time budget for creating the connector",
            "default `10m`",
            "- `read` (String) Time budget for reading the connector (refresh, import), as a Terraform duration",
        ] {
            assert!(twingate.contains(line), "{line:?} missing:\n{twingate}");
        }
        assert!(twingate.contains("terraform import conductorone_integration_twingate.example"));
        assert!(
            twingate.contains("twingate_domain = \"acme\""),
            "example usage"
        );

        let index = &pages[Path::new("docs/index.md")];
        assert!(index.contains("source  = \"example-namespace/conductorone\""));
        assert!(index.contains("registry.terraform.io/example-namespace/conductorone"));
        assert!(index.contains("- `client_secret` (String, Sensitive)"));
        assert!(index.contains("| `CONDUCTORONE_ACCESS_TOKEN` |"));
        assert_eq!(pages.len(), 8, "{:?}", pages.keys());
    }

    #[test]
    fn app_pages_say_how_lookups_and_destroys_behave() {
        let pages = pages(repo(), "example-namespace");
        let data = &pages[Path::new("docs/data-sources/app.md")];
        assert!(data.starts_with(
            "---\npage_title: \"conductorone_app Data Source - conductorone\"\nsubcategory: \"Apps\""
        ));
        for line in [
            "- `display_name` (String, Computed when not set) The app's display name, matched whole and case-insensitively.",
            "- `query` (String) A fuzzy search",
            "- `app_ids` (List of String) Only these apps",
            "- `only_directories` (Boolean)",
            "- `id` (String) The app's id in C1",
            "- `user_count` (Number)",
            "- `is_manually_managed` (Boolean)",
            "that finds no app or several is an error: it names the attribute",
            "display_name = \"Torq\"",
        ] {
            assert!(data.contains(line), "{line:?} missing:\n{data}");
        }
        let resource = &pages[Path::new("docs/resources/app.md")];
        for line in [
            "# conductorone_app (Resource)",
            "- `display_name` (String) The app's name in C1.",
            "- `description` (String)",
            "Connectors managed in the same configuration",
            "terraform import conductorone_app.example 2abcAPPID",
            "app_id               = conductorone_app.payroll.id",
        ] {
            assert!(resource.contains(line), "{line:?} missing:\n{resource}");
        }
    }
}
