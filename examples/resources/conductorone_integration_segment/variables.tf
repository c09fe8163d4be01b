variable "segment_access_token" {
  description = "Segment Public API access token."
  type        = string
  sensitive   = true
}
