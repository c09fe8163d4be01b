variable "c1_client_id" {
  description = "Client id of a C1 API credential."
  type        = string
}

variable "c1_client_secret" {
  description = "Its client secret."
  type        = string
  sensitive   = true
}
