# A self-hosted Segment connector (C1 never holds the Segment token) and the credential it
# authenticates to C1 with. A change of rotation_triggers rotates the credential;
# create_before_destroy makes the new one exist (and reach the connector) before the old one
# is revoked.
resource "conductorone_integration_baton" "segment" {
  app_id = "2abcAPPID"
}

resource "conductorone_connector_credential" "segment" {
  app_id       = conductorone_integration_baton.segment.app_id
  connector_id = conductorone_integration_baton.segment.id

  rotation_triggers = {
    # e.g. time_rotating.baton_segment.id to rotate on a schedule (see below)
    rotation = var.credential_rotation
  }

  lifecycle {
    create_before_destroy = true
  }
}

output "baton_client_id" {
  value     = conductorone_connector_credential.segment.client_id
  sensitive = true
}

output "baton_client_secret" {
  value     = conductorone_connector_credential.segment.client_secret
  sensitive = true
}
