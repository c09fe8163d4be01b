# A configured Twingate integration.
resource "conductorone_integration_twingate" "example" {
  app_id          = "2abcAPPID"
  user_ids        = ["2abcUSERID"]
  twingate_apikey = var.twingate_api_key
  twingate_domain = "acme" # for acme.twingate.com

  # Wait for C1's first sync with these settings; a rejected key fails the apply.
  wait_for_sync = true
}

# A delegated one: no settings; the owners finish the setup in C1.
resource "conductorone_integration_twingate" "delegated" {
  app_id   = "2abcAPPID"
  user_ids = ["2abcUSERID"]
}
