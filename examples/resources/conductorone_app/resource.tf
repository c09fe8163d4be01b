# A new managed app, and a connector attached to it: no id pasted by hand.
resource "conductorone_app" "payroll" {
  display_name = "Payroll"
  description  = "Payroll and its access reviews, managed by Terraform."
}

resource "conductorone_integration_segment" "payroll_events" {
  app_id               = conductorone_app.payroll.id
  segment_access_token = var.segment_access_token
}
