variable "enabled" {
  description = "Create the registry. DigitalOcean allows one registry per account: enable it in one environment only."
  type        = bool
  default     = true
}

variable "name" {
  description = "Registry name; images are then registry.digitalocean.com/<name>/<service>:<sha>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits or '-'."
  }
}

variable "subscription_tier" {
  description = "Subscription tier: starter (1 repository), basic (5) or professional (unlimited)."
  type        = string
  default     = "basic"

  validation {
    condition     = contains(["starter", "basic", "professional"], var.subscription_tier)
    error_message = "subscription_tier must be starter, basic or professional."
  }
}

variable "region" {
  description = "Region the registry stores images in (registries exist in a subset of regions, for example fra1)."
  type        = string
  default     = "fra1"

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a region slug such as fra1, ams3 or nyc3."
  }
}
