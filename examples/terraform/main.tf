# The three ConductorOne integrations this provider manages, configured as a team would.
# `make demo` applies this against the local simulator; point it at a real tenant by setting
# CONDUCTORONE_TENANT_DOMAIN (or CONDUCTORONE_SERVER_URL), CONDUCTORONE_CLIENT_ID and
# CONDUCTORONE_CLIENT_SECRET, and the app ids and secrets below (TF_VAR_...).

terraform {
  required_version = ">= 1.5"
  required_providers {
    conductorone = {
      # The official provider's address: this provider stands in for it from a mirror (`make demo`
      # sets up a filesystem mirror). From the registry it is "c1-community/conductorone".
      source  = "conductorone/conductorone"
      version = "~> 0.1"
    }
  }
}

# Server URL and credentials come from the CONDUCTORONE_* environment variables.
provider "conductorone" {}

# Twingate: the API key from Twingate's admin console, and the tenant's bare subdomain
# (`acme` for acme.twingate.com).
resource "conductorone_integration_twingate" "network" {
  app_id          = var.twingate_app_id
  user_ids        = var.integration_owners
  twingate_apikey = var.twingate_api_key
  twingate_domain = var.twingate_domain

  # Apply only once C1 has synced with these credentials: a rejected key fails the apply with
  # C1's error and what to check, instead of a green pipeline with a broken integration.
  wait_for_sync = true
}

# Torq: an API client (id and secret) created in Torq's account settings.
resource "conductorone_integration_torq" "automation" {
  app_id             = var.torq_app_id
  user_ids           = var.integration_owners
  torq_client_id     = var.torq_client_id
  torq_client_secret = var.torq_client_secret
  wait_for_sync      = true
}

# Segment: a workspace access token.
resource "conductorone_integration_segment" "analytics" {
  app_id               = var.segment_app_id
  user_ids             = var.integration_owners
  segment_access_token = var.segment_access_token
  wait_for_sync        = true
}
