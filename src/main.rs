//! `terraform-provider-conductorone`: the plugin binary Terraform starts.
//!
//! Terraform starts it without arguments and speaks the plugin protocol with it. Run by hand,
//! `--version` prints the provider's version (the Cargo package version) and exits.

use conductorone_provider::{
    ConductorOneProvider, GuardedProvider, PROVIDER_NAME, PROVIDER_VERSION,
};

const BINARY: &str = env!("CARGO_BIN_NAME");

fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-version" | "version") => {
            println!("{BINARY} {PROVIDER_VERSION}");
            return Ok(());
        }
        Some("--help" | "-help" | "-h") => {
            println!("{}", usage());
            return Ok(());
        }
        Some(other) => {
            eprintln!("{BINARY}: unknown argument {other:?}\n{}", usage());
            std::process::exit(2);
        }
    }
    // Before any thread exists: logging adjusts the environment it reads.
    conductorone_provider::init_logging();
    // tf-provider leaves Nagle's algorithm on for Terraform's connection: see plugin_nodelay.rs.
    conductorone_provider::install_plugin_nodelay();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            // Ctrl-C reaches the whole process group: stop what is under way, keep serving.
            conductorone_provider::stop_on_signals(conductorone_provider::stop_signal())?;
            // No panic reaches Terraform, no value reaches a decode error: see guard.rs.
            tf_provider::serve(
                PROVIDER_NAME,
                GuardedProvider::new(ConductorOneProvider::new()),
            )
            .await
        })
}

fn usage() -> String {
    format!(
        "{BINARY} {PROVIDER_VERSION}: the ConductorOne Terraform provider.\n\
         Terraform starts this plugin itself (install it with `terraform init`).\n\
         Usage: {BINARY} --version"
    )
}
