resource "conductorone_integration_torq" "example" {
  app_id             = "2abcAPPID"
  user_ids           = ["2abcUSERID"]
  torq_client_id     = "c1-provisioning"
  torq_client_secret = var.torq_client_secret
  wait_for_sync      = true # apply only once C1 has synced with this key
}
