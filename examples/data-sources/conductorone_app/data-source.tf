# The Torq app C1 discovered through the identity provider (SSO): found by its name, whatever
# its case. Finding none or several is an error that lists what C1 has.
data "conductorone_app" "torq" {
  display_name = "Torq"
}

# A fuzzy search over names and descriptions, narrowed to directories (identity providers).
data "conductorone_app" "idp" {
  query            = "okta"
  only_directories = true
}

resource "conductorone_integration_torq" "automation" {
  app_id             = data.conductorone_app.torq.id
  torq_client_id     = "c1-provisioning"
  torq_client_secret = var.torq_client_secret
}

variable "torq_client_secret" {
  description = "Client secret of the Torq API key."
  type        = string
  sensitive   = true
}
