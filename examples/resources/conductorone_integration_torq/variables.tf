variable "torq_client_secret" {
  description = "Client secret of the Torq API key."
  type        = string
  sensitive   = true
}
