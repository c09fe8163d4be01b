variable "segment_access_token" {
  description = "Segment workspace access token."
  type        = string
  sensitive   = true
}
