//! `terraform-provider-conductorone`: the plugin binary Terraform starts.

use conductorone_provider::provider::{ConductorOneProvider, PROVIDER_NAME};

fn main() -> anyhow::Result<()> {
    // Before any thread exists: logging adjusts the environment it reads.
    conductorone_provider::logging::init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(tf_provider::serve(
            PROVIDER_NAME,
            ConductorOneProvider::new(),
        ))
}
