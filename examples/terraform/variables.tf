variable "network_app_name" {
  description = "Name of the managed app made for the Twingate connector."
  type        = string
  default     = "Twingate"
}

variable "torq_app_name" {
  description = "Name of the app C1 discovered for Torq through the identity provider (SSO)."
  type        = string
  default     = "Torq"
}

variable "segment_app_name" {
  description = "Name of the existing app the Segment connector belongs to."
  type        = string
  default     = "Segment"
}

variable "integration_owners" {
  description = "C1 user ids that own the integrations (they are asked to fix a failing sync)."
  type        = list(string)
  default     = ["2Nq4bKuser0alice", "2Nq4bKuser1bob"]
}

variable "twingate_domain" {
  description = "Bare Twingate subdomain: `acme` for acme.twingate.com."
  type        = string
  default     = "acme"
}

# The secrets below have demo values so `make demo` runs unattended against the simulator.
# For a real tenant, pass them as TF_VAR_twingate_api_key etc. and never commit them.

variable "twingate_api_key" {
  description = "Twingate API key (read-only scope is enough)."
  type        = string
  sensitive   = true
  default     = "demo-twingate-api-key-0c1f9d"
}

variable "torq_client_id" {
  description = "Torq API client id."
  type        = string
  default     = "c1-provisioning"
}

variable "torq_client_secret" {
  description = "Torq API client secret."
  type        = string
  sensitive   = true
  default     = "demo-torq-client-secret-7ab2e4"
}

variable "segment_access_token" {
  description = "Segment workspace access token."
  type        = string
  sensitive   = true
  default     = "demo-segment-access-token-91d3aa"
}
