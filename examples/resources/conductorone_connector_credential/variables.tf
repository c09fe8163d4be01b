variable "credential_rotation" {
  description = "Change this value to rotate the connector credential."
  type        = string
  default     = "1"
}
