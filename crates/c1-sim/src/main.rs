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
        Command::OidcToken(args) => {
            let key = match &args.key_file {
                Some(path) => c1_sim::oidc_key_file(path)?,
                None => c1_sim::oidc_test_key(&args.issuer),
            };
            let claims = c1_sim::OidcTokenClaims {
                issuer: args.issuer,
                audience: args.audience,
                subject: args.subject,
                expires_in: args.expires_in,
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            println!("{}", c1_sim::mint_oidc_token(&claims, &key, now));
            Ok(())
        }
        Command::OidcJwks(args) => {
            let key = match (&args.key_file, &args.issuer) {
                (Some(path), _) => c1_sim::oidc_key_file(path)?,
                (None, Some(issuer)) => c1_sim::oidc_test_key(issuer),
                (None, None) => anyhow::bail!("give --issuer or --key-file"),
            };
            let jwks = c1_sim::Jwks {
                keys: vec![c1_sim::oidc_public_jwk(&key)],
            };
            println!("{}", serde_json::to_string_pretty(&jwks)?);
            Ok(())
        }
        Command::Serve(args) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
            runtime.block_on(serve(*args))
        }
    }
}

async fn serve(args: c1_sim::ServeArgs) -> anyhow::Result<()> {
    let options = c1_sim::ServeOptions {
        oidc_trusts: args.oidc_trusts()?,
        ..args.to_options()
    };
    let server = Server::start(options).await?;
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
