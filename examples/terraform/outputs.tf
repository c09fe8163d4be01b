output "apps" {
  description = "The app each integration is attached to: id, name, and whether it was made by hand."
  value = {
    for key, app in {
      network   = conductorone_app.network
      torq      = data.conductorone_app.torq
      analytics = data.conductorone_app.analytics
      } : key => {
      id                  = app.id
      display_name        = app.display_name
      is_manually_managed = app.is_manually_managed
    }
  }
}

output "twingate_connector" {
  description = "The Twingate connector: id, when C1 created it and how its last sync went."
  value = {
    id         = conductorone_integration_twingate.network.id
    app_id     = conductorone_integration_twingate.network.app_id
    created_at = conductorone_integration_twingate.network.created_at
    # Connector health as of the last refresh: "done" once C1 synced with the settings.
    sync_status = conductorone_integration_twingate.network.sync_status
  }
}

output "torq_connector" {
  description = "The Torq connector: id, when C1 created it and how its last sync went."
  value = {
    id         = conductorone_integration_torq.automation.id
    app_id     = conductorone_integration_torq.automation.app_id
    created_at = conductorone_integration_torq.automation.created_at
    # Connector health as of the last refresh: "done" once C1 synced with the settings.
    sync_status = conductorone_integration_torq.automation.sync_status
  }
}

output "segment_connector" {
  description = "The Segment connector: id, when C1 created it and how its last sync went."
  value = {
    id         = conductorone_integration_segment.analytics.id
    app_id     = conductorone_integration_segment.analytics.app_id
    created_at = conductorone_integration_segment.analytics.created_at
    # Connector health as of the last refresh: "done" once C1 synced with the settings.
    sync_status = conductorone_integration_segment.analytics.sync_status
  }
}
