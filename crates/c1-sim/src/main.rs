//! `c1-sim`: a local simulator of the ConductorOne (C1) connector API.
fn main() {}
