variable "name" {
  description = "Name of the VPC, unique in the account (for example shop-staging)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "DigitalOcean region slug, for example fra1; every resource joining the VPC must be in it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{3}[0-9]$", var.region))
    error_message = "region must be a region slug such as fra1, ams3 or nyc3."
  }
}

variable "ip_range" {
  description = "Private IPv4 range of the VPC in CIDR notation, /16 to /24, not overlapping other VPCs in the region."
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = can(cidrhost(var.ip_range, 0)) && tonumber(split("/", var.ip_range)[1]) >= 16 && tonumber(split("/", var.ip_range)[1]) <= 24
    error_message = "ip_range must be a CIDR between /16 and /24, for example 10.10.0.0/20."
  }

  validation {
    condition     = can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.ip_range))
    error_message = "ip_range must be a private (RFC 1918) range."
  }
}

variable "description" {
  description = "Free text shown in the DigitalOcean console."
  type        = string
  default     = "Managed by Terraform (Shipyard)"

  validation {
    condition     = length(var.description) <= 255
    error_message = "description must be at most 255 characters."
  }
}
