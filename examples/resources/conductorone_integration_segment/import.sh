# Import id: <app_id>/<connector_id>. Secrets are never returned by C1: they stay null in the
# state until you set them in the configuration (the next plan shows only those).
terraform import conductorone_integration_segment.example 2abcAPPID/2defCONNECTORID
