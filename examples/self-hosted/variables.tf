variable "segment_app_id" {
  description = "C1 app the self-hosted Segment connector belongs to."
  type        = string
  default     = "demo-segment"
}

variable "credential_rotation" {
  description = "Change this value to rotate the connector credential."
  type        = string
  default     = "1"
}
