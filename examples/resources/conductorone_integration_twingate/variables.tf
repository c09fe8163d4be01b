variable "twingate_api_key" {
  description = "API key of the Twingate network."
  type        = string
  sensitive   = true
}
