# Credentials from the environment (CONDUCTORONE_CLIENT_ID, CONDUCTORONE_CLIENT_SECRET and
# CONDUCTORONE_TENANT_DOMAIN or CONDUCTORONE_SERVER_URL):
provider "conductorone" {}

# Or explicitly; attributes win over the environment.
provider "conductorone" {
  alias         = "explicit"
  tenant_domain = "acme" # https://acme.conductor.one
  client_id     = var.c1_client_id
  client_secret = var.c1_client_secret
}
