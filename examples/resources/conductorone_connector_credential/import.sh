# Import id: <app_id>/<connector_id>/<credential_id>. C1 returns a credential's secret only when
# it is made: after an import client_secret is null until the credential is rotated (a change
# of rotation_triggers, or terraform apply -replace=...).
terraform import conductorone_connector_credential.example 2abcAPPID/2defCONNECTORID/2ghiCREDENTIALID
