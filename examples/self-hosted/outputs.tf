output "baton_connector_id" {
  description = "The Baton connector's id in C1."
  value       = conductorone_integration_baton.segment.id
}

# What the self-hosted connector needs (BATON_CLIENT_ID / BATON_CLIENT_SECRET). Both are
# sensitive: read them with `terraform output -raw baton_client_secret` where you deploy it.
output "baton_client_id" {
  description = "BATON_CLIENT_ID of the self-hosted connector."
  value       = conductorone_connector_credential.baton_segment.client_id
  sensitive   = true
}

output "baton_client_secret" {
  description = "BATON_CLIENT_SECRET of the self-hosted connector."
  value       = conductorone_connector_credential.baton_segment.client_secret
  sensitive   = true
}
