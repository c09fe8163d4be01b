//! Provider logging: `tracing` to stderr in the JSON line format Terraform's plugin log reader understands.
