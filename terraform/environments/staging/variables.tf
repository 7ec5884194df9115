# Only what differs per organisation and person lives here (set it in terraform.tfvars); sizes, counts and
# toggles are committed in main.tf. modules/shipyard-stack validates every value.

variable "project" {
  description = "Project name: prefixes every resource name (shop -> shop-staging-web-1)."
  type        = string
}

variable "region" {
  description = "DigitalOcean region slug for every resource of this environment."
  type        = string
  default     = "fra1"
}

variable "ssh_key_fingerprints" {
  description = "Fingerprints of SSH keys uploaded to DigitalOcean (doctl compute ssh-key list) for root access."
  type        = list(string)
}

variable "deploy_public_keys" {
  description = "OpenSSH public keys of the deploy user (the CI deploy key and your own)."
  type        = list(string)
}

variable "ssh_source_addresses" {
  description = "CIDRs allowed to reach SSH: office/VPN ranges and the CI runners that deploy."
  type        = list(string)
}

variable "alert_emails" {
  description = "E-mail addresses for CPU/memory/disk alerts; [] for none."
  type        = list(string)
  default     = []
}

variable "certificate_name" {
  description = "DigitalOcean certificate for HTTPS on the load balancer; null for HTTP only."
  type        = string
  default     = null
}

variable "create_registry" {
  description = "Create the account's container registry from this environment (one registry per account)."
  type        = bool
  default     = false
}

variable "registry_name" {
  description = "Container registry name (shipyard.yaml registry.namespace); null for the project name."
  type        = string
  default     = null
}
