//! `c1-sim`: a local simulator of the ConductorOne (C1) connector API.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Parser as _;

use c1_sim::{Cli, Command, Server};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match cli.command {
        Command::Credentials(args) => {
            let (record, minted) = c1_sim::mint_credentials(&args.name, &args.tenant);
            c1_sim::append_to_clients_file(&args.clients, &record)?;
            println!("{}", serde_json::to_string(&minted)?);
            Ok(())
        }
        Command::Serve(args) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
            runtime.block_on(serve(*args))
        }
    }
}

async fn serve(args: c1_sim::ServeArgs) -> anyhow::Result<()> {
    let server = Server::start(args.to_options()).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", server.base_url())?;
        stdout.flush()?;
    }
    if let Some(path) = &args.addr_file {
        c1_sim::write_atomically(path, server.base_url().as_bytes())
            .with_context(|| format!("writing --addr-file {}", path.display()))?;
    }
    shutdown_signal().await;
    server.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
