resource "conductorone_integration_segment" "example" {
  app_id               = "2abcAPPID"
  user_ids             = ["2abcUSERID"]
  segment_access_token = var.segment_access_token
  wait_for_sync        = true # apply only once C1 has synced with this token
}
