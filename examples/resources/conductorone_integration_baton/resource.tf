# A self-hosted Segment connector: C1 holds no Segment secret. The connector (baton-segment)
# runs in your environment and authenticates with a conductorone_connector_credential.
resource "conductorone_integration_baton" "segment" {
  app_id   = "2abcAPPID"
  user_ids = ["2abcUSERID"]
}
