# A self-hosted Segment connector: the connector (baton-segment) runs in your own environment
# with the Segment access token, and C1 never holds that token. Terraform makes the connector in
# C1 (a Baton integration) and the credential it authenticates with; the running connector gets
# the credential as BATON_CLIENT_ID / BATON_CLIENT_SECRET (the registry docs of
# conductorone_connector_credential show the Kubernetes wiring: a kubernetes_secret and a
# deployment of the connector image, rotated with time_rotating).
#
# This example uses only this provider, so it runs as is against the local simulator
# (the acceptance tests apply it); point it at a real tenant with the CONDUCTORONE_* variables.

terraform {
  required_version = ">= 1.5"
  required_providers {
    conductorone = {
      source  = "conductorone/conductorone"
      version = "~> 0.1"
    }
  }
}

provider "conductorone" {}

# The connector in C1: a connector of the Baton catalog entry in the Segment app, no settings.
resource "conductorone_integration_baton" "segment" {
  app_id = var.segment_app_id
}

# Its credential. Changing `credential_rotation` (or feeding a time_rotating's id into
# rotation_triggers) rotates it; create_before_destroy makes the new credential exist before
# the old one is revoked, so the running connector is never without a valid one.
resource "conductorone_connector_credential" "baton_segment" {
  app_id       = conductorone_integration_baton.segment.app_id
  connector_id = conductorone_integration_baton.segment.id

  rotation_triggers = {
    rotation = var.credential_rotation
  }

  lifecycle {
    create_before_destroy = true
  }
}
