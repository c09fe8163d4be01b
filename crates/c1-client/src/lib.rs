//! Typed client for the ConductorOne (C1) connector API: configuration, auth, retries and HTTP.
