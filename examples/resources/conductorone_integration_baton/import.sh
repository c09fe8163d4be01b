# Import id: <app_id>/<connector_id> (a connector of the Baton catalog entry).
terraform import conductorone_integration_baton.example 2abcAPPID/2defCONNECTORID
