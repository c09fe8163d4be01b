//! Provider configuration that would be silently bent into something else (a path, query or
//! user-info in `server_url`, a URL in `tenant_domain`, a blank or control-character value in a
//! `CONDUCTORONE_*` variable) is refused once, at provider configuration, naming the attribute or
//! the variable it came from, before any request.

use crate::harness::*;

/// Three resources, so that an error reported per resource would show three times.
fn three_resources() -> String {
    [Kind::Twingate, Kind::Torq, Kind::Segment]
        .iter()
        .map(|k| resource_block(*k, "r", "app1", None, &kv(*k, 0)))
        .collect()
}

/// Plans `provider_block` + three resources with `env` added: the plan fails with exactly one
/// error, which contains every `expected` text and none of `absent`; the simulator saw nothing.
fn refused_once(name: &str, provider_block: &str, env: &[(&str, &str)], expected: &[&str]) -> Out {
    let sim = Sim::start(name);
    let creds = sim.mint();
    let mut tf = Tf::new(name, &sim, &creds);
    for (k, v) in env {
        tf.set_env(k, v);
    }
    // An empty block rather than none: without one, Terraform adds its own "requires explicit
    // configuration" error to any configuration error.
    let block = match provider_block {
        "" => provider(""),
        b => b.replace("SIM_URL", &sim.url),
    };
    tf.write_main(&config(&format!("{block}\n{}", three_resources())));
    let out = tf.plan();
    out.code(1);
    for e in expected {
        out.says(e);
    }
    let text = out.all();
    assert_eq!(
        text.matches("Error:").count(),
        1,
        "one error, not one per resource:\n{text}"
    );
    let log = sim.requests();
    assert_eq!(log.0.len(), 0, "{}", log.summary());
    out
}

fn provider(attrs: &str) -> String {
    format!("provider \"conductorone\" {{\n{attrs}\n}}\n")
}

#[test]
fn server_url_with_a_path_query_fragment_or_user_info_is_refused() {
    for (i, (suffix, what)) in [
        ("/x", "path"),
        ("/api/v1", "path"),
        ("/?tenant=x", "query"),
        ("/#top", "fragment"),
    ]
    .into_iter()
    .enumerate()
    {
        let out = refused_once(
            &format!("config-server-url-{i}"),
            &provider(&format!("  server_url = \"SIM_URL{suffix}\"")),
            &[],
            &[
                "`server_url`",
                what,
                "with provider[\"registry.terraform.io/conductorone/conductorone\"]",
            ],
        );
        if what == "path" {
            out.says("C1 serves the API at the tenant's root");
        }
        // The same through the environment: named by its variable.
        refused_once(
            &format!("config-server-url-env-{i}"),
            "",
            &[(SERVER_URL.env, &format!("SIM_URL{suffix}"))],
            &[SERVER_URL.env, what],
        );
    }
    refused_once(
        "config-server-url-userinfo",
        &provider("  server_url = \"http://someone:pw@127.0.0.1:9/\""),
        &[],
        &["`server_url`", "user information"],
    );
    // From the environment, where Terraform shows no source line: the value is not quoted.
    refused_once(
        "config-server-url-userinfo-env",
        "",
        &[(SERVER_URL.env, "http://someone:pw-Q91@127.0.0.1:9/")],
        &[SERVER_URL.env, "user information"],
    )
    .lacks("pw-Q91")
    .lacks("someone");
}

#[test]
fn tenant_domain_must_be_a_tenant_or_host_name() {
    for (i, bad) in [
        "evil.com/x",
        "https://acme.conductor.one",
        "acme:8443",
        "a@evil.com",
        "ac me",
    ]
    .into_iter()
    .enumerate()
    {
        let sim_less = provider(&format!("  tenant_domain = {}", hcl_str(bad)));
        let sim = Sim::start(&format!("config-tenant-{i}"));
        let creds = sim.mint();
        let mut tf = Tf::new(&format!("config-tenant-{i}"), &sim, &creds);
        tf.remove_env(SERVER_URL.env);
        tf.write_main(&config(&format!("{sim_less}\n{}", three_resources())));
        let out = tf.plan();
        out.code(1)
            .contains("`tenant_domain`")
            .contains("server_url");
        assert_eq!(out.all().matches("Error:").count(), 1, "{}", out.all());
    }
}

#[test]
fn blank_environment_variables_are_named_not_skipped() {
    // A blank server URL would fall back to the tenant in the client id.
    refused_once(
        "config-blank-server-url",
        "",
        &[(SERVER_URL.env, "   ")],
        &[SERVER_URL.env, "blank"],
    );
    refused_once(
        "config-blank-client-id",
        "",
        &[(CLIENT_ID.env, " \t ")],
        &[CLIENT_ID.env, "blank"],
    );
}

#[test]
fn control_characters_in_the_access_token_are_reported_once_naming_the_variable() {
    let out = refused_once(
        "config-token-crlf",
        "",
        &[(ENV_ACCESS_TOKEN, "tok-Q92\r\nX-Injected: 1")],
        &[ENV_ACCESS_TOKEN, "control characters"],
    );
    out.lacks("Q92").lacks("attribute");
    // In a provider attribute, the attribute is named.
    refused_once(
        "config-client-id-newline",
        &provider("  client_id = \"tf@acme.conductor.one/a\\nb\""),
        &[],
        &["`client_id`", "control characters"],
    );
}
